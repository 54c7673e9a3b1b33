/**
 * A small client of Capstan's HTTP API: JSON or YAML in, JSON out, errors as `ApiError` carrying the API's code,
 * status and field paths. It signs with SigV4 against AWS and sends a bearer token locally.
 *
 * Note: the CLI is a thin client: everything it knows about clusters comes from these calls, so it works the same
 * against `npm start` and against the deployed API.
 */
import type { Auth, ResolvedConfig } from './config.js';

/** One problem the API reported, located by a field path. */
export interface ApiIssue {
  readonly path: string;
  readonly message: string;
}

/** A non-2xx answer of the API. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: readonly ApiIssue[] = [],
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The endpoint could not be reached at all. */
export class ConnectionError extends Error {
  constructor(readonly endpoint: string, cause: unknown) {
    super(`cannot reach ${endpoint}: ${describeCause(cause)}`);
    this.name = 'ConnectionError';
  }
}

function describeCause(cause: unknown): string {
  const inner = (cause as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (inner?.code) return `${inner.code}${inner.code === 'ECONNREFUSED' ? ' (is the control plane running? `npm start`)' : ''}`;
  return cause instanceof Error ? cause.message : String(cause);
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** A string is sent as is (with `contentType`); anything else as JSON. */
  readonly body?: unknown;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ApiResponse<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

type Signer = (request: { method: string; url: URL; headers: Record<string, string>; body: string | undefined }) => Promise<Record<string, string>>;

async function sigv4Signer(auth: Extract<Auth, { kind: 'sigv4' }>): Promise<Signer> {
  const [{ SignatureV4 }, { Sha256 }, { fromNodeProviderChain }] = await Promise.all([
    import('@smithy/signature-v4'),
    import('@aws-crypto/sha256-js'),
    import('@aws-sdk/credential-providers'),
  ]);
  const signer = new SignatureV4({
    service: 'execute-api',
    region: auth.region,
    sha256: Sha256,
    credentials: fromNodeProviderChain(auth.profile ? { profile: auth.profile } : {}),
  });
  return async ({ method, url, headers, body }) => {
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => (query[key] = value));
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers: { ...headers, host: url.host },
      ...(body !== undefined ? { body } : {}),
    });
    return signed.headers;
  };
}

/** Calls the Capstan API. */
export class ApiClient {
  private signer: Promise<Signer> | undefined;

  constructor(readonly config: ResolvedConfig) {}

  /** Sends one request; resolves 2xx answers, rejects with ApiError or ConnectionError. */
  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = new URL(`${this.config.endpoint}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    let body: string | undefined;
    const headers: Record<string, string> = { accept: 'application/json', ...(options.headers ?? {}) };
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] = options.contentType ?? (typeof options.body === 'string' ? 'application/yaml' : 'application/json');
    }
    Object.assign(headers, await this.authHeaders(method, url, headers, body));
    let response: Response;
    try {
      response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (error) {
      throw new ConnectionError(this.config.endpoint, error);
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (a proxy's HTML page): kept as text
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string; details?: ApiIssue[] }; message?: string } | undefined)?.error;
      const message = error?.message ?? (parsed as { message?: string } | undefined)?.message ?? (typeof parsed === 'string' && parsed ? parsed.slice(0, 200) : response.statusText);
      throw new ApiError(response.status, error?.code ?? `HTTP${response.status}`, message, error?.details ?? [], response.headers.get('x-request-id') ?? undefined);
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  private async authHeaders(method: string, url: URL, headers: Record<string, string>, body: string | undefined): Promise<Record<string, string>> {
    const auth = this.config.auth;
    if (auth.kind === 'token') return { authorization: `Bearer ${auth.token}` };
    if (auth.kind === 'none') return {};
    this.signer ??= sigv4Signer(auth);
    return (await this.signer)({ method, url, headers, body });
  }

  /** Every event of a cluster after `after` (follows `next` cursors). */
  async events(cluster: string, after = 0): Promise<any[]> {
    const items: any[] = [];
    let cursor = after;
    for (;;) {
      const page = await this.request('GET', `/v1/clusters/${encodeURIComponent(cluster)}/events`, { query: { after: cursor, limit: 1000 } });
      items.push(...page.body.items);
      if (!page.body.next) return items;
      cursor = Number(page.body.next);
    }
  }

  /** Every cluster the caller may see (follows `next` cursors). */
  async clusters(): Promise<any[]> {
    const items: any[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.request('GET', '/v1/clusters', { query: { limit: 100, cursor } });
      items.push(...page.body.items);
      cursor = page.body.next;
    } while (cursor);
    return items;
  }
}

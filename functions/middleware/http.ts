/**
 * The middy stack every API handler runs in. Small single-purpose middlewares, in order:
 *   requestContext → authenticate → bodyLimit → (handler) → jsonResponse, with errorResponse on any failure.
 *
 * Note: authentication comes before the body limit, as API Gateway's IAM authorizer does: an anonymous caller
 * learns nothing about the route (not even the body limit) and gets 401.
 *
 * Note: internal errors never leak to callers: a CapstanError with a caller fault becomes its 4xx with every issue
 * listed; anything else becomes a 500 with a request id, and the details go to the log only.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { getDeps, type Deps } from '../adapters/deps.js';
import { CapstanError, PayloadTooLargeError, ValidationError } from '../domain/errors.js';
import type { Principal } from '../domain/ports.js';

/** What a route handler sees: the parsed request, the caller and the process's dependencies. */
export interface ApiRequest {
  readonly method: string;
  /** API Gateway resource pattern, e.g. `/v1/clusters/{name}`. */
  readonly resource: string;
  readonly path: string;
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  /** Body as text (strict UTF-8), or undefined. */
  readonly body: string | undefined;
  readonly requestId: string;
  /** The authenticated caller; undefined on public routes. */
  readonly principal: Principal | undefined;
}

/** What a route handler answers: status, JSON body (omitted for 204) and extra headers. */
export interface ApiResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A route: a plain async function of the request and the dependencies, so tests call it without HTTP. */
export type RouteHandler = (request: ApiRequest, deps: Deps) => Promise<ApiResponse>;

interface MiddyRequestState {
  event: APIGatewayProxyEvent;
  context: Context;
  response: APIGatewayProxyResult | null;
  error: unknown;
  internal: Record<string, unknown>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Exact byte length of the body API Gateway hands over (base64 or text).
 * Why exact: estimating base64 as 3/4 of its length over-counts up to 2 bytes, refusing a body of exactly the limit.
 */
export function bodyByteLength(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): number {
  if (!event.body) return 0;
  if (!event.isBase64Encoded) return Buffer.byteLength(event.body);
  const text = event.body.replace(/\s+/g, '');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.floor((text.length * 3) / 4) - padding;
}

/** Decodes a body as strict UTF-8 (invalid bytes → 400 naming `body`). */
export function decodeBody(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): string | undefined {
  if (event.body === null || event.body === undefined) return undefined;
  if (!event.isBase64Encoded) return event.body;
  try {
    return utf8.decode(Buffer.from(event.body, 'base64'));
  } catch {
    throw new ValidationError([{ path: 'body', message: 'must be valid UTF-8' }]);
  }
}

function lowerHeaders(headers: APIGatewayProxyEvent['headers'] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}

const LEADING_PATH = /^([A-Za-z][\w.[\]-]*): (.+)$/s;

/**
 * Every problem of an error, each with the field it is about. Errors that carry no issue list (401, 409, 412, 413,
 * 415, 429…) but whose message names a field (`content-type: must be …`) get that one issue, so a caller can always
 * read `details[].path`.
 */
export function errorDetails(error: CapstanError): { path: string; message: string }[] {
  if (error.details.length) return error.details.map((d) => ({ path: d.path, message: d.message }));
  const match = LEADING_PATH.exec(error.message);
  return match ? [{ path: match[1]!, message: match[2]! }] : [];
}

function errorBody(error: CapstanError) {
  return { error: { code: error.code, message: error.message, details: errorDetails(error) } };
}

/** Wraps a route handler into a Lambda handler for API Gateway proxy events. */
export function httpHandler(route: RouteHandler, options: { readonly auth?: boolean } = {}) {
  const auth = options.auth ?? true;
  const core = async (event: APIGatewayProxyEvent, context: Context & { capstan?: { request: ApiRequest; deps: Deps } }): Promise<APIGatewayProxyResult> => {
    const { request, deps } = context.capstan!;
    const response = await route(request, deps);
    return toResult(response, request.requestId);
  };
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(core as never).use({
    before: async (state: MiddyRequestState) => {
      const deps = await getDeps();
      const event = state.event;
      const headers = lowerHeaders(event.headers);
      const requestId = event.requestContext?.requestId ?? randomUUID();
      state.internal.requestId = requestId;
      const principal = auth ? await deps.authenticate(event) : undefined;
      const rawLength = bodyByteLength(event);
      if (rawLength > deps.settings.maxBodyBytes) throw new PayloadTooLargeError(deps.settings.maxBodyBytes, rawLength);
      const request: ApiRequest = {
        method: event.httpMethod.toUpperCase(),
        resource: event.resource,
        path: event.path,
        pathParameters: (event.pathParameters ?? {}) as Record<string, string>,
        query: (event.queryStringParameters ?? {}) as Record<string, string>,
        headers,
        body: decodeBody(event),
        requestId,
        principal,
      };
      (state.context as Context & { capstan?: unknown }).capstan = { request, deps };
    },
    onError: async (state: MiddyRequestState) => {
      const requestId = String(state.internal.requestId ?? state.event.requestContext?.requestId ?? randomUUID());
      const error = state.error;
      if (error instanceof CapstanError && error.fault === 'caller') {
        const headers = error.status === 429 ? { 'retry-after': '1' } : undefined;
        state.response = toResult({ status: error.status, body: errorBody(error), ...(headers ? { headers } : {}) }, requestId);
        return;
      }
      const deps = await getDeps().catch(() => undefined);
      deps?.log.error('request failed', { requestId, error, path: state.event.path, method: state.event.httpMethod });
      const status = error instanceof CapstanError && error.status === 503 ? 503 : 500;
      state.response = toResult(
        { status, body: { error: { code: status === 503 ? 'Unavailable' : 'InternalError', message: `internal error; request id ${requestId}`, details: [] } } },
        requestId,
      );
    },
  } as never);
}

function toResult(response: ApiResponse, requestId: string): APIGatewayProxyResult {
  const headers: Record<string, string> = { 'x-request-id': requestId, ...(response.headers ?? {}) };
  if (response.body === undefined) return { statusCode: response.status, headers, body: '' };
  headers['content-type'] ??= 'application/json';
  return { statusCode: response.status, headers, body: JSON.stringify(response.body) };
}

/**
 * What every command gets: its output sinks, the API client, the output format, the clock and exit codes.
 *
 * Note: nothing here reads `process.*` directly: `run(argv, io)` receives the process's streams and environment, so
 * tests run the CLI in-process with buffers and a temp CAPSTAN_HOME.
 */
import { ApiClient, ApiError, ConnectionError } from './client.js';
import { ConfigError, resolveConfig, type ConfigFlags, type Env } from './config.js';
import { painter, type OutputFormat, type Painter, type Sink } from './output.js';

/**
 * Exit codes of `capstan`. Scripts may rely on them.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success (`rollout status`: the rollout completed) |
 * | 1 | unexpected error, server error (5xx); `diff --exit-code`: there are differences |
 * | 2 | usage: unknown command or flag, unreadable file, bad configuration |
 * | 3 | the API refused the input (400, 413, 415, 422): field paths are printed |
 * | 4 | not found (404) |
 * | 5 | conflict (409) or stale resource version (412) |
 * | 6 | not authenticated or not allowed (401, 403) |
 * | 7 | the rollout is blocked (or paused) |
 * | 8 | timed out waiting |
 * | 9 | the endpoint cannot be reached |
 */
export const EXIT = {
  Ok: 0,
  Error: 1,
  Usage: 2,
  Invalid: 3,
  NotFound: 4,
  Conflict: 5,
  Unauthorized: 6,
  Blocked: 7,
  Timeout: 8,
  Unreachable: 9,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The process around the CLI, injected so tests can run it in-process. */
export interface CliIo {
  readonly stdout: Sink;
  readonly stderr: Sink;
  /** Read for `-f -`. */
  readonly stdin?: AsyncIterable<string | Buffer>;
  /** @default process.env */
  readonly env?: Env;
  /** @default process.cwd() */
  readonly cwd?: string;
  /** Poll interval of watching commands (`rollout status`, `delete --wait`, `get events -w`). @default 1000 */
  readonly pollMs?: number;
  /** The clock. @default () => new Date() */
  readonly now?: () => Date;
  /** Cancels watching commands (Ctrl-C). */
  readonly signal?: AbortSignal;
}

/** A failure the CLI reports with a chosen exit code and no stack. */
export class CliError extends Error {
  constructor(readonly exitCode: ExitCode, message: string, readonly hints: readonly string[] = []) {
    super(message);
    this.name = 'CliError';
  }
}

/** Global flags every command accepts. */
export interface GlobalFlags extends ConfigFlags {
  readonly output?: string;
  readonly color?: boolean;
}

/** The per-invocation context handed to commands. */
export class Context {
  readonly out: Sink;
  readonly err: Sink;
  readonly env: Env;
  readonly cwd: string;
  readonly pollMs: number;
  readonly paint: Painter;
  readonly errPaint: Painter;
  readonly format: OutputFormat;
  private apiClient: ApiClient | undefined;

  constructor(readonly io: CliIo, private readonly flags: GlobalFlags) {
    this.out = io.stdout;
    this.err = io.stderr;
    this.env = io.env ?? process.env;
    this.cwd = io.cwd ?? process.cwd();
    this.pollMs = io.pollMs ?? 1000;
    const output = flags.output ?? 'table';
    if (output !== 'table' && output !== 'json' && output !== 'yaml') throw new CliError(EXIT.Usage, `--output: must be table, json or yaml, got ${JSON.stringify(output)}`);
    this.format = output;
    const colour = flags.color !== false && !this.env.NO_COLOR && this.env.TERM !== 'dumb';
    this.paint = painter(colour && Boolean(io.stdout.isTTY));
    this.errPaint = painter(colour && Boolean(io.stderr.isTTY));
  }

  /** The API client (configuration is resolved on first use, so `--help` never needs a token). */
  get client(): ApiClient {
    if (!this.apiClient) {
      try {
        this.apiClient = new ApiClient(resolveConfig(this.flags, this.env, this.cwd));
      } catch (error) {
        if (error instanceof ConfigError) throw new CliError(EXIT.Usage, error.message);
        throw error;
      }
    }
    return this.apiClient;
  }

  now(): Date {
    return this.io.now ? this.io.now() : new Date();
  }

  /** Waits `ms` (or the poll interval); rejects with a CliError when the invocation is aborted. */
  async sleep(ms = this.pollMs): Promise<void> {
    if (this.io.signal?.aborted) throw new CliError(EXIT.Error, 'interrupted');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.io.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
    if (this.io.signal?.aborted) throw new CliError(EXIT.Error, 'interrupted');
  }

  /** Writes one line to stdout. */
  print(text = ''): void {
    this.out.write(`${text}\n`);
  }
}

/** Exit code of an API status. */
export function exitCodeOfStatus(status: number): ExitCode {
  if (status === 404) return EXIT.NotFound;
  if (status === 409 || status === 412) return EXIT.Conflict;
  if (status === 401 || status === 403) return EXIT.Unauthorized;
  if (status >= 400 && status < 500) return EXIT.Invalid;
  return EXIT.Error;
}

/**
 * Prints an error the way a person can act on it (the API's code, status and every field path) and returns the
 * exit code.
 */
export function reportError(ctx: Pick<Context, 'err' | 'errPaint'> & { readonly authHint?: string }, error: unknown, describePath: (path: string) => string = (p) => p): ExitCode {
  const paint = ctx.errPaint;
  const line = (text: string) => ctx.err.write(`${text}\n`);
  if (error instanceof ApiError) {
    const where = `${error.code}, HTTP ${error.status}${error.requestId && error.status >= 500 ? `, request ${error.requestId}` : ''}`;
    if (error.details.length) {
      // The API lists every problem with its field path; its message only joins them.
      const n = error.details.length;
      line(`${paint('red', 'error:')} the API refused the request with ${n} problem${n === 1 ? '' : 's'} ${paint('gray', `(${where})`)}`);
      for (const d of error.details) line(`  ${paint('bold', describePath(d.path))}: ${d.message}`);
    } else {
      line(`${paint('red', 'error:')} ${error.message} ${paint('gray', `(${where})`)}`);
    }
    if (error.status === 401 && ctx.authHint) line(`hint: ${ctx.authHint}`);
    return exitCodeOfStatus(error.status);
  }
  if (error instanceof ConnectionError) {
    line(`${paint('red', 'error:')} ${error.message}`);
    return EXIT.Unreachable;
  }
  if (error instanceof CliError) {
    line(`${paint('red', 'error:')} ${error.message}`);
    for (const hint of error.hints) line(`  ${hint}`);
    return error.exitCode;
  }
  line(`${paint('red', 'error:')} ${error instanceof Error ? error.message : String(error)}`);
  return EXIT.Error;
}

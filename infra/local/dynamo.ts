/**
 * The embedded DynamoDB of local mode and tests: dynalite in-process on a loopback port, with Capstan's table.
 *
 * Why dynalite: it starts in milliseconds inside the Node process, needs no Java, and runs the conditional writes,
 * update expressions and GSI queries the store relies on (see /work/shared/TOOLCHAIN.md). The same `ensureTable`
 * works against Amazon's DynamoDB Local (the store contract suite runs on both).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DescribeTableCommandOutput,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createTableInput, DEFAULT_TABLE_NAME } from '../../functions/adapters/store/table.js';

/**
 * dynalite 4.0.0 turns LevelDB iterators into streams and, when a stream ends or is destroyed, closes the iterator
 * with `iterator.return()`, which abstract-level 3 iterators do not have (they have `close()`). So every Query and
 * Scan left its iterator open; abstract-level keeps open iterators registered until the database closes, and an
 * open memory-level iterator pins the version of the tree it started on. The 30-minute soak measured it: +112 MiB of
 * heap (and far more in ArrayBuffers) over 10k requests, 18k iterators alive after 10 minutes (docs/reliability.md,
 * D11). Giving the iterator classes the `return()` dynalite calls fixes it for the in-memory and the on-disk store
 * alike. Applied once, to the abstract-level instance dynalite loads; a no-op if a later version has `return()`.
 */
export function closeDynaliteIterators(): void {
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const level = fromDynalite('abstract-level') as Record<string, { prototype: Record<string, unknown> } | undefined>;
  for (const name of ['AbstractIterator', 'AbstractKeyIterator', 'AbstractValueIterator']) {
    const proto = level[name]?.prototype;
    if (!proto || typeof proto.return === 'function') continue;
    Object.defineProperty(proto, 'return', {
      configurable: true,
      writable: true,
      value: async function (this: { close(): Promise<void> }) {
        await this.close();
        return { done: true, value: undefined };
      },
    });
  }
}

/** Options of `startLocalDynamo`. */
export interface LocalDynamoOptions {
  /** Directory of the on-disk LevelDB store, which survives restarts. @default in memory */
  readonly path?: string;
  /** Loopback port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Table to create when missing. @default DEFAULT_TABLE_NAME ("capstan") */
  readonly tableName?: string;
}

/** A running embedded DynamoDB with the table created. */
export interface LocalDynamo {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** A client for the endpoint (region `local`, dummy credentials). */
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Stops the server (and flushes the on-disk store) and destroys the client. */
  close(): Promise<void>;
}

/**
 * A DynamoDB client for a loopback emulator: region `local`, static dummy credentials (emulators accept any), and
 * two attempts so that a broken emulator fails a test in milliseconds instead of after the SDK's backoff.
 */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
  });
}

/** Starts dynalite on 127.0.0.1 and creates Capstan's table if it does not exist yet. */
export async function startLocalDynamo(options: LocalDynamoOptions = {}): Promise<LocalDynamo> {
  const tableName = options.tableName ?? DEFAULT_TABLE_NAME;
  closeDynaliteIterators();
  const server = dynalite({
    ...(options.path !== undefined ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoClient(endpoint);
  const drain = trackRequests(server);
  const close = async (): Promise<void> => {
    client.destroy();
    // dynalite closes its database when the server closes; a request whose body had already arrived would then run
    // against a closed database, and dynalite throws that error out of its callback: an uncaught exception that kills
    // the process hosting it. So refuse new requests first, let the started ones answer, then close.
    await drain(DRAIN_TIMEOUT_MS);
    await new Promise<void>((resolve, reject) => {
      server.close((error?: Error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
  };
  try {
    await ensureTable(client, tableName);
  } catch (error) {
    await close();
    throw error;
  }
  return { endpoint, client, tableName, close };
}

/** How long `close` waits for started requests to answer before it closes the database regardless. */
const DRAIN_TIMEOUT_MS = 5_000;

/**
 * Puts a gate in front of the server's request handler. The returned `drain` makes the gate answer every new request
 * with a retryable 503 (as DynamoDB does when it is unavailable) and resolves once each request already inside has
 * answered, or after `timeoutMs`. A request cut off before its body arrived never reaches dynalite's action, so it
 * stops counting when its connection closes.
 */
export function trackRequests(server: Server): (timeoutMs: number) => Promise<void> {
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  const inside = new Set<ServerResponse>();
  let closing = false;
  let onEmpty: (() => void) | undefined;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (closing) {
      res.writeHead(503, { 'content-type': 'application/x-amz-json-1.0', connection: 'close' });
      res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ServiceUnavailable', message: 'The table is shutting down' }));
      return;
    }
    inside.add(res);
    const out = (): void => {
      if (inside.delete(res) && inside.size === 0) onEmpty?.();
    };
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      out();
      return end(...args);
    }) as ServerResponse['end'];
    res.once('close', () => {
      if (!req.complete) out();
    });
    for (const handler of handlers) handler.call(server, req, res);
  });
  return async (timeoutMs) => {
    closing = true;
    if (inside.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      onEmpty = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  };
}

/**
 * Uses a DynamoDB-compatible endpoint that is already running (dynalite in another process, Amazon's DynamoDB Local)
 * instead of starting one: creates the table if missing. `close` only destroys the client; the server keeps running.
 * The endpoint must be on loopback: local mode has no business with a remote table (and the network guard refuses).
 */
export async function connectLocalDynamo(endpoint: string, options: { readonly tableName?: string } = {}): Promise<LocalDynamo> {
  const url = new URL(endpoint);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new Error(`CAPSTAN_DYNAMODB_ENDPOINT must be a loopback address (127.0.0.1, localhost or [::1]); got ${url.hostname}`);
  }
  const tableName = options.tableName ?? DEFAULT_TABLE_NAME;
  const client = localDynamoClient(endpoint);
  try {
    await ensureTable(client, tableName);
  } catch (error) {
    client.destroy();
    throw error;
  }
  return { endpoint, client, tableName, close: async () => client.destroy() };
}

/**
 * Creates the table (key schema and GSIs of table.ts) unless it exists, and waits until it and its indexes are
 * ACTIVE. Safe to call concurrently and on every start.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string, options: { readonly timeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  if (!(await describe(client, tableName))) {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
    }
  }
  for (;;) {
    const table = (await describe(client, tableName))?.Table;
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE');
    if (table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} is not ACTIVE after ${options.timeoutMs ?? 30_000} ms (status ${table?.TableStatus})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function describe(client: DynamoDBClient, tableName: string): Promise<DescribeTableCommandOutput | undefined> {
  try {
    return await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

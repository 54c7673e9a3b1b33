/**
 * `npm start`: the local control plane. Binds to 127.0.0.1 only; never calls AWS unless CAPSTAN_ENABLE_AWS=1.
 *
 * Environment: CAPSTAN_PORT (7070), CAPSTAN_HOME (./.capstan), CAPSTAN_TOKEN, CAPSTAN_RECONCILE_SECONDS (60),
 * CAPSTAN_LOCAL_BOOT_MS (2000), CAPSTAN_LOCAL_FAULTS (JSON), CAPSTAN_LOG_LEVEL (info), CAPSTAN_ENABLE_AWS.
 *
 * Ctrl-C (SIGINT) or SIGTERM, even mid-rollout: stops the executions (their machines keep running and are adopted on
 * the next start), closes the server and the table, and exits 0; 1 if closing failed or took over 20 s.
 */
import './quiet-warnings.js';
import { createLogger, type LogLevel } from '../../functions/adapters/logger.js';
import { installLoopbackGuard } from './network-guard.js';
import { silenceNodeVersionWarning } from './quiet-warnings.js';
import { startLocalStack } from './stack.js';

/**
 * How long Ctrl-C (SIGINT) or SIGTERM may take before the process exits anyway, with 1. Closing waits for the
 * workflow's phase handlers at most 10 s (LocalWorkflow.close), the server and the table take milliseconds.
 */
const SHUTDOWN_DEADLINE_MS = 20_000;

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`${name}: must be a non-negative integer, got ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  silenceNodeVersionWarning();
  const awsEnabled = process.env.CAPSTAN_ENABLE_AWS === '1';
  if (!awsEnabled) installLoopbackGuard();
  const log = createLogger({ level: (process.env.CAPSTAN_LOG_LEVEL as LogLevel | undefined) ?? 'info' });
  const stack = await startLocalStack({
    home: process.env.CAPSTAN_HOME ?? '.capstan',
    port: intEnv('CAPSTAN_PORT', 7070),
    ...(process.env.CAPSTAN_TOKEN ? { token: process.env.CAPSTAN_TOKEN } : {}),
    ...(process.env.CAPSTAN_DYNAMODB_ENDPOINT ? { dynamoEndpoint: process.env.CAPSTAN_DYNAMODB_ENDPOINT } : {}),
    reconcileSeconds: intEnv('CAPSTAN_RECONCILE_SECONDS', 60),
    logger: log,
  });
  process.stdout.write(
    [
      `Capstan control plane (local) listening on ${stack.url}`,
      `  token: ${stack.tokenPath ? `${stack.tokenPath} (export CAPSTAN_TOKEN=$(cat ${stack.tokenPath}))` : 'from CAPSTAN_TOKEN'}`,
      `  state: ${stack.home}${process.env.CAPSTAN_DYNAMODB_ENDPOINT ? ` (table at ${stack.dynamo.endpoint})` : ''}`,
      `  AWS: ${awsEnabled ? 'ENABLED (CAPSTAN_ENABLE_AWS=1)' : 'disabled: only loopback traffic; clusters with provider aws are stored but not provisioned'}`,
      `  try:  curl -s ${stack.url}/healthz`,
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down (machines keep running; they are re-adopted on the next start)', { signal });
    // Bounded: whatever still runs after the deadline (a stuck provider call) must not keep Ctrl-C from working.
    setTimeout(() => {
      log.error('shutdown did not finish in time; exiting', { seconds: SHUTDOWN_DEADLINE_MS / 1000 });
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    stack.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`capstan: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

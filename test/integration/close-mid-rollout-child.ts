/**
 * Child process of close-mid-rollout.test.ts: starts a local stack, brings a rollout to one moment (argv[2], a key of
 * MOMENTS), closes the stack there, listens one more second, and prints one JSON line (`CloseReport`).
 *
 * Its own process because Jest keeps `process` listeners of a test from ever seeing an unhandled rejection (it
 * catches them itself), while the point here is what a real process (the bench, `npm start`) sees.
 */
import { clusterDoc, startTestStack, waitFor, waitReady, type TestStack } from './harness.js';
import type { LocalStackOptions } from '../../infra/local/stack.js';

/** What the child prints. */
export interface CloseReport {
  readonly moment: string;
  /** Whether the cluster's execution was running when the close began. */
  readonly runningAtClose: boolean;
  readonly closeMs: number;
  /** `name: message` of every rejection nobody handled, from the start to one second after the close. */
  readonly unhandled: readonly string[];
  readonly runningAfter: boolean;
  /** Status of the cluster's last execution after the close. */
  readonly lastStatus: string | undefined;
}

const spec = { controlPlane: { replicas: 1 }, workers: [{ name: 'md-0', replicas: 3, rollout: { maxSurge: 2, maxUnavailable: 0 } }] };

const put = async (stack: TestStack) => {
  const res = await stack.call('PUT', '/v1/clusters/mid', clusterDoc('mid', spec));
  if (res.status !== 201) throw new Error(`PUT mid → ${res.status} ${JSON.stringify(res.body)}`);
};

/** Machines as the store has them (polling the API would race the close). */
const machines = (stack: TestStack) => stack.deps.store.listMachines('mid');

/** The moments of a rollout to close at: the stack's options, and how to get there. */
export const MOMENTS: Record<string, { options: LocalStackOptions; reach: (stack: TestStack) => Promise<void> }> = {
  // The provider call takes a while (as EC2's does under load): the step's handler is still running at the close.
  'a CreateMachine handler is still creating its machine': {
    options: {},
    async reach(stack) {
      let entered!: () => void;
      const inCreate = new Promise<void>((resolve) => (entered = resolve));
      const provider = stack.provider as unknown as { createMachine: (...args: unknown[]) => Promise<unknown> };
      const create = provider.createMachine.bind(provider);
      provider.createMachine = async (...args) => {
        entered();
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return create(...args);
      };
      await put(stack);
      await inCreate;
    },
  },
  'a CreateMachine step waits for its machine to boot': {
    options: { bootMs: 1500 },
    async reach(stack) {
      await put(stack);
      await waitFor(async () => (await machines(stack)).some((m) => m.pool === 'md-0' && m.phase !== 'Ready'), 30_000, 20);
    },
  },
  'an upgrade drains a machine while its replacements boot': {
    options: { bootMs: 1000, drainMsPerPod: 300 },
    async reach(stack) {
      await put(stack);
      await waitReady(stack, 'mid');
      const patch = await stack.call('PATCH', '/v1/clusters/mid', { spec: { version: 'v1.19.1' } }, { 'content-type': 'application/merge-patch+json' });
      if (patch.status !== 200) throw new Error(`PATCH mid → ${patch.status}`);
      await waitFor(async () => (await machines(stack)).some((m) => m.drainStartedAt && !m.deletedAt), 30_000, 20);
    },
  },
};

async function main(moment: string): Promise<void> {
  const at = MOMENTS[moment];
  if (!at) throw new Error(`moment: one of ${Object.keys(MOMENTS).join(' | ')}, got ${JSON.stringify(moment)}`);
  const unhandled: string[] = [];
  process.on('unhandledRejection', (reason) => unhandled.push(reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason)));
  const stack = await startTestStack(at.options);
  await at.reach(stack);
  const runningAtClose = stack.workflow.isRunning('mid');
  const started = Date.now();
  await stack.destroy();
  const closeMs = Date.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 1000)); // a late rejection surfaces within a tick or a timer
  const report: CloseReport = {
    moment,
    runningAtClose,
    closeMs,
    unhandled,
    runningAfter: stack.workflow.isRunning('mid'),
    lastStatus: stack.workflow.executions().at(-1)?.status,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (process.argv[2] !== undefined) {
  main(process.argv[2]).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`close-mid-rollout-child: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(2);
    },
  );
}

/**
 * Regression tests of the defects the chaos suites found (docs/reliability.md, "Defects found"): each case failed
 * before its fix and must keep passing.
 */
import { ConditionalCheckFailedException, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { clusterDoc, startTestStack, waitFor, type TestStack } from '../integration/harness.js';
import { allEvents, chaosRandom } from './lib.js';

/** Fails every DynamoDB call whose sort key matches `sk` with `make()` while `on()`. */
function failWrites(stack: TestStack, sk: RegExp, make: () => Error, on: () => boolean): void {
  stack.dynamo.client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { Item?: { SK?: { S?: string } }; Key?: { SK?: { S?: string } } };
      if (sk.test(input.Item?.SK?.S ?? input.Key?.SK?.S ?? '') && on()) throw make();
      return next(args);
    },
    { step: 'initialize', name: 'defectFaults' },
  );
}

const throttle = () => new ProvisionedThroughputExceededException({ message: 'injected', $metadata: {} });

/** A fault switch that is on for the first matching write only. */
function firstOnly(): () => boolean {
  let first = true;
  return () => {
    const now = first;
    first = false;
    return now;
  };
}

describe('D1 functions/api/lib/cluster-writes.ts: a write whose event append fails loses the event', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => stack?.destroy());

  it('records ClusterCreated even when the first attempt was throttled after the record write', async () => {
    failWrites(stack, /^EVENTID#ClusterCreated/, throttle, firstOnly());
    const first = await stack.call('PUT', '/v1/clusters/d1', clusterDoc('d1', { paused: true }));
    expect(first.status).toBe(429); // told to retry, yet the record is written
    const retry = await stack.call('PUT', '/v1/clusters/d1', clusterDoc('d1', { paused: true }));
    expect([200, 201]).toContain(retry.status);
    // D1: the retry answered "unchanged" and the event was never written; now the plan's first look records it.
    const events = await waitFor(async () => {
      const all = await allEvents(stack.call, 'd1');
      return all.some((e) => e.type === 'ClusterCreated') ? all : undefined;
    }, 15_000);
    expect(events.filter((e) => e.type === 'ClusterCreated')).toHaveLength(1);
  });
});

describe('D2 functions/adapters/store + middleware: a condition failure on an event-id claim is a 500', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => stack?.destroy());

  it('answers a retryable 4xx/503, not 500, when appendEvents loses its claim', async () => {
    failWrites(stack, /^EVENTID#/, () => new ConditionalCheckFailedException({ message: 'injected', $metadata: {} }), firstOnly());
    const r = await stack.call('PUT', '/v1/clusters/d2', clusterDoc('d2', { paused: true }));
    expect(r.status).toBeLessThan(500); // D2: StoreConflictError "claim vanished" was a 500
  });
});

describe('D3-D7 phases and callbacks: record-then-event steps lose events and stall under store throttling', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ bootMs: 150, drainMsPerPod: 10, reconcileSeconds: 2, settings: { pollSeconds: 1 } });
  });
  afterAll(async () => stack?.destroy());

  it('keeps a complete event log and converges within a minute when event appends are throttled', async () => {
    const random = chaosRandom('defect-events');
    let on = true;
    failWrites(stack, /^EVENT/, throttle, () => on && random() < 0.15);
    const spec = { controlPlane: { replicas: 3 }, workers: [{ name: 'md-0', replicas: 2 }] };
    for (let i = 0; i < 20 && (await stack.call('PUT', '/v1/clusters/d3', clusterDoc('d3', spec))).status === 429; i++);
    // D3/D4: a Ready callback whose sendTaskSuccess never happened left CreateMachine waiting for the full
    // nodeStartupTimeout (10 min by default).
    await waitFor(async () => {
      const c = (await stack.call('GET', '/v1/clusters/d3')).body;
      return c?.status?.phase === 'Ready' || undefined;
    }, 60_000, 250);
    on = false;
    const events = await allEvents(stack.call, 'd3');
    const all = (await stack.call('GET', '/v1/clusters/d3/machines?includeDeleted=true')).body.items as any[];
    const of = (type: string) => new Set(events.filter((e) => e.type === type).map((e) => e.machine));
    // D5, D6, D7: machines were created/Ready/deleted without their MachineCreated/MachineReady/MachineDeleted event.
    expect(all.filter((m) => m.providerId && !of('MachineCreated').has(m.name)).map((m) => m.name)).toEqual([]);
    expect(all.filter((m) => m.readyAt && !of('MachineReady').has(m.name)).map((m) => m.name)).toEqual([]);
    expect(all.filter((m) => m.phase === 'Deleted' && !of('MachineDeleted').has(m.name) && !of('MachineMissing').has(m.name)).map((m) => m.name)).toEqual([]);
  }, 120_000);
});

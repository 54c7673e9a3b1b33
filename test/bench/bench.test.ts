/**
 * `npm run bench --quick`, in-process: every benchmark still runs and prints every figure with its bound and
 * ratio. Checks the output's shape (names, units, bounds, finite numbers), never a speed. Then what keeps one failing
 * or hanging benchmark from ending the run (issue 16), with stand-in groups and rollout cases.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCHMARKS, GROUPS, parseArgs, resultLine, rolloutFigures, runBenchmarks, type BenchGroup, type BenchResults, type GroupContext } from '../../bench/run.js';
import { guard, isFailed } from '../../bench/figure-guard.js';
import { figure, formatFigure, median, percentile } from '../../bench/lib/figure.js';
import { caseLabel, rolloutCases, type RolloutCase, type RolloutRun } from '../../bench/rollout.js';
import { openLocalStacks, startLocalStack } from '../../infra/local/stack.js';
import { awsHistoryEvents, largestSafePool, worstExecutionEvents } from '../../bench/history.js';
import { coveredMs } from '../../bench/lib/instrument.js';

/** Figure name patterns and units each benchmark must print. */
const EXPECTED: readonly [string, RegExp, string][] = [
  ['peer ratios', /^rollout\.peer\.(kops|eks|capi)\./, 'ms'],
  ['rollout overhead', /^rollout\.overhead\.\d+\+\d+\.boot[\d.]+s$/, '× bound'],
  ['transitions per machine', /^cost\.transitionsPerMachine\./, 'transitions'],
  ['invocations per machine', /^cost\.invocationsPerMachine$/, 'invocations'],
  ['provider calls per machine', /^cost\.providerCallsPerMachine$/, 'calls'],
  ['read units per machine', /^cost\.dynamoReadUnitsPerMachine\./, 'RRU'],
  ['write units per machine', /^cost\.dynamoWriteUnitsPerMachine\./, 'WRU'],
  ['idle monthly cost', /^cost\.idle100\.monthly$/, 'USD/month'],
  ['fleet monthly cost', /^cost\.fleet100\.monthly$/, 'USD/month'],
  ['create latency', /^latency\.putToFirstMachineCreated$/, 'ms'],
  ['repair latency', /^latency\.deathToReplacementCreated$/, 'ms'],
  ['sweep list calls', /^sweep\.providerListCalls\./, 'calls'],
  ['sweep node checks', /^sweep\.nodeChecks\./, 'calls'],
  ['sweep store reads', /^sweep\.storeReads\./, 'reads'],
  ['sweep heap', /^sweep\.peakHeap\./, 'MiB'],
  ['sweep time', /^sweep\.time\./, 'ms'],
  ['api throughput', /^api\.(get|put)\.c(1|8|64)\.throughput$/, 'req/s'],
  ['api p50', /^api\.(get|put)\.c(1|8|64)\.p50$/, 'ms'],
  ['api p99', /^api\.(get|put)\.c(1|8|64)\.p99$/, 'ms'],
  ['history events per iteration', /^history\.eventsPerIteration$/, 'events'],
  ['history events per intent', /^history\.eventsPerIntent$/, 'events'],
  ['largest pool', /^history\.maxPool\./, 'machines'],
  ['widest wave', /^history\.maxWaveWidth\./, 'intents'],
  ['built CLI start-up', /^cli\.startup\.built$/, 'ms'],
  ['CLI start-up through tsx', /^cli\.startup\.source$/, 'ms'],
];

describe('runBenchmarks', () => {
  let results: BenchResults;

  // The quick bench takes ~30 s alone; on a loaded 2-core machine it took over 120 s, and a hook that times out leaves
  // its local stacks running into the next suite of the worker. Room enough that it never does.
  beforeAll(async () => {
    // Every group but the cold starts, whose bundles test/infra/bundles.test.ts builds for real (it is the slowest
    // quick group: esbuild of a provider bundle), to keep the suite's time down.
    results = await runBenchmarks({ quick: true, only: BENCHMARKS.filter((b) => b !== 'cold') });
  }, 360_000);

  it.each(EXPECTED)('prints the %s figure with its unit', (_what, pattern, unit) => {
    // Act
    const found = results.figures.filter((f) => pattern.test(f.name));

    // Assess
    expect(found.length).toBeGreaterThan(0);
    for (const f of found) expect(f.unit).toBe(unit);
  });

  it('prints both operations at 1, 8 and 64 clients', () => {
    const names = new Set(results.figures.map((f) => f.name));
    for (const op of ['get', 'put']) for (const c of [1, 8, 64]) expect(names.has(`api.${op}.c${c}.throughput`)).toBe(true);
  });

  it('gives every figure a finite value, a positive bound, a ratio of the two and a labelled bound kind', () => {
    for (const f of results.figures) {
      expect({ name: f.name, finite: [f.value, f.bound, f.ratio].every(Number.isFinite) }).toEqual({ name: f.name, finite: true });
      expect(f.bound).toBeGreaterThan(0);
      expect(f.ratio).toBeCloseTo(f.value / f.bound, 9);
      expect(['max', 'min', 'baseline']).toContain(f.boundKind);
      expect(f.boundLabel.length).toBeGreaterThan(0);
    }
  });

  it('prints one `name: value unit (bound, ratio)` line per figure, with unique names', () => {
    const lines = results.figures.map(formatFigure);
    expect(new Set(results.figures.map((f) => f.name)).size).toBe(results.figures.length);
    expect(results.failures).toEqual([]);
    for (const line of lines) expect(line).toMatch(/^[\w.+-]+: -?[\d.,e+-]+ .+ \((≤ |≥ )?[\d.,e+-]+ .+, ratio [\d.,e+-]+\)( !)?$/);
  });

  it('records the run: quick flag, machine, duration', () => {
    expect(results.quick).toBe(true);
    expect(results.machine.cpus).toBeGreaterThan(0);
    expect(results.durationSeconds).toBeGreaterThan(0);
  });
});

describe('parseArgs', () => {
  it.each([
    [['--quick'], { quick: true }],
    [[], { quick: false }],
    [['--only', 'api,sweep', '--out', '/tmp/x.json'], { quick: false, only: ['api', 'sweep'], out: '/tmp/x.json' }],
    [['--timeout-seconds', '90'], { quick: false, timeoutSeconds: 90 }],
  ])('parses %j', (argv, expected) => {
    expect(parseArgs(argv)).toEqual(expected);
  });

  it('fails when --only names an unknown benchmark', () => {
    expect(() => parseArgs(['--only', 'rollout,nope'])).toThrow(/unknown benchmark "nope"; known: rollout, cost/);
  });

  it.each([['0'], ['ten'], ['-5']])('fails when --timeout-seconds is %s', (value) => {
    expect(() => parseArgs(['--timeout-seconds', value])).toThrow(`--timeout-seconds: must be a positive number of seconds, got "${value}"`);
  });

  it('knows eight benchmark groups', () => {
    expect(BENCHMARKS).toEqual(['rollout', 'cost', 'latency', 'sweep', 'api', 'history', 'cli', 'cold']);
  });
});

describe('bench helpers', () => {
  it.each([
    ['max met', figure('a', 1, 'x', 2, 'max', 'b'), true, 0.5],
    ['max missed', figure('a', 3, 'x', 2, 'max', 'b'), false, 1.5],
    ['min met', figure('a', 3, 'x', 2, 'min', 'b'), true, 1.5],
    ['baseline', figure('a', 9, 'x', 3, 'baseline', 'b'), true, 3],
  ])('figure: %s', (_name, f, ok, ratio) => {
    expect(f.ok).toBe(ok);
    expect(f.ratio).toBe(ratio);
  });

  it('computes median and nearest-rank percentiles', () => {
    expect(median([3, 1, 2, 10])).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
  });

  it('merges overlapping provider intervals and clips them to the window', () => {
    expect(coveredMs([{ start: 0, end: 10 }, { start: 5, end: 15 }, { start: 20, end: 30 }], 2, 25)).toBe(18);
  });

  it.each([
    ['a Lambda task entered', { type: 'StateEntered', timestamp: 0, state: { name: 'Plan', type: 'Task' } }, 3],
    ['a task-token task entered', { type: 'StateEntered', timestamp: 0, state: { name: 'CreateMachine', type: 'Task' } }, 4],
    ['a Map exited', { type: 'StateExited', timestamp: 0, state: { name: 'Act', type: 'Map' } }, 2],
    ['a Choice entered', { type: 'StateEntered', timestamp: 0, state: { name: 'Decide', type: 'Choice' } }, 1],
    ['a retry', { type: 'StateRetried', timestamp: 0, state: { name: 'RetireMachine', type: 'Task' } }, 3],
  ])('maps %s to its AWS history events', (_name, event, n) => {
    expect(awsHistoryEvents(event)).toBe(n);
  });

  it.each([
    [10, 1],
    [1000, 1],
    [1000, 10],
    [1200, 10],
    [20_000, 235],
    [20_000, 20_000],
  ])('keeps every execution of a %i-machine pool at maxSurge %i under the limit (hand-over on the event budget)', (n, s) => {
    expect(worstExecutionEvents(n, s, 11, 10, 500)).toBeLessThanOrEqual(25_000);
  });

  it('rolls any pool size while real costs stay under the worst-case estimate, and finds the limit when they do not', () => {
    expect(largestSafePool(11, 10, 500)).toBe(100_000);
    expect(largestSafePool(11, 400, 100_000)).toBeLessThan(100_000);
  });
});

describe('runBenchmarks when a benchmark fails', () => {
  const ok = figure('x.y', 1, 'ms', 2, 'max', 'bound');
  const closed = () => Object.assign(new Error('local workflow closed'), { name: 'States.Runtime' });

  it('records a group that throws, or hangs past its limit, as a failed figure with its cause and runs the next', async () => {
    // Prepare
    const groups: BenchGroup[] = [
      { name: 'throws', run: async () => Promise.reject(closed()) },
      { name: 'hangs', run: () => new Promise(() => undefined) },
      { name: 'works', run: async () => [ok] },
    ];

    // Act
    const results = await runBenchmarks({ quick: true, groups, timeoutSeconds: 0.2 });

    // Assess
    expect(results.figures.map((f) => [f.name, isFailed(f)])).toEqual([['throws', true], ['hangs', true], ['x.y', false]]);
    expect(results.failures).toEqual([
      { benchmark: 'throws', cause: 'States.Runtime: local workflow closed' },
      { benchmark: 'hangs', cause: 'BenchTimeoutError: hangs: no result after 0.2 s (the limit; --timeout-seconds raises it)' },
    ]);
  });

  it('fails the groups computed from the rollouts, saying why, when every rollout case failed', async () => {
    // Prepare
    const groups: BenchGroup[] = [
      { name: 'rollout', limitsItsCases: true, run: async () => Promise.reject(new Error('boom')) },
      { name: 'cost', needsRollouts: true, run: async () => [ok] },
    ];

    // Act
    const results = await runBenchmarks({ quick: true, groups, only: ['cost'] });

    // Assess
    expect(results.failures).toEqual([
      { benchmark: 'rollout', cause: 'Error: boom' },
      { benchmark: 'cost', cause: 'Error: no rollout run to compute from (see the failed rollout figures)' },
    ]);
  });

  it('stores a failed figure as one that has no value and is not met, and prints it as FAILED with its cause', async () => {
    const { failures, figures } = await runBenchmarks({ quick: true, groups: [{ name: 'throws', run: async () => Promise.reject(closed()) }] });

    expect(JSON.parse(JSON.stringify(figures[0]))).toMatchObject({ name: 'throws', value: null, ok: false, failed: true, cause: failures[0]!.cause });
    expect(resultLine(figures[0]!)).toBe('throws: FAILED (States.Runtime: local workflow closed)');
    expect(resultLine(ok)).toBe(formatFigure(ok));
  });

  it('reports each rollout case on its own: a failed case is one failed figure, the others count and feed the next groups', async () => {
    // Prepare
    const context: GroupContext = { bench: { quick: false }, selected: new Set(['rollout']), timeoutMs: 200, runs: [] };
    const cases = rolloutCases(false).map(caseLabel);
    const [throws, hangs] = [cases[1]!, cases.at(-1)!];
    const runCase = async (c: RolloutCase) => {
      if (caseLabel(c) === throws) throw closed();
      if (caseLabel(c) === hangs) return new Promise<RolloutRun>(() => undefined);
      return { label: caseLabel(c) } as RolloutRun;
    };
    const figuresOf = (runs: readonly RolloutRun[]) => runs.map((r) => figure(`rollout.overhead.${r.label}`, 1, '× bound', 1.05, 'max', 'target'));

    // Act
    const figures = await rolloutFigures(context, { runCase, figuresOf });

    // Assess
    const expected = cases.map((c) => `rollout.overhead.${c}${c === throws ? ': States.Runtime' : c === hangs ? ': BenchTimeoutError' : ''}`);
    expect(figures.map((f) => (isFailed(f) ? `${f.name}: ${f.cause.split(':')[0]}` : f.name))).toEqual(expected);
    expect(context.runs.map((r) => r.label)).toEqual(cases.filter((c) => c !== throws && c !== hangs));
  });

  it('fills the runs the next groups compute from with the cases that succeeded', async () => {
    const context: GroupContext = { bench: { quick: true }, selected: new Set(['cost']), timeoutMs: 1000, runs: [] };
    const run = { label: 'template' } as unknown as RolloutRun;

    const figures = await rolloutFigures(context, { runCase: async () => run, figuresOf: () => [figure('unexpected', 1, 'x', 1, 'max', 'b')] });

    expect(figures).toEqual([]); // the template upgrade of dependants yields no figure 1 unless it fails
    expect(context.runs).toEqual([run]);
  });

  it('closes the local stack a figure left running when it timed out', async () => {
    // Prepare
    const home = mkdtempSync(join(tmpdir(), 'capstan-guard-'));
    let started: unknown;
    const hang = async () => {
      started = await startLocalStack({ persist: false, home, reconcileSeconds: 0 });
      return new Promise<never>(() => undefined);
    };

    try {
      // Act
      const result = await guard('hangs', 8000, hang); // room for the stack to start on a loaded machine

      // Assess
      expect(result.ok).toBe(false);
      expect(started).toBeDefined();
      expect(openLocalStacks()).not.toContain(started);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 40_000);
});

describe('benchmark groups', () => {
  it('lists every group once, in the order of BENCHMARKS', () => {
    expect(GROUPS.map((g) => g.name)).toEqual([...BENCHMARKS]);
    expect(new Set(BENCHMARKS).size).toBe(BENCHMARKS.length);
  });
});

/**
 * `capstan rollout status NAME`: live progress of the cluster's rollout (a bar per pool with updated/ready/total,
 * the current step, an ETA), exiting 0 when the cluster matches its spec and 7 when the rollout is blocked, so a CI
 * pipeline can gate on it.
 *
 * ```
 * rollout of demo: generation 2, v1.19.1, 14s elapsed, ETA ~9s
 *   control-plane  ████████████████████  updated 3/3  ready 3/3  machines 3
 *   md-0           ██████░░░░░░░░░░░░░░  updated 1/3  ready 3/3  machines 4
 *   step: machine demo-md-0-4 created (worker in md-0, v1.19.1)
 * ```
 */
import { ApiError } from '../client.js';
import { CliError, EXIT, type Context } from '../context.js';
import { bar, seconds, serialize } from '../output.js';

/** Progress of one pool. */
export interface PoolProgress {
  readonly name: string;
  readonly desired: number;
  readonly updated: number;
  readonly ready: number;
  readonly total: number;
  /** Machines replaced per step: maxSurge + maxUnavailable (at least 1). */
  readonly parallelism: number;
}

export type RolloutState = 'Progressing' | 'Complete' | 'Blocked' | 'Paused' | 'Deleting';

/** What `rollout status` shows at one moment. */
export interface RolloutProgress {
  readonly cluster: string;
  readonly generation: number;
  readonly version: string;
  readonly state: RolloutState;
  readonly reason?: string;
  readonly message?: string;
  readonly pools: readonly PoolProgress[];
  readonly step?: string;
  readonly elapsedSeconds: number;
  /** Estimated seconds left; undefined until a boot has been observed. */
  readonly etaSeconds?: number;
}

function median(values: readonly number[]): number | undefined {
  if (!values.length) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function parallelism(pool: any, desired: number): number {
  const scaled = (v: unknown, roundUp: boolean) => {
    if (typeof v === 'number') return v;
    const m = /^(\d+)%$/.exec(String(v ?? ''));
    if (!m) return 0;
    const exact = (Number(m[1]) * desired) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  };
  return Math.max(1, scaled(pool.rollout?.maxSurge ?? 1, true) + scaled(pool.rollout?.maxUnavailable ?? 0, false));
}

/**
 * Derives rollout progress from a served cluster and its event log (pure; exported for tests and the demo).
 *
 * Note: Blocked is reported only once the status is derived from the current generation (observedGeneration equals
 * generation), so a condition left by the previous rollout never ends a fresh one early.
 */
export function rolloutProgress(cluster: any, events: readonly any[], now: Date): RolloutProgress {
  const generation = cluster.metadata.generation;
  const current = cluster.status.observedGeneration === generation;
  const condition = (cluster.status.conditions ?? []).find((c: any) => c.type === 'RolloutProgressing');
  const cpStatus = cluster.status.controlPlane ?? {};
  const pools: PoolProgress[] = [
    { name: 'control-plane', desired: cluster.spec.controlPlane.replicas, updated: cpStatus.updatedReplicas ?? 0, ready: cpStatus.readyReplicas ?? 0, total: cpStatus.replicas ?? 0, parallelism: 1 },
    ...(cluster.spec.workers ?? []).map((pool: any) => {
      const s = (cluster.status.workers ?? []).find((w: any) => w.name === pool.name) ?? {};
      return { name: pool.name, desired: pool.replicas, updated: s.updatedReplicas ?? 0, ready: s.readyReplicas ?? 0, total: s.replicas ?? 0, parallelism: parallelism(pool, pool.replicas) };
    }),
  ];
  let state: RolloutState = 'Progressing';
  if (cluster.metadata.deletionTimestamp) state = 'Deleting';
  else if (current && cluster.status.phase === 'Ready') state = 'Complete';
  else if (current && cluster.spec.paused) state = 'Paused';
  else if (current && (cluster.status.phase === 'Failed' || (condition?.status === 'False' && !['RolloutCompleted', 'Paused'].includes(condition.reason)))) state = 'Blocked';

  const startEvent = [...events].reverse().find((e) => (e.type === 'ClusterUpdated' || e.type === 'ClusterCreated') && (e.data?.generation ?? generation) === generation);
  const start = startEvent ? Date.parse(startEvent.time) : Date.parse(cluster.metadata.creationTimestamp);
  const since = events.filter((e) => e.seq >= (startEvent?.seq ?? 0));
  const created = new Map<string, number>();
  const draining = new Map<string, number>();
  const boots: number[] = [];
  const drains: number[] = [];
  for (const e of events) {
    const t = Date.parse(e.time);
    if (e.type === 'MachineCreated') created.set(e.machine, t);
    if (e.type === 'MachineReady' && created.has(e.machine)) boots.push((t - created.get(e.machine)!) / 1000);
    if (e.type === 'MachineDraining') draining.set(e.machine, t);
    if (e.type === 'MachineDeleted' && draining.has(e.machine)) drains.push((t - draining.get(e.machine)!) / 1000);
  }
  const boot = median(boots);
  const drain = median(drains) ?? 0;
  const steps = (p: PoolProgress) => Math.ceil(Math.max(0, p.desired - p.updated) / p.parallelism);
  const [cp, ...workers] = pools;
  // Control plane first, then the worker pools in parallel (the planner's order).
  const remainingSteps = steps(cp!) + Math.max(0, ...workers.map(steps));
  const lastMachineEvent = [...since].reverse().find((e) => e.type.startsWith('Machine') || e.type.startsWith('Rollout'));
  return {
    cluster: cluster.metadata.name,
    generation,
    version: cluster.spec.version,
    state,
    ...(condition?.reason ? { reason: condition.reason } : {}),
    ...(condition?.message ? { message: condition.message } : {}),
    pools,
    ...(lastMachineEvent ? { step: lastMachineEvent.message } : {}),
    elapsedSeconds: Math.max(0, (now.getTime() - start) / 1000),
    ...(boot !== undefined && state === 'Progressing' ? { etaSeconds: remainingSteps * (boot + drain) } : {}),
  };
}

/** Renders progress as lines (bars on a terminal, the same text without colour elsewhere). */
export function renderProgress(ctx: Pick<Context, 'paint'>, p: RolloutProgress, legend = true): string[] {
  const paint = ctx.paint;
  const width = Math.max(...p.pools.map((x) => x.name.length));
  const head = `rollout of ${p.cluster}: generation ${p.generation}, ${p.version}, ${seconds(p.elapsedSeconds)} elapsed${p.etaSeconds !== undefined ? `, ETA ~${seconds(p.etaSeconds)}` : ''}`;
  const lines = [paint('bold', head)];
  for (const pool of p.pools) {
    const done = pool.updated >= pool.desired && pool.ready >= pool.desired && pool.total === pool.desired;
    lines.push(`  ${pool.name.padEnd(width)}  ${paint(done ? 'green' : 'cyan', bar(Math.min(pool.updated, pool.ready), pool.desired))}  updated ${pool.updated}/${pool.desired}  ready ${pool.ready}/${pool.desired}  machines ${pool.total}`);
  }
  if (p.step) lines.push(`  ${paint('gray', `step: ${p.step}`)}`);
  // What the numbers mean, as kubectl's READY 2/3 column does (ready may exceed desired while a surge machine runs).
  if (legend) lines.push(`  ${paint('gray', 'updated: machines at the new spec / desired · ready: Ready machines, old and new / desired · machines: all, surge included')}`);
  return lines;
}

/** The stable part of a progress report (what a non-terminal prints again only when it changes). */
function fingerprint(p: RolloutProgress): string {
  return JSON.stringify([p.state, p.pools, p.step]);
}

/** `capstan rollout status NAME [--timeout S] [--no-watch]`. */
export async function rolloutStatus(ctx: Context, name: string, options: { readonly timeoutSeconds?: number; readonly watch?: boolean }): Promise<number> {
  const path = `/v1/clusters/${encodeURIComponent(name)}`;
  const events: any[] = [];
  const started = Date.now();
  const tty = Boolean(ctx.out.isTTY) && ctx.format === 'table';
  let drawn = 0;
  let lastPrint = '';
  for (;;) {
    let cluster: any;
    try {
      cluster = (await ctx.client.request('GET', path)).body;
      events.push(...(await ctx.client.events(name, events.at(-1)?.seq ?? 0)));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && events.length) throw new CliError(EXIT.NotFound, `cluster ${name} was deleted`);
      throw error;
    }
    const progress = rolloutProgress(cluster, events, ctx.now());
    const finished = progress.state !== 'Progressing' && progress.state !== 'Deleting';
    if (ctx.format !== 'table') {
      if (finished || options.watch === false) ctx.out.write(serialize(progress, ctx.format));
    } else if (tty) {
      const lines = renderProgress(ctx, progress);
      ctx.out.write(`${drawn ? `\u001b[${drawn}A\u001b[J` : ''}${lines.join('\n')}\n`);
      drawn = lines.length;
    } else if (fingerprint(progress) !== lastPrint || finished) {
      ctx.out.write(`${renderProgress(ctx, progress, lastPrint === '').join('\n')}\n`);
      lastPrint = fingerprint(progress);
    }
    const p = ctx.paint;
    if (progress.state === 'Complete') {
      if (ctx.format === 'table') ctx.print(p('green', `rollout of ${name} complete: generation ${progress.generation} at ${progress.version} (${seconds(progress.elapsedSeconds)})`));
      return EXIT.Ok;
    }
    if (progress.state === 'Blocked' || progress.state === 'Paused') {
      ctx.err.write(`${ctx.errPaint('red', `rollout of ${name} ${progress.state === 'Paused' ? 'is paused' : 'is blocked'}:`)} ${progress.reason ?? ''}${progress.message ? `: ${progress.message}` : ''}\n`);
      return EXIT.Blocked;
    }
    if (options.watch === false) return EXIT.Timeout; // checked once, not complete yet: like a zero timeout
    if (options.timeoutSeconds && Date.now() - started > options.timeoutSeconds * 1000) {
      throw new CliError(EXIT.Timeout, `rollout of ${name} not complete after ${options.timeoutSeconds}s`);
    }
    await ctx.sleep();
  }
}

/**
 * Reading commands: `get clusters|machines|events` and `describe cluster` (a tree like `clusterctl describe`).
 */
import { age, phaseColour, serialize, table } from '../output.js';
import { CliError, EXIT, type Context } from '../context.js';

const enc = encodeURIComponent;

/** Emits `value` as JSON/YAML when asked; returns false for table output. */
export function emitStructured(ctx: Context, value: unknown): boolean {
  if (ctx.format === 'table') return false;
  ctx.out.write(serialize(value, ctx.format));
  return true;
}

/** GET /v1/clusters/{name}. */
export async function fetchCluster(ctx: Context, name: string): Promise<any> {
  return (await ctx.client.request('GET', `/v1/clusters/${enc(name)}`)).body;
}

/** GET /v1/clusters/{name}/machines. */
export async function fetchMachines(ctx: Context, name: string, includeDeleted = false): Promise<any[]> {
  return (await ctx.client.request('GET', `/v1/clusters/${enc(name)}/machines`, { query: { includeDeleted: includeDeleted ? 'true' : undefined } })).body.items;
}

function desiredWorkers(cluster: any): number {
  return (cluster.spec.workers ?? []).reduce((n: number, p: any) => n + p.replicas, 0);
}

function readyWorkers(cluster: any): number {
  return (cluster.status.workers ?? []).reduce((n: number, p: any) => n + (p.readyReplicas ?? 0), 0);
}

/** `capstan get clusters [NAME]`. */
export async function getClusters(ctx: Context, name: string | undefined): Promise<number> {
  const items = name ? [await fetchCluster(ctx, name)] : await ctx.client.clusters();
  if (emitStructured(ctx, name ? items[0] : { items })) return EXIT.Ok;
  if (!items.length) {
    ctx.err.write('No clusters.\n');
    return EXIT.Ok;
  }
  const now = ctx.now();
  const rows = items.map((c) => [
    c.metadata.name,
    ctx.paint(phaseColour(c.status.phase), c.status.phase),
    c.spec.version,
    `${c.status.controlPlane?.readyReplicas ?? 0}/${c.spec.controlPlane.replicas}`,
    `${readyWorkers(c)}/${desiredWorkers(c)}`,
    c.spec.infrastructure.provider,
    `${c.status.observedGeneration}/${c.metadata.generation}`,
    age(c.metadata.creationTimestamp, now),
  ]);
  ctx.out.write(table(['NAME', 'PHASE', 'VERSION', 'CONTROL PLANE', 'WORKERS', 'PROVIDER', 'GENERATION', 'AGE'], rows));
  return EXIT.Ok;
}

/** `capstan get machines CLUSTER [--all]`. */
export async function getMachines(ctx: Context, cluster: string, all: boolean): Promise<number> {
  const items = await fetchMachines(ctx, cluster, all);
  if (emitStructured(ctx, { items })) return EXIT.Ok;
  const now = ctx.now();
  const rows = items.map((m) => [
    m.name,
    m.pool,
    ctx.paint(phaseColour(m.phase), m.phase),
    m.version,
    m.providerId ?? '-',
    m.failureDomain ?? '-',
    age(m.createdAt, now),
  ]);
  ctx.out.write(table(['NAME', 'POOL', 'PHASE', 'VERSION', 'PROVIDER ID', 'ZONE', 'AGE'], rows));
  return EXIT.Ok;
}

const EVENT_COLOURS: Record<string, Parameters<Context['paint']>[0]> = {
  MachineReady: 'green',
  RolloutCompleted: 'green',
  MachineCreated: 'cyan',
  MachineDraining: 'magenta',
  MachineDeleted: 'magenta',
  MachineFailed: 'red',
  RolloutBlocked: 'red',
  MachineDrainBlocked: 'red',
};

/** One event as a table row: SEQ, AGE, TYPE, OBJECT, MESSAGE. */
export function eventRow(ctx: Context, e: any, now: Date): string[] {
  return [String(e.seq), age(e.time, now), ctx.paint(EVENT_COLOURS[e.type] ?? 'gray', e.type), e.machine ? `machine/${e.machine}` : e.pool ? `pool/${e.pool}` : '-', e.message];
}

/** `capstan get events CLUSTER [--after SEQ] [--watch]`. */
export async function getEvents(ctx: Context, cluster: string, options: { readonly after?: number; readonly watch?: boolean; readonly timeoutSeconds?: number }): Promise<number> {
  let after = options.after ?? 0;
  const started = Date.now();
  let first = true;
  for (;;) {
    let items: any[];
    try {
      items = await ctx.client.events(cluster, after);
    } catch (error) {
      // While watching, the cluster going away ends the stream.
      if (!first && (error as { status?: number }).status === 404) {
        if (ctx.format === 'table') ctx.err.write(`cluster ${cluster} is gone\n`);
        return EXIT.Ok;
      }
      throw error;
    }
    if (!options.watch) {
      if (emitStructured(ctx, { items })) return EXIT.Ok;
      if (items.length) ctx.out.write(table(['SEQ', 'AGE', 'TYPE', 'OBJECT', 'MESSAGE'], items.map((e) => eventRow(ctx, e, ctx.now()))));
      else ctx.err.write('No events.\n');
      return EXIT.Ok;
    }
    for (const e of items) {
      if (ctx.format === 'table') ctx.print(eventRow(ctx, e, ctx.now()).join('  '));
      else ctx.out.write(ctx.format === 'json' ? `${JSON.stringify(e)}\n` : serialize([e], 'yaml'));
      after = e.seq;
    }
    first = false;
    if (options.timeoutSeconds && Date.now() - started > options.timeoutSeconds * 1000) return EXIT.Ok;
    await ctx.sleep();
  }
}

function conditionOf(cluster: any, type: string): any {
  return (cluster.status.conditions ?? []).find((c: any) => c.type === type);
}

function machineMessage(m: any, now: Date): string {
  if (m.failureReason) return `${m.failureReason}: ${m.failureMessage ?? ''}`.trim();
  if (m.phase === 'Draining' && m.drainStartedAt) return `draining for ${age(m.drainStartedAt, now)}`;
  if (m.phase === 'Ready' && m.readyAt) return `Ready after ${Math.round((Date.parse(m.readyAt) - Date.parse(m.createdAt)) / 100) / 10}s`;
  return m.providerId ?? '';
}

/** `capstan describe cluster NAME`: the cluster as a tree of control plane, pools and machines, then conditions. */
export async function describeCluster(ctx: Context, name: string): Promise<number> {
  const [cluster, machines] = await Promise.all([fetchCluster(ctx, name), fetchMachines(ctx, name)]);
  if (emitStructured(ctx, { cluster, machines })) return EXIT.Ok;
  const now = ctx.now();
  const p = ctx.paint;
  const rows: string[][] = [];
  const readyOf = (status: any, desired: number) => `${status?.readyReplicas ?? 0}/${desired}`;
  const cpStatus = cluster.status.controlPlane;
  const workersCondition = conditionOf(cluster, 'WorkersReady');
  const readyCondition = conditionOf(cluster, 'Ready');
  rows.push([
    p('bold', `Cluster/${cluster.metadata.name}`),
    p(phaseColour(cluster.status.phase), cluster.status.phase),
    cluster.spec.version,
    `${(cpStatus?.readyReplicas ?? 0) + readyWorkers(cluster)}/${cluster.spec.controlPlane.replicas + desiredWorkers(cluster)}`,
    age(cluster.metadata.creationTimestamp, now),
    readyCondition?.message ?? '',
  ]);
  const pools: { label: string; status: any; desired: number; version: string; machines: any[]; message: string }[] = [
    {
      label: 'ControlPlane',
      status: cpStatus,
      desired: cluster.spec.controlPlane.replicas,
      version: cluster.spec.version,
      machines: machines.filter((m) => m.pool === 'control-plane'),
      message: `${cpStatus?.updatedReplicas ?? 0} up to date, maxSurge ${cluster.spec.controlPlane.rollout?.maxSurge ?? 1}`,
    },
    ...(cluster.spec.workers ?? []).map((pool: any) => {
      const status = (cluster.status.workers ?? []).find((w: any) => w.name === pool.name);
      return {
        label: `MachineDeployment/${pool.name}`,
        status,
        desired: pool.replicas,
        version: pool.version ?? cluster.spec.version,
        machines: machines.filter((m) => m.pool === pool.name),
        message: `${status?.updatedReplicas ?? 0} up to date, ${pool.rollout.strategy} maxSurge ${pool.rollout.maxSurge} maxUnavailable ${pool.rollout.maxUnavailable}`,
      };
    }),
  ];
  const machineRows = (list: any[], indent: string) =>
    list.forEach((m, i) => {
      const last = i === list.length - 1;
      rows.push([`${indent}${last ? '└─' : '├─'}Machine/${m.name}`, p(phaseColour(m.phase), m.phase), m.version, m.phase === 'Ready' ? '1/1' : '0/1', age(m.createdAt, now), machineMessage(m, now)]);
    });
  const poolRow = (pool: (typeof pools)[number], prefix: string) => {
    const ready = (pool.status?.readyReplicas ?? 0) === pool.desired && (pool.status?.updatedReplicas ?? 0) === pool.desired && pool.machines.length === pool.desired;
    rows.push([`${prefix}${pool.label}`, p(ready ? 'green' : 'yellow', ready ? 'Ready' : 'Updating'), pool.version, readyOf(pool.status, pool.desired), '', pool.message]);
  };
  const [controlPlane, ...workerPools] = pools;
  const hasWorkers = workerPools.length > 0;
  poolRow(controlPlane!, hasWorkers ? '├─' : '└─');
  machineRows(controlPlane!.machines, hasWorkers ? '│ ' : '  ');
  if (hasWorkers) {
    rows.push(['└─Workers', '', '', `${readyWorkers(cluster)}/${desiredWorkers(cluster)}`, '', workersCondition?.message ?? '']);
    workerPools.forEach((pool, i) => {
      const last = i === workerPools.length - 1;
      poolRow(pool, `  ${last ? '└─' : '├─'}`);
      machineRows(pool.machines, `  ${last ? '  ' : '│ '}`);
    });
  }
  ctx.out.write(table(['NAME', 'PHASE', 'VERSION', 'READY', 'AGE', 'MESSAGE'], rows));
  ctx.print();
  const conditions = (cluster.status.conditions ?? []).map((c: any) => [c.type, p(phaseColour(c.status), c.status), c.reason ?? '', age(c.lastTransitionTime, now), c.message ?? '']);
  ctx.print('Conditions:');
  ctx.out.write(
    table(['  TYPE', 'STATUS', 'REASON', 'SINCE', 'MESSAGE'], conditions.map((r: string[]) => [`  ${r[0]}`, ...r.slice(1)])),
  );
  if (cluster.spec.paused) ctx.print(p('yellow', '\nPaused: spec.paused is true (capstan resume to continue).'));
  if (cluster.metadata.deletionTimestamp) ctx.print(p('magenta', `\nDeleting since ${cluster.metadata.deletionTimestamp}.`));
  return EXIT.Ok;
}

/** Refuses an unknown resource kind for get/describe. */
export function unknownResource(kind: string, allowed: readonly string[]): never {
  throw new CliError(EXIT.Usage, `unknown resource ${JSON.stringify(kind)}: use one of ${allowed.join(', ')}`);
}

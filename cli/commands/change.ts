/**
 * Commands that change one cluster: `upgrade`, `scale`, `pause`, `resume`, `delete`, `rollout restart`.
 *
 * Note: arrays (worker pools) are replaced whole by a JSON merge patch, so commands that touch one pool read the
 * cluster first and send its whole `workers` list with `If-Match` set to the resourceVersion they read: a concurrent
 * change makes the write fail with 412 (exit 5) instead of being silently undone.
 */
import { ApiError } from '../client.js';
import { CliError, EXIT, type Context } from '../context.js';
import { printPlan } from './apply.js';
import { emitStructured, fetchCluster, fetchMachines } from './resources.js';

const MERGE_PATCH = 'application/merge-patch+json';

export interface WriteFlags {
  /** Only write if the cluster is still at this resourceVersion (If-Match). */
  readonly resourceVersion?: string;
  readonly dryRun?: boolean;
}

/** PATCHes the cluster with a merge patch; prints a one-line result (or the dry-run plan). */
export async function patchCluster(ctx: Context, name: string, patch: unknown, flags: WriteFlags, verb: string): Promise<any> {
  const response = await ctx.client.request('PATCH', `/v1/clusters/${encodeURIComponent(name)}`, {
    body: JSON.stringify(patch),
    contentType: MERGE_PATCH,
    query: { dryRun: flags.dryRun ? 'true' : undefined },
    headers: flags.resourceVersion ? { 'if-match': `"${flags.resourceVersion}"` } : {},
  });
  const body = response.body;
  if (emitStructured(ctx, body)) return body;
  if (flags.dryRun) {
    ctx.print(`cluster/${name} ${body.action === 'unchanged' ? 'unchanged' : verb} (dry run)`);
    printPlan(ctx, body.plan);
  } else {
    ctx.print(`cluster/${name} ${verb} ${ctx.paint('gray', `(generation ${body.metadata.generation}, resourceVersion ${body.metadata.resourceVersion})`)}`);
  }
  return body;
}

/** `capstan upgrade NAME --version V`. */
export async function upgrade(ctx: Context, name: string, version: string, flags: WriteFlags): Promise<number> {
  await patchCluster(ctx, name, { spec: { version } }, flags, `upgrading to ${version}`);
  if (!flags.dryRun && ctx.format === 'table') ctx.print(ctx.paint('gray', `follow it with: capstan rollout status ${name}`));
  return EXIT.Ok;
}

/** `capstan scale NAME --pool P --replicas N` (`--pool control-plane` scales the control plane). */
export async function scale(ctx: Context, name: string, pool: string, replicasText: string, flags: WriteFlags): Promise<number> {
  const replicas = Number(replicasText);
  if (!Number.isInteger(replicas) || replicas < 0) throw new CliError(EXIT.Usage, `--replicas: must be a non-negative integer, got ${JSON.stringify(replicasText)}`);
  const cluster = await fetchCluster(ctx, name);
  const resourceVersion = flags.resourceVersion ?? cluster.metadata.resourceVersion;
  if (pool === 'control-plane') {
    await patchCluster(ctx, name, { spec: { controlPlane: { replicas } } }, { ...flags, resourceVersion }, `control plane scaled to ${replicas}`);
    return EXIT.Ok;
  }
  const workers: any[] = cluster.spec.workers ?? [];
  if (!workers.some((w) => w.name === pool)) {
    throw new CliError(EXIT.Invalid, `--pool: cluster ${name} has no pool ${JSON.stringify(pool)} (pools: ${['control-plane', ...workers.map((w) => w.name)].join(', ')})`);
  }
  const next = workers.map((w) => (w.name === pool ? { ...w, replicas } : w));
  await patchCluster(ctx, name, { spec: { workers: next } }, { ...flags, resourceVersion }, `${pool} scaled to ${replicas}`);
  return EXIT.Ok;
}

/** `capstan pause NAME` / `capstan resume NAME`. */
export async function setPaused(ctx: Context, name: string, paused: boolean, flags: WriteFlags): Promise<number> {
  await patchCluster(ctx, name, { spec: { paused } }, flags, paused ? 'paused' : 'resumed');
  return EXIT.Ok;
}

/** `capstan rollout restart NAME`: every machine created before now is outdated (CAPI `rolloutAfter`). */
export async function rolloutRestart(ctx: Context, name: string, flags: WriteFlags): Promise<number> {
  const cluster = await fetchCluster(ctx, name);
  const after = ctx.now().toISOString();
  const workers = (cluster.spec.workers ?? []).map((w: any) => ({ ...w, rollout: { ...w.rollout, after } }));
  await patchCluster(
    ctx,
    name,
    { spec: { controlPlane: { rollout: { after } }, workers } },
    { ...flags, resourceVersion: flags.resourceVersion ?? cluster.metadata.resourceVersion },
    `restarted (machines created before ${after} will be replaced)`,
  );
  return EXIT.Ok;
}

/** `capstan delete NAME [--wait] [--timeout S]`. */
export async function deleteCluster(ctx: Context, name: string, options: { readonly wait?: boolean; readonly timeoutSeconds?: number; readonly resourceVersion?: string }): Promise<number> {
  const response = await ctx.client.request('DELETE', `/v1/clusters/${encodeURIComponent(name)}`, {
    headers: options.resourceVersion ? { 'if-match': `"${options.resourceVersion}"` } : {},
  });
  if (!emitStructured(ctx, response.body)) ctx.print(`cluster/${name} deleting`);
  if (!options.wait) return EXIT.Ok;
  const started = Date.now();
  let last = '';
  for (;;) {
    let machines: any[];
    try {
      machines = await fetchMachines(ctx, name);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) break;
      throw error;
    }
    const line = `  ${machines.length} machine${machines.length === 1 ? '' : 's'} left${machines.length ? `: ${machines.map((m) => `${m.name} (${m.phase})`).join(', ')}` : ''}`;
    if (line !== last && ctx.format === 'table') ctx.print(ctx.paint('gray', line));
    last = line;
    if (options.timeoutSeconds && Date.now() - started > options.timeoutSeconds * 1000) {
      throw new CliError(EXIT.Timeout, `cluster ${name} still exists after ${options.timeoutSeconds}s`);
    }
    await ctx.sleep();
  }
  if (ctx.format === 'table') ctx.print(`cluster/${name} deleted ${ctx.paint('gray', `(${Math.round((Date.now() - started) / 100) / 10}s)`)}`);
  return EXIT.Ok;
}

/**
 * `apply -f` (Capstan or Cluster API YAML, multi-document, `--dry-run` prints the rollout plan) and `diff -f`
 * (what would change, field by field, and the plan).
 */
import { importManifests } from '../../functions/domain/capi/index.js';
import { isCapstanError } from '../../functions/domain/errors.js';
import { ApiError } from '../client.js';
import { CliError, EXIT, type Context } from '../context.js';
import { pathWithSource, readManifests, type Manifests } from '../manifests.js';
import { seconds } from '../output.js';
import { emitStructured } from './resources.js';

const ACTION_WORDS: Record<string, string> = { created: 'created', updated: 'configured', unchanged: 'unchanged' };

/** Re-throws an API error with its field paths naming the file each document came from. */
function withSources(error: unknown, manifests: Manifests): never {
  if (error instanceof ApiError && error.details.length && manifests.sources.length > 1) {
    throw new ApiError(error.status, error.code, error.message, error.details.map((d) => ({ path: pathWithSource(d.path, manifests.sources), message: d.message })), error.requestId);
  }
  throw error;
}

/**
 * Prints a dry-run plan: its steps of creates and removes, the estimate and its basis.
 *
 * Note: the plan's `waves` are the planner's steps (a create, then the remove it allows, are two steps); the demo
 * and the replay count replacement waves (a create with the removes that follow it). Both are printed, named so,
 * so that the same upgrade reads the same everywhere: "12 steps (6 replacement waves)" here, "6 waves" in the demo.
 */
export function printPlan(ctx: Context, plan: any, indent = '  '): void {
  if (!plan) return;
  const p = ctx.paint;
  const steps: number = plan.waveCount;
  const replacementWaves = (plan.waves as { creates: string[] }[]).filter((w) => w.creates.length > 0).length;
  ctx.print(
    `${indent}plan: ${steps} step${steps === 1 ? '' : 's'} (${replacementWaves} replacement wave${replacementWaves === 1 ? '' : 's'}), ${plan.replaced.length} machine${plan.replaced.length === 1 ? '' : 's'} replaced, about ${seconds(plan.estimatedSeconds)}`,
  );
  ctx.print(`${indent}      ${p('gray', `(boot ${plan.assumptions.bootSeconds}s, drain ${plan.assumptions.drainSeconds}s: ${plan.assumptions.basis})`)}`);
  plan.waves.forEach((wave: any, i: number) => {
    const parts = [...wave.creates.map((n: string) => p('green', `+${n}`)), ...wave.removes.map((n: string) => p('red', `-${n}`))];
    ctx.print(`${indent}  step ${String(i + 1).padStart(2)}: ${parts.join(' ')}`);
  });
}

/** `capstan apply -f FILE|DIR|- [--dry-run]`. */
export async function apply(ctx: Context, file: string, options: { readonly dryRun?: boolean }): Promise<number> {
  const manifests = await readManifests(file, { cwd: ctx.cwd, ...(ctx.io.stdin ? { stdin: ctx.io.stdin } : {}) });
  let body: any;
  try {
    body = (await ctx.client.request('POST', '/v1/apply', { body: manifests.text, contentType: 'application/yaml', query: { dryRun: options.dryRun ? 'true' : undefined } })).body;
  } catch (error) {
    withSources(error, manifests);
  }
  if (emitStructured(ctx, body)) return EXIT.Ok;
  for (const item of body.applied) {
    ctx.print(`cluster/${item.name} ${ACTION_WORDS[item.action] ?? item.action}${options.dryRun ? ' (dry run)' : ''}${item.action !== 'unchanged' ? ` ${ctx.paint('gray', `generation ${item.generation}`)}` : ''}`);
    if (options.dryRun) printPlan(ctx, item.plan);
  }
  return EXIT.Ok;
}

/** One changed field: `before` undefined = added, `after` undefined = removed. */
export interface FieldChange {
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/** Flattens a value into path → JSON text; arrays of named objects are keyed by name (`workers[md-0]`). */
function flatten(value: unknown, path: string, into: Map<string, string>): Map<string, string> {
  if (Array.isArray(value)) {
    const named = value.length > 0 && value.every((v) => typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string');
    if (!named) into.set(path, JSON.stringify(value));
    else for (const v of value) flatten(v, `${path}[${(v as { name: string }).name}]`, into);
  } else if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (!entries.length) into.set(path, '{}');
    for (const [k, v] of entries) flatten(v, path ? `${path}.${k}` : k, into);
  } else if (value !== undefined) into.set(path, JSON.stringify(value));
  return into;
}

/** Field-level differences between two documents' `metadata.labels/annotations` and `spec`. */
export function diffDocuments(before: any, after: any): FieldChange[] {
  const pick = (doc: any) => (doc ? { metadata: { labels: doc.metadata?.labels, annotations: doc.metadata?.annotations }, spec: doc.spec } : {});
  const a = flatten(pick(before), '', new Map());
  const b = flatten(pick(after), '', new Map());
  const changes: FieldChange[] = [];
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(path);
    const y = b.get(path);
    if (x === y) continue;
    changes.push({ path, ...(x !== undefined ? { before: JSON.parse(x) } : {}), ...(y !== undefined ? { after: JSON.parse(y) } : {}) });
  }
  return changes;
}

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** `capstan diff -f FILE [--exit-code]`: what applying the file would change. */
export async function diff(ctx: Context, file: string, options: { readonly exitCode?: boolean }): Promise<number> {
  const manifests = await readManifests(file, { cwd: ctx.cwd, ...(ctx.io.stdin ? { stdin: ctx.io.stdin } : {}) });
  let clusters;
  try {
    clusters = importManifests(manifests.documents).clusters;
  } catch (error) {
    // The importer is the server's own (pure) code: its field paths are the ones `apply` would print.
    if (isCapstanError(error)) throw new ApiError(error.status, error.code, error.message, error.details.map((d) => ({ path: pathWithSource(d.path, manifests.sources), message: d.message })));
    throw error;
  }
  if (!clusters.length) throw new CliError(EXIT.Invalid, `-f ${file}: holds no Cluster (Capstan or Cluster API)`);
  const results: { name: string; action: string; changes: FieldChange[]; plan?: unknown }[] = [];
  for (const entry of clusters) {
    const path = `/v1/clusters/${encodeURIComponent(entry.name)}`;
    let current: any;
    try {
      current = (await ctx.client.request('GET', path)).body;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
    let dry: any;
    try {
      dry = (await ctx.client.request('PUT', path, { body: entry.document, query: { dryRun: 'true' } })).body;
    } catch (error) {
      if (error instanceof ApiError) {
        const prefix = `documents[${entry.sourceIndexes.join(',')}]`;
        throw new ApiError(error.status, error.code, error.message, error.details.map((d) => ({ path: pathWithSource(`${prefix}.${d.path}`, manifests.sources), message: d.message })), error.requestId);
      }
      throw error;
    }
    results.push({ name: entry.name, action: dry.action, changes: diffDocuments(current, dry.cluster), ...(dry.plan ? { plan: dry.plan } : {}) });
  }
  const changed = results.some((r) => r.action !== 'unchanged' && r.changes.length > 0);
  if (!emitStructured(ctx, { items: results })) {
    const p = ctx.paint;
    for (const r of results) {
      ctx.print(p('bold', `cluster/${r.name} ${r.action === 'created' ? 'would be created' : r.changes.length ? 'would change' : 'unchanged'}`));
      for (const c of r.changes) {
        if (c.before === undefined) ctx.print(p('green', `  + ${c.path}: ${show(c.after)}`));
        else if (c.after === undefined) ctx.print(p('red', `  - ${c.path}: ${show(c.before)}`));
        else ctx.print(`  ${p('yellow', '~')} ${c.path}: ${p('red', show(c.before))} → ${p('green', show(c.after))}`);
      }
      if (r.changes.length && r.plan) printPlan(ctx, r.plan);
    }
  }
  return options.exitCode && changed ? EXIT.Error : EXIT.Ok;
}

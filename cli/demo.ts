/**
 * `npm run demo`: the story of the Cluster API deep dive, end to end, in one command, on the local provider.
 *
 * ```
 * start control plane ─► PUT cluster.yaml (3 cp + 3 workers, v1.18.8) ─► Ready
 *   ─► "git commit": one line, version: v1.19.1 ─► PUT the same file
 *   ─► live: new machine created, Ready, old machine cordoned, drained, deleted; control plane first
 *   ─► summary: duration, waves, replaced, lower-bound ratio, guarantees replayed from the event log
 *   ─► cleanup: delete the cluster, wait until no machine process is left
 * ```
 *
 * It starts the local control plane in-process (temp CAPSTAN_HOME, table in memory) unless CAPSTAN_ENDPOINT names a
 * running one. Machines boot in CAPSTAN_LOCAL_BOOT_MS (default 2000). Exit 0 only when the upgrade completed and
 * every guarantee held and cleanup left nothing behind.
 *
 * This file drives the story; the cluster file, the narration and the cleanup live under demo/ (`demoClusterYaml`
 * is re-exported here).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApiClient, ApiError } from './client.js';
import { resolveConfig, type Env } from './config.js';
import { cleanUp, type DemoCleanup } from './demo/cleanup.js';
import { demoClusterYaml } from './demo/cluster-file.js';
import { printSummary, Teller } from './demo/teller.js';
import { painter, seconds, type Sink } from './output.js';
import { replayGuarantees, type ReplayEvent, type ReplayResult } from './replay.js';

export { demoClusterYaml };
export type { DemoCleanup };

/** Options of `runDemo`. */
export interface DemoOptions {
  /** Where the story is told. */
  readonly out: Sink;
  /** @default process.env */
  readonly env?: Env;
  /** Machine boot time of the in-process control plane. @default CAPSTAN_LOCAL_BOOT_MS or 2000 */
  readonly bootMs?: number;
  /** Time to evict one simulated pod. @default provider default */
  readonly drainMsPerPod?: number;
  /** Use a running control plane at this endpoint. @default CAPSTAN_ENDPOINT, else start one in-process */
  readonly endpoint?: string;
  /** Home of the in-process control plane. @default a fresh temp dir, removed afterwards */
  readonly home?: string;
  /** Cluster name. @default `demo` in-process, `demo-<random>` against a running control plane */
  readonly name?: string;
  readonly fromVersion?: string;
  readonly toVersion?: string;
  /** Give up (and fail) after this long. @default 110 */
  readonly timeoutSeconds?: number;
  /** Event poll interval. @default 200 */
  readonly pollMs?: number;
  /** @default out.isTTY */
  readonly color?: boolean;
}

/** What the demo found. `ok` is the exit status. */
export interface DemoSummary {
  readonly ok: boolean;
  readonly cluster: string;
  /** Whole demo, seconds. */
  readonly totalSeconds: number;
  /** ClusterUpdated → RolloutCompleted, seconds. */
  readonly upgradeSeconds: number;
  readonly upgradeCompleted: boolean;
  readonly replay: ReplayResult | undefined;
  readonly cleanup: DemoCleanup;
  /** Why `ok` is false. */
  readonly failures: readonly string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the whole demo; never throws for a failed check (it lands in `failures`). */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const env = options.env ?? process.env;
  const started = Date.now();
  const tell = new Teller(options.out, painter(options.color ?? Boolean(options.out.isTTY && !env.NO_COLOR)));
  const p = tell.paint;
  const pollMs = options.pollMs ?? 200;
  const deadline = started + (options.timeoutSeconds ?? 110) * 1000;
  const fromVersion = options.fromVersion ?? 'v1.18.8';
  const toVersion = options.toVersion ?? 'v1.19.1';
  const failures: string[] = [];
  const endpoint = options.endpoint ?? env.CAPSTAN_ENDPOINT;
  const bootMs = options.bootMs ?? (env.CAPSTAN_LOCAL_BOOT_MS ? Number(env.CAPSTAN_LOCAL_BOOT_MS) : 2000);

  let stack: Awaited<ReturnType<typeof import('../infra/local/stack.js').startLocalStack>> | undefined;
  let tempHome: string | undefined;
  let client: ApiClient;
  if (endpoint) {
    client = new ApiClient(resolveConfig({ endpoint }, env, process.cwd()));
    tell.line(p('bold', `Capstan demo against the control plane at ${endpoint}`));
  } else {
    const { startLocalStack } = await import('../infra/local/stack.js');
    tempHome = options.home ? undefined : mkdtempSync(join(tmpdir(), 'capstan-demo-'));
    const home = options.home ?? tempHome!;
    stack = await startLocalStack({ home, persist: false, bootMs, reconcileSeconds: 0, ...(options.drainMsPerPod !== undefined ? { drainMsPerPod: options.drainMsPerPod } : {}) });
    client = new ApiClient({ endpoint: stack.url, auth: { kind: 'token', token: stack.token, source: 'in-process' } });
    tell.line(p('bold', 'Capstan demo: a rolling Kubernetes upgrade driven by a one-line change, on local machines'));
    tell.line(p('gray', `control plane in-process at ${stack.url} (CAPSTAN_HOME ${home}); machines are OS processes booting in ${bootMs} ms`));
  }
  const name = options.name ?? (endpoint ? `demo-${Math.random().toString(36).slice(2, 7)}` : 'demo');
  const path = `/v1/clusters/${name}`;
  const workDir = mkdtempSync(join(tmpdir(), 'capstan-demo-repo-'));
  const file = join(workDir, 'cluster.yaml');
  let seen = 0;
  const allEvents: (ReplayEvent & { message: string })[] = [];
  let cluster: any;
  let replay: ReplayResult | undefined;
  let upgradeSeconds = 0;
  let upgradeCompleted = false;
  let cleanup: DemoCleanup = { ok: false, machinesLeft: [] };

  /** Streams new events until `done(cluster)` holds; false on timeout or a blocked rollout. */
  const follow = async (generation: number): Promise<boolean> => {
    for (;;) {
      const fresh = await client.events(name, seen);
      for (const e of fresh) {
        tell.event(e);
        allEvents.push(e);
        seen = e.seq;
      }
      cluster = (await client.request('GET', path)).body;
      const cond = (cluster.status.conditions ?? []).find((c: any) => c.type === 'RolloutProgressing');
      if (cluster.status.observedGeneration === generation && cluster.metadata.generation === generation) {
        if (cluster.status.phase === 'Ready') return true;
        if (cluster.status.phase === 'Failed' || (cond?.status === 'False' && cond.reason !== 'RolloutCompleted')) {
          failures.push(`rollout of generation ${generation} blocked: ${cond?.reason}: ${cond?.message}`);
          return false;
        }
      }
      if (Date.now() > deadline) {
        failures.push(`timed out after ${options.timeoutSeconds ?? 110}s waiting for generation ${generation}`);
        return false;
      }
      await sleep(pollMs);
    }
  };

  try {
    // 1. The first commit: the cluster file as it would sit in a GitOps repository.
    const original = demoClusterYaml(name, fromVersion);
    writeFileSync(file, original);
    tell.title(`commit 1: ${file}`);
    for (const l of original.trimEnd().split('\n')) tell.line(p('gray', `    ${l}`));
    tell.title(`PUT ${path}  (3 control-plane + 3 worker machines at ${fromVersion})`);
    await client.request('PUT', path, { body: original, contentType: 'application/yaml' });
    const created = await follow(1);
    if (created) {
      tell.line(p('green', `  cluster ${name} is Ready at ${fromVersion}`));
      const before = (await client.request('GET', `${path}/machines`)).body.items as any[];
      const startSeq = seen;

      // 2. The second commit: one line changes.
      const changed = original.replace(`version: ${fromVersion}`, `version: ${toVersion}`);
      writeFileSync(file, changed);
      tell.title('commit 2: one line changed');
      tell.line(p('red', `  -  version: ${fromVersion}`));
      tell.line(p('green', `  +  version: ${toVersion}`));
      tell.title(`PUT ${path}  (the same file): rolling replacement, control plane first, one machine at a time`);
      await client.request('PUT', path, { body: changed, contentType: 'application/yaml' });
      upgradeCompleted = await follow(2);

      const window = allEvents.filter((e) => e.seq > startSeq);
      const from = window.find((e) => e.type === 'ClusterUpdated');
      const to = window.find((e) => e.type === 'RolloutCompleted' && e.data?.generation === 2);
      const slice = window.filter((e) => e.seq >= (from?.seq ?? 0) && e.seq <= (to?.seq ?? Number.MAX_SAFE_INTEGER));
      if (from && to) upgradeSeconds = (Date.parse(to.time) - Date.parse(from.time)) / 1000;
      replay = replayGuarantees(slice, cluster.spec, {
        initial: before.map((m) => ({ name: m.name, pool: m.pool, version: m.version, ready: m.phase === 'Ready' })),
        fromVersion,
        toVersion,
      });
      if (!upgradeCompleted || !replay.completed) failures.push('the upgrade did not complete');
      for (const v of replay.violations) failures.push(`${v.rule} at seq ${v.seq}: ${v.message}`);
      const outdated = (await client.request('GET', `${path}/machines`)).body.items.filter((m: any) => m.version !== toVersion);
      if (outdated.length) failures.push(`machines still at another version: ${outdated.map((m: any) => m.name).join(', ')}`);
      printSummary(tell, replay, upgradeSeconds, before.length);
    }
  } catch (error) {
    failures.push(error instanceof ApiError ? `${error.code} (HTTP ${error.status}): ${error.message} ${error.details.map((d) => `${d.path}: ${d.message}`).join('; ')}` : error instanceof Error ? error.message : String(error));
  } finally {
    cleanup = await cleanUp(tell, client, name, stack, Math.max(deadline, Date.now() + 30_000), pollMs);
    if (!cleanup.ok) failures.push(`cleanup left machines behind: ${cleanup.machinesLeft.join(', ') || 'the cluster record'}`);
    await stack?.close();
    if (tempHome) rmSync(tempHome, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  }

  const totalSeconds = (Date.now() - started) / 1000;
  const ok = failures.length === 0;
  tell.line();
  if (ok) tell.line(p('green', `✔ demo passed in ${seconds(totalSeconds)}: the upgrade completed and every guarantee held`));
  else {
    tell.line(p('red', `✘ demo failed after ${seconds(totalSeconds)}:`));
    for (const f of failures) tell.line(p('red', `  - ${f}`));
  }
  return { ok, cluster: name, totalSeconds, upgradeSeconds, upgradeCompleted, replay, cleanup, failures };
}

/** `npm run demo`. */
async function main(): Promise<void> {
  const { installLoopbackGuard } = await import('../infra/local/network-guard.js');
  if (!process.env.CAPSTAN_ENDPOINT) installLoopbackGuard();
  const summary = await runDemo({ out: process.stdout });
  process.exitCode = summary.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}

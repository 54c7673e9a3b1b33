/**
 * `capstan`: the command-line client of Capstan's HTTP API.
 *
 * `run(argv, io)` is the whole CLI as a function: it parses `argv`, runs one command against the API and returns the
 * exit code, writing only to `io.stdout`/`io.stderr`. The process entry point at the bottom calls it with the real
 * process; tests call it in-process. Exit codes are listed at `EXIT` (cli/context.ts) and in docs/cli.md.
 */
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Help, Option } from 'commander';
import { apply, diff } from './commands/apply.js';
import { deleteCluster, rolloutRestart, scale, setPaused, upgrade } from './commands/change.js';
import { describeCluster, getClusters, getEvents, getMachines, unknownResource } from './commands/resources.js';
import { rolloutStatus } from './commands/rollout.js';
import { CliError, Context, EXIT, reportError, type CliIo, type GlobalFlags } from './context.js';
import { painter } from './output.js';
import { packageVersion } from './version.js';

export { EXIT, type CliIo } from './context.js';

function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new CliError(EXIT.Usage, `${flag}: must be a non-negative number of seconds, got ${JSON.stringify(value)}`);
    return n;
  };
}

/** `-V, --version`, as listed in the help; it is answered before commander parses (see {@link asksForVersion}). */
const VERSION_OPTION = new Option('-V, --version', 'print the version of capstan and exit');

/**
 * Whether `argv` asks for the version: `-V` or `--version` before the command, after any program options
 * (`capstan --version`, `capstan --endpoint URL -V`).
 *
 * Note: not commander's `.version()`: commander recognises a program option anywhere in the line, so it would answer
 * `capstan upgrade web --version v1.19.1` (upgrade's own flag) with the version instead of upgrading.
 */
function asksForVersion(argv: readonly string[], root: Command): boolean {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === VERSION_OPTION.long || arg === VERSION_OPTION.short) return true;
    // The command (or `--`): what follows is its own.
    if (arg === '--' || !arg.startsWith('-')) return false;
    const option = root.options.find((o) => o.long === arg || o.short === arg);
    if (option && (option.required || option.optional)) i++; // its value, e.g. `--endpoint URL`
  }
  return false;
}

/** Builds the command tree; `exec` runs a command body with the invocation's context. */
function program(io: CliIo, exec: (body: (ctx: Context) => Promise<number>, cmd: Command) => Promise<void>): Command {
  const root = new Command('capstan')
    .description('Create, upgrade and repair Kubernetes clusters with Capstan (a thin client of its HTTP API).')
    .option('--endpoint <url>', 'API endpoint (env CAPSTAN_ENDPOINT; default http://127.0.0.1:7070)')
    .option('--token <token>', 'bearer token (env CAPSTAN_TOKEN; locally read from $CAPSTAN_HOME/token)')
    .option('--config <file>', 'config file (env CAPSTAN_CONFIG; default ~/.config/capstan/config.yaml)')
    .option('--region <region>', 'AWS region for SigV4 signing (env AWS_REGION)')
    .option('--profile <profile>', 'AWS profile for SigV4 signing (env AWS_PROFILE)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'))
    .option('--no-color', 'never colour the output (colour is used only on a terminal)')
    .showHelpAfterError()
    .configureHelp({
      visibleOptions(this: Help, cmd: Command) {
        const shown = Help.prototype.visibleOptions.call(this, cmd);
        return cmd.parent ? shown : [VERSION_OPTION, ...shown];
      },
    })
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  const wrap = <A extends unknown[]>(body: (ctx: Context, ...args: A) => Promise<number>) =>
    async function (this: Command, ...args: A) {
      await exec((ctx) => body(ctx, ...args), this);
    };

  root
    .command('apply')
    .description('create or update clusters from Capstan or Cluster API YAML (multi-document)')
    .requiredOption('-f, --filename <path>', 'a file, a directory of *.yaml|*.yml|*.json, or - for stdin')
    .option('--dry-run', 'validate and print the rollout plan without changing anything')
    .action(wrap((ctx, opts: { filename: string; dryRun?: boolean }) => apply(ctx, opts.filename, { dryRun: Boolean(opts.dryRun) })));

  root
    .command('get')
    .description('list clusters, or a cluster\'s machines or events')
    .argument('<resource>', 'clusters | machines | events')
    .argument('[name]', 'cluster name (required for machines and events)')
    .option('-A, --all', 'machines: include deleted ones')
    .option('-w, --watch', 'events: keep printing new events until the cluster is gone')
    .option('--after <seq>', 'events: only events after this sequence number', positiveInt('--after'))
    .option('--timeout <seconds>', 'events --watch: stop after this long', positiveInt('--timeout'))
    .action(
      wrap(async (ctx, resource: string, name: string | undefined, opts: { all?: boolean; watch?: boolean; after?: number; timeout?: number }) => {
        const kind = resource.toLowerCase();
        if (['clusters', 'cluster', 'cl'].includes(kind)) return getClusters(ctx, name);
        if (!['machines', 'machine', 'events', 'event', 'ev'].includes(kind)) unknownResource(resource, ['clusters', 'machines', 'events']);
        if (!name) throw new CliError(EXIT.Usage, `get ${resource}: name the cluster (capstan get ${resource} NAME)`);
        if (kind.startsWith('machine')) return getMachines(ctx, name, Boolean(opts.all));
        return getEvents(ctx, name, { ...(opts.after !== undefined ? { after: opts.after } : {}), watch: Boolean(opts.watch), ...(opts.timeout ? { timeoutSeconds: opts.timeout } : {}) });
      }),
    );

  root
    .command('describe')
    .description('show a cluster as a tree: control plane, pools, machines (phase, version, age), conditions')
    .argument('<resource>', 'cluster')
    .argument('<name>', 'cluster name')
    .action(
      wrap(async (ctx, resource: string, name: string) => {
        if (!['cluster', 'clusters', 'cl'].includes(resource.toLowerCase())) unknownResource(resource, ['cluster']);
        return describeCluster(ctx, name);
      }),
    );

  root
    .command('diff')
    .description('show what applying a file would change, field by field, with the rollout plan')
    .requiredOption('-f, --filename <path>', 'a file, a directory, or - for stdin')
    .option('--exit-code', 'exit 1 when there are differences (like git diff)')
    .action(wrap((ctx, opts: { filename: string; exitCode?: boolean }) => diff(ctx, opts.filename, { exitCode: Boolean(opts.exitCode) })));

  const writeOptions = (cmd: Command) =>
    cmd.option('--resource-version <rv>', 'only write if the cluster is still at this resourceVersion (If-Match)').option('--dry-run', 'print the plan without changing anything');

  writeOptions(
    root
      .command('upgrade')
      .description('change the Kubernetes version (one field: the pools follow spec.version)')
      .argument('<name>', 'cluster name')
      .requiredOption('--version <version>', 'target version, e.g. v1.19.1'),
  ).action(wrap((ctx, name: string, opts: { version: string; resourceVersion?: string; dryRun?: boolean }) => upgrade(ctx, name, opts.version, writeFlags(opts))));

  writeOptions(
    root
      .command('scale')
      .description('set the replicas of a worker pool (or of the control plane with --pool control-plane)')
      .argument('<name>', 'cluster name')
      .requiredOption('--pool <pool>', 'worker pool name, or control-plane')
      .requiredOption('--replicas <n>', 'desired machine count'),
  ).action(wrap((ctx, name: string, opts: { pool: string; replicas: string; resourceVersion?: string; dryRun?: boolean }) => scale(ctx, name, opts.pool, opts.replicas, writeFlags(opts))));

  for (const [verb, paused] of [['pause', true], ['resume', false]] as const) {
    root
      .command(verb)
      .description(paused ? 'stop rollout progress at the next step boundary (spec.paused)' : 'let a paused rollout continue')
      .argument('<name>', 'cluster name')
      .option('--resource-version <rv>', 'only write if the cluster is still at this resourceVersion (If-Match)')
      .action(wrap((ctx, name: string, opts: { resourceVersion?: string }) => setPaused(ctx, name, paused, writeFlags(opts))));
  }

  root
    .command('delete')
    .description('delete a cluster: workers, then control plane, then infrastructure')
    .argument('<name>', 'cluster name')
    .option('--wait', 'wait until the cluster and its machines are gone')
    .option('--timeout <seconds>', 'with --wait: give up after this long (exit 8)', positiveInt('--timeout'))
    .option('--resource-version <rv>', 'only delete if the cluster is still at this resourceVersion (If-Match)')
    .action(
      wrap((ctx, name: string, opts: { wait?: boolean; timeout?: number; resourceVersion?: string }) =>
        deleteCluster(ctx, name, { wait: Boolean(opts.wait), ...(opts.timeout ? { timeoutSeconds: opts.timeout } : {}), ...(opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {}) }),
      ),
    );

  const rollout = root.command('rollout').description('follow or restart a rollout');
  rollout
    .command('status')
    .description('live progress; exits 0 when the rollout completes, 7 when it is blocked or paused, 8 on timeout')
    .argument('<name>', 'cluster name')
    .option('--timeout <seconds>', 'give up after this long (exit 8); 0 waits forever', positiveInt('--timeout'))
    .option('--no-watch', 'print the status once (exit 8 while still in progress)')
    .action(wrap((ctx, name: string, opts: { timeout?: number; watch?: boolean }) => rolloutStatus(ctx, name, { ...(opts.timeout ? { timeoutSeconds: opts.timeout } : {}), watch: opts.watch !== false })));
  rollout
    .command('restart')
    .description('replace every machine (sets spec.controlPlane.rollout.after and each pool\'s rollout.after to now)')
    .argument('<name>', 'cluster name')
    .option('--resource-version <rv>', 'only write if the cluster is still at this resourceVersion (If-Match)')
    .action(wrap((ctx, name: string, opts: { resourceVersion?: string }) => rolloutRestart(ctx, name, writeFlags(opts))));

  return root;
}

function writeFlags(opts: { resourceVersion?: string; dryRun?: boolean }) {
  return { ...(opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {}), dryRun: Boolean(opts.dryRun) };
}

/**
 * Runs the CLI once and returns its exit code. Never calls `process.exit` and never throws for a user error:
 * everything goes to `io.stderr` with a documented exit code.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.Ok;
  let ctx: Context | undefined;
  const exec = async (body: (ctx: Context) => Promise<number>, cmd: Command) => {
    ctx = new Context(io, cmd.optsWithGlobals<GlobalFlags>());
    code = await body(ctx);
  };
  try {
    const root = program(io, exec);
    if (asksForVersion(argv, root)) {
      io.stdout.write(`${packageVersion()}\n`);
      return EXIT.Ok;
    }
    await root.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help ends here with exit code 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? EXIT.Ok : EXIT.Usage;
    }
    const auth = (() => {
      try {
        const a = ctx?.client.config.auth;
        return a?.kind === 'none' ? a.reason : undefined;
      } catch {
        return undefined;
      }
    })();
    const reporter = ctx ?? { err: io.stderr, errPaint: painter(false) };
    return reportError({ err: reporter.err, errPaint: reporter.errPaint, ...(auth ? { authHint: auth } : {}) }, error);
  }
}

/**
 * The process entry point: runs the CLI with the real process and sets its exit code. `bin/capstan.js` (the installed
 * `capstan`, `npm run capstan`) calls it; `node dist/cli/main.js` and `tsx cli/main.ts` run it directly.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const code = await run(argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd(), signal: abort.signal });
  process.exitCode = code;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}

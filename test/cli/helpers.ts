/**
 * CLI test helpers: the local control plane in-process (temp CAPSTAN_HOME, table in memory, fast machines) and the
 * CLI run in-process against it with captured output.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { run } from '../../cli/main.js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../infra/local/stack.js';

/** What one CLI run printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliStack {
  readonly stack: LocalStack;
  /** A scratch directory for manifests. */
  readonly dir: string;
  /** Runs `capstan ...argv` in-process against the stack (token found through CAPSTAN_HOME). */
  cli(argv: readonly string[], options?: { readonly stdin?: string; readonly tty?: boolean; readonly env?: Record<string, string> }): Promise<CliResult>;
  /** Writes a file into `dir` and returns its path. */
  write(name: string, text: string): string;
  destroy(): Promise<void>;
}

/** A buffer that looks like a stream to the CLI. */
export function sink(tty = false): { write(text: string): boolean; readonly isTTY: boolean; text(): string } {
  let text = '';
  return { write: (s: string) => ((text += s), true), isTTY: tty, text: () => text };
}

/** Starts a stack for CLI tests: bootMs 200, drain 20 ms per pod, no reconcile timer. */
export async function startCliStack(options: LocalStackOptions = {}): Promise<CliStack> {
  const home = mkdtempSync(join(tmpdir(), 'capstan-cli-'));
  const dir = mkdtempSync(join(tmpdir(), 'capstan-cli-files-'));
  const stack = await startLocalStack({ home, persist: false, bootMs: 200, drainMsPerPod: 20, reconcileSeconds: 0, ...options });
  return {
    stack,
    dir,
    async cli(argv, opts = {}) {
      const stdout = sink(opts.tty);
      const stderr = sink(opts.tty);
      const code = await run(argv, {
        stdout,
        stderr,
        stdin: Readable.from([opts.stdin ?? '']),
        env: { CAPSTAN_ENDPOINT: stack.url, CAPSTAN_HOME: home, HOME: dir, ...(opts.env ?? {}) },
        cwd: dir,
        pollMs: 50,
      });
      return { code, stdout: stdout.text(), stderr: stderr.text() };
    },
    write(name, text) {
      const path = join(dir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      return path;
    },
    async destroy() {
      await stack.close();
      rmSync(home, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Capstan cluster document as YAML. */
export function clusterYaml(name: string, options: { version?: string; cp?: number; workers?: number; extra?: string } = {}): string {
  return `apiVersion: capstan.dev/v1alpha1
kind: Cluster
metadata:
  name: ${name}
spec:
  infrastructure:
    provider: local
  version: ${options.version ?? 'v1.18.8'}
  controlPlane:
    replicas: ${options.cp ?? 1}
    machine:
      instanceType: t3.medium
  workers:
    - name: md-0
      replicas: ${options.workers ?? 1}
      machine:
        instanceType: t3.large
${options.extra ?? ''}`;
}

/**
 * Reading the rollout ASL for the local runner: the `${...}` substitutions resolved to local ARNs, the Task states
 * (at any depth of Map nesting) with the phase function each calls, and the `TimeoutSecondsPath` bridge.
 *
 * Its own file because it is pure text-and-JSON work on the definition, independent of running executions
 * (infra/local/workflow-runner.ts): the runner keeps to the lifecycle of executions, steps and waiters.
 */
import { readFileSync } from 'node:fs';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';

// aws-local-stepfunctions 3 uses Promise.withResolvers (Node 22); Node 20 needs this polyfill.
const P = Promise as unknown as { withResolvers?: <T>() => { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } };
P.withResolvers ??= <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

/** The states of a definition or of a Map's item processor. */
interface States {
  States: Record<string, unknown>;
}

/** A loaded definition: what the interpreter runs, and the Task states with the function each calls. */
export interface LocalDefinition {
  /** Substitutions resolved, timeout paths bridged; the interpreter's constructor mutates it, so use it once. */
  readonly definition: StateMachineDefinition;
  /** Task state name → substitution name of its function (e.g. `CreateMachine` → `CreateMachineFunctionArn`). */
  readonly tasks: ReadonlyMap<string, string>;
}

function substitutionNames(definition: string): string[] {
  return [...new Set([...definition.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!))];
}

/** Collects the Task states of a definition (including those inside Map item processors), with their Resource. */
function taskStates(def: States, out: Map<string, string> = new Map()): Map<string, string> {
  for (const [name, raw] of Object.entries(def.States)) {
    const state = raw as { Type: string; Parameters?: { FunctionName?: string }; ItemProcessor?: States; Iterator?: States };
    if (state.Type === 'Task') out.set(name, state.Parameters?.FunctionName ?? '');
    const inner = state.ItemProcessor ?? state.Iterator;
    if (inner) taskStates(inner, out);
  }
  return out;
}

/**
 * Rewrites `TimeoutSecondsPath: $.x` to `$.Payload.x` on Lambda tasks whose Payload carries `x.$: $.x`, so that the
 * interpreter (which resolves the path after Parameters) reads the value AWS reads (before Parameters).
 */
export function bridgeTimeoutPaths(def: States): void {
  for (const raw of Object.values(def.States)) {
    const state = raw as { Type: string; TimeoutSecondsPath?: string; Parameters?: { Payload?: Record<string, unknown> }; ItemProcessor?: States; Iterator?: States };
    const path = state.TimeoutSecondsPath;
    if (state.Type === 'Task' && path?.startsWith('$.') && state.Parameters?.Payload) {
      const top = path.slice(2).split('.')[0]!;
      if (state.Parameters.Payload[`${top}.$`] === `$.${top}`) state.TimeoutSecondsPath = `$.Payload.${path.slice(2)}`;
    }
    const inner = state.ItemProcessor ?? state.Iterator;
    if (inner) bridgeTimeoutPaths(inner);
  }
}

/**
 * Reads the ASL file and checks that every substitution it names has a phase function in `known`.
 * Note: fails with the first missing name, before anything runs.
 */
export function loadDefinition(path: URL | string, known: ReadonlySet<string>): LocalDefinition {
  const text = readFileSync(path, 'utf8');
  for (const name of substitutionNames(text)) {
    if (!known.has(name)) throw new Error(`local workflow: no phase function for \${${name}}`);
  }
  const resolved = text.replace(/\$\{(\w+)\}/g, (_m, name: string) => `arn:aws:lambda:local:000000000000:function:${name}`);
  const definition = JSON.parse(resolved) as StateMachineDefinition;
  bridgeTimeoutPaths(definition as unknown as States);
  const tasks = new Map<string, string>();
  for (const [state, arn] of taskStates(JSON.parse(resolved) as States)) tasks.set(state, arn.split(':').pop()!);
  return { definition, tasks };
}

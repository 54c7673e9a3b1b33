/**
 * Fault injection for the local provider: make the local "cloud" misbehave the way AWS does (throttling, 5xx,
 * capacity) and make machines misbehave the way nodes do (never boot, die while draining, blocked by a PDB).
 *
 * Set in code (`new LocalProvider({ faults })`, `provider.setFaults(…)`) or from the environment for `npm start`:
 *
 * ```sh
 * CAPSTAN_LOCAL_FAULTS='{"throttleRate":0.1,"slowCallMs":200,"neverBoot":["demo-md-0-3"],"pdbBlocksDrain":0.5}' npm start
 * ```
 *
 * Rates are probabilities 0..1 drawn from the provider's (seeded) random source, so a failing run can be replayed.
 * Machine faults take a rate, `true`/`false`, or a list of machine names (`*` matches any run of characters).
 */
import { z } from 'zod';
import {
  ProviderCapacityError,
  ProviderThrottledError,
  ProviderUnavailableError,
  ValidationError,
} from '../../functions/domain/errors.js';

/** Provider calls the call-level faults can hit. */
export const LOCAL_OPERATIONS = [
  'ensureInfrastructure',
  'deleteInfrastructure',
  'createMachine',
  'listMachines',
  'deleteMachine',
  'getNode',
  'listNodes',
  'cordon',
  'drain',
  'listEtcdMembers',
  'removeControlPlaneMember',
  'removeEtcdMember',
  'deleteNode',
] as const;
export type LocalOperation = (typeof LOCAL_OPERATIONS)[number];

/**
 * Which machines a machine fault applies to: a rate 0..1 (drawn once per machine at create), all/none, a list of
 * names or `*` globs, or (in code only) a predicate.
 */
export type MachineSelector = boolean | number | readonly string[] | ((machine: string) => boolean);

/** Faults of the local provider. Every field is optional; an empty object is a well-behaved cloud. */
export interface LocalFaults {
  /** Share of calls that fail with ProviderThrottledError. @default 0 */
  readonly throttleRate?: number;
  /** Share of calls that fail with ProviderUnavailableError. @default 0 */
  readonly errorRate?: number;
  /** Share of createMachine calls that fail with ProviderCapacityError (naming the failure domain). @default 0 */
  readonly capacityErrorRate?: number;
  /** Extra latency of every call, in milliseconds. @default 0 */
  readonly slowCallMs?: number;
  /** Operations the call-level faults above apply to. @default every operation */
  readonly operations?: readonly LocalOperation[];
  /** The agent never registers its node nor calls back (a machine that fails to boot). @default false */
  readonly neverBoot?: MachineSelector;
  /** The agent exits as soon as a drain starts (a node lost mid-drain). @default false */
  readonly dieDuringDrain?: MachineSelector;
  /** A PodDisruptionBudget keeps one pod on the node: drain reports it in `blockedBy` until forced. @default false */
  readonly pdbBlocksDrain?: MachineSelector;
}

/** Per-machine faults decided at create time and handed to the agent. */
export interface MachineFaultFlags {
  readonly neverBoot: boolean;
  readonly dieDuringDrain: boolean;
  readonly pdbBlocksDrain: boolean;
}

const rate = z.number().min(0).max(1);
const selector = z.union([z.boolean(), rate, z.array(z.string().min(1))]);
const faultsSchema = z
  .object({
    throttleRate: rate.optional(),
    errorRate: rate.optional(),
    capacityErrorRate: rate.optional(),
    slowCallMs: z.number().int().min(0).max(60_000).optional(),
    operations: z.array(z.enum(LOCAL_OPERATIONS)).optional(),
    neverBoot: selector.optional(),
    dieDuringDrain: selector.optional(),
    pdbBlocksDrain: selector.optional(),
  })
  .strict();

/**
 * Parses `CAPSTAN_LOCAL_FAULTS` (JSON). Undefined or empty means no faults.
 *
 * Fails with a ValidationError listing every bad field at once, so a typo in the env var is never silently ignored.
 */
export function parseLocalFaults(json: string | undefined): LocalFaults {
  if (json === undefined || json.trim() === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new ValidationError([{ path: 'CAPSTAN_LOCAL_FAULTS', message: `must be JSON, got ${JSON.stringify(json)} (${(error as Error).message})` }]);
  }
  const parsed = faultsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationError(
      parsed.error.issues.map((i) => ({ path: ['CAPSTAN_LOCAL_FAULTS', ...i.path.map(String)].join('.'), message: i.message })),
    );
  }
  return parsed.data;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same fault sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** Whether a machine fault applies to `machine`. Rates draw from `random` (only when strictly between 0 and 1). */
export function selects(selector: MachineSelector | undefined, machine: string, random: () => number): boolean {
  if (selector === undefined || selector === false) return false;
  if (selector === true) return true;
  if (typeof selector === 'number') return selector >= 1 ? true : selector <= 0 ? false : random() < selector;
  if (typeof selector === 'function') return selector(machine);
  return selector.some((pattern) => globToRegExp(pattern).test(machine));
}

/** Decides a new machine's faults; called once per machine at create time. */
export function machineFaults(faults: LocalFaults, machine: string, random: () => number): MachineFaultFlags {
  return {
    neverBoot: selects(faults.neverBoot, machine, random),
    dieDuringDrain: selects(faults.dieDuringDrain, machine, random),
    pdbBlocksDrain: selects(faults.pdbBlocksDrain, machine, random),
  };
}

function hit(rateValue: number | undefined, random: () => number): boolean {
  if (rateValue === undefined || rateValue <= 0) return false;
  return rateValue >= 1 || random() < rateValue;
}

/**
 * Applies the call-level faults of one provider call: waits `slowCallMs`, then may throw a named provider error.
 *
 * Note: the order is fixed (throttle, error, capacity) so a seeded run replays the same failures.
 */
export async function applyCallFaults(
  faults: LocalFaults,
  operation: LocalOperation,
  random: () => number,
  context: { readonly failureDomain?: string } = {},
): Promise<void> {
  if (faults.operations && !faults.operations.includes(operation)) return;
  if (faults.slowCallMs && faults.slowCallMs > 0) await new Promise((r) => setTimeout(r, faults.slowCallMs));
  if (hit(faults.throttleRate, random)) {
    throw new ProviderThrottledError(`local provider throttled ${operation} (injected fault throttleRate=${faults.throttleRate})`);
  }
  if (hit(faults.errorRate, random)) {
    throw new ProviderUnavailableError(`local provider unavailable for ${operation} (injected fault errorRate=${faults.errorRate})`);
  }
  if (operation === 'createMachine' && hit(faults.capacityErrorRate, random)) {
    throw new ProviderCapacityError(
      `local provider has no capacity in ${context.failureDomain ?? 'the default failure domain'} (injected fault capacityErrorRate=${faults.capacityErrorRate})`,
      context.failureDomain,
    );
  }
}

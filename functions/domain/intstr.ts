/**
 * Kubernetes IntOrString arithmetic, exactly as `intstr.GetScaledValueFromIntOrPercent` does it: an int is itself,
 * `"N%"` is N percent of `total` rounded up or down, and any other string is an error.
 */
import type { IntOrPercent } from './cluster.js';

const PERCENT = /^(\d+)%$/;

/** Thrown for a string that is not `"N%"`; `message` names the rule. */
export class IntOrPercentError extends Error {
  constructor(readonly value: unknown) {
    super(`must be an integer or a percentage like "25%", got ${JSON.stringify(value)}`);
    this.name = 'IntOrPercentError';
  }
}

/** True when `value` is a non-negative integer or a `"N%"` string. */
export function isIntOrPercent(value: unknown): value is IntOrPercent {
  return (typeof value === 'number' && Number.isInteger(value) && value >= 0) || (typeof value === 'string' && PERCENT.test(value));
}

/**
 * The integer an IntOrPercent stands for against `total`.
 * Note: percentages round like Cluster API: maxSurge up (`roundUp: true`), maxUnavailable down.
 */
export function scaledValue(value: IntOrPercent, total: number, roundUp: boolean): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new IntOrPercentError(value);
    return value;
  }
  const match = PERCENT.exec(value);
  if (!match) throw new IntOrPercentError(value);
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

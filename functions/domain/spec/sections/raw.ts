/**
 * Reading the raw input in pass 2 (the rules between fields): a field as an object, and a field's value only when it
 * is valid on its own.
 *
 * Its own file because every section's cross-field rule reads the raw input this way.
 */
import type { z } from 'zod';

/** A raw (unvalidated) JSON object. */
export type Raw = Readonly<Record<string, unknown>>;

/** `value` when it is a JSON object (not null, not an array), else undefined. */
export function asObject(value: unknown): Raw | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : undefined;
}

/** The value when it passes `schema` alone, the default when absent, else undefined (its own issue is reported). */
export function validOr<T>(schema: z.ZodType<T>, value: unknown, fallback?: T): T | undefined {
  if (value === undefined) return fallback;
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

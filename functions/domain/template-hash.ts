/**
 * The identity of a machine template: two machines made from templates with the same hash are interchangeable.
 */
import { createHash } from 'node:crypto';
import type { MachineTemplate } from './cluster.js';

/**
 * A short, stable hex hash of the fields that shape a machine (instance type, image, root volume size).
 *
 * Note: this is Cluster API's `machine-template-hash` idea: a machine whose `templateHash` differs from the hash of
 * its pool's current template is outdated and gets replaced. The hash is over a canonical JSON of exactly these
 * three fields (absent fields as `null`), so key order, extra fields and object identity never matter; changing
 * the set of fields would roll every machine, so it must not change lightly.
 */
export function templateHash(template: MachineTemplate): string {
  const canonical = JSON.stringify([template.instanceType, template.imageId ?? null, template.rootVolumeSizeGiB ?? null]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 10);
}

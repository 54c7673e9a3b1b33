/**
 * The `spec.network` section: the pod, service and VPC address blocks and the CNI manifest, and its rule between
 * fields: the blocks must not overlap one another (nor the VPC the aws provider would create by default).
 *
 * Its own file: one section of the document, its schema beside its cross-field rule.
 */
import { z } from 'zod';
import type { Issue } from '../../errors.js';
import { cidrsOverlap, parseCidr } from '../cidr.js';
import { CLUSTER_DEFAULTS } from '../cluster-defaults.js';
import { cidrField } from '../fields.js';
import { asObject, type Raw, validOr } from './raw.js';

/** `spec.network`, every field defaulted but `vpcCidr`. */
export const networkSchema = z
  .strictObject({
    podCidr: cidrField({ minPrefix: 8, maxPrefix: 24, role: 'pods (each node takes a /24)' }).default(CLUSTER_DEFAULTS.podCidr),
    serviceCidr: cidrField({ minPrefix: 12, maxPrefix: 28, role: 'services (Kubernetes allows at most a /12)' }).default(
      CLUSTER_DEFAULTS.serviceCidr,
    ),
    vpcCidr: cidrField({ minPrefix: 16, maxPrefix: 28, role: 'an AWS VPC' }).optional(),
    cni: z
      .string()
      .max(2048)
      .refine((v) => v === 'none' || /^https:\/\/[^\s'"`$\\]+$/.test(v), {
        message: 'must be an https:// manifest URL (no quotes, spaces or $) or "none"',
      })
      .default(CLUSTER_DEFAULTS.cni),
  })
  .prefault({});

const cidrText = cidrField();

/**
 * Rules between fields of `spec.network` (raw): no two blocks overlap, counting the default VPC of the aws provider
 * when neither `vpcCidr` nor `vpcId` is given. An overlap is reported on the later block, or on the explicit one.
 * @param infrastructure the raw `spec.infrastructure`, which decides whether a default VPC exists
 */
export function networkIssues(value: unknown, infrastructure: Raw | undefined): Issue[] {
  const network = value === undefined ? {} : asObject(value);
  if (!network) return [];
  const issues: Issue[] = [];
  const blocks: { field: string; text: string | undefined; implicit?: boolean }[] = [
    { field: 'podCidr', text: validOr(cidrText, network.podCidr, CLUSTER_DEFAULTS.podCidr) },
    { field: 'serviceCidr', text: validOr(cidrText, network.serviceCidr, CLUSTER_DEFAULTS.serviceCidr) },
    { field: 'vpcCidr', text: validOr(cidrText, network.vpcCidr) },
  ];
  if (network.vpcCidr === undefined && infrastructure?.provider === 'aws' && infrastructure.vpcId === undefined) {
    blocks[2] = { field: 'vpcCidr', text: CLUSTER_DEFAULTS.awsVpcCidr, implicit: true };
  }
  for (let j = 1; j < blocks.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = blocks[i] as (typeof blocks)[number];
      const b = blocks[j] as (typeof blocks)[number];
      const ca = a.text === undefined ? undefined : parseCidr(a.text);
      const cb = b.text === undefined ? undefined : parseCidr(b.text);
      if (!ca || !cb || !cidrsOverlap(ca, cb)) continue;
      const [reported, other] = b.implicit ? [a, b] : [b, a];
      const otherText = `${other.field} ${other.text}${other.implicit ? ' (the default VPC CIDR on aws)' : ''}`;
      issues.push({ path: `spec.network.${reported.field}`, message: `must not overlap ${otherText}, got ${reported.text}` });
    }
  }
  return issues;
}

/**
 * The `spec.controlPlane` section: an odd number of replicas (etcd quorum), their machine, their rollout, and who
 * may reach the API server.
 *
 * Its own file: one section of the document. Its fields are checked each on its own; it has no rule between fields.
 */
import { z } from 'zod';
import { CLUSTER_DEFAULTS, CLUSTER_LIMITS } from '../cluster-defaults.js';
import { describeValue } from '../documents.js';
import { cidrField, uniqueArray } from '../fields.js';
import { machineSchema } from './machine.js';
import { controlPlaneRolloutSchema } from './rollout.js';

const CP_REPLICAS = [1, 3, 5, 7] as const;

/** Schemes of the API server load balancer (CAPA's `controlPlaneLoadBalancer.scheme`). */
export const ENDPOINT_SCHEMES = ['internet-facing', 'internal'] as const;

/**
 * Who may reach the API server (6443) through its load balancer. Not materialized when absent: the provider then
 * uses `internet-facing` and no extra source (see `ControlPlaneEndpointSpec`).
 */
const endpointSchema = z.strictObject({
  scheme: z.enum(ENDPOINT_SCHEMES).default('internet-facing'),
  allowedCidrs: uniqueArray(cidrField(), CLUSTER_LIMITS.endpointAllowedCidrs).default([]),
});

/** `spec.controlPlane`, every field defaulted but `endpoint`. */
export const controlPlaneSchema = z
  .strictObject({
    replicas: z
      .number()
      .int()
      .refine((n) => (CP_REPLICAS as readonly number[]).includes(n), {
        error: (iss) => `must be odd (${CP_REPLICAS.join(', ')}), got ${describeValue(iss.input)}`,
      })
      .default(CLUSTER_DEFAULTS.controlPlaneReplicas),
    machine: machineSchema(CLUSTER_DEFAULTS.controlPlaneInstanceType),
    rollout: controlPlaneRolloutSchema,
    endpoint: endpointSchema.optional(),
  })
  .prefault({});

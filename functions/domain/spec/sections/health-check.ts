/**
 * The `spec.healthCheck` section: when a machine counts as failed (a MachineHealthCheck's startup and unhealthy
 * timeouts) and how many may be remediated at once.
 *
 * Its own file: one section of the document. It has no rule between fields.
 */
import { z } from 'zod';
import { CLUSTER_DEFAULTS } from '../cluster-defaults.js';
import { durationField, intOrPercentField } from '../fields.js';

/** `spec.healthCheck`, every field defaulted. */
export const healthCheckSchema = z
  .strictObject({
    nodeStartupTimeout: durationField.default(CLUSTER_DEFAULTS.nodeStartupTimeout),
    unhealthyTimeout: durationField.default(CLUSTER_DEFAULTS.unhealthyTimeout),
    maxUnhealthy: intOrPercentField({ maxPercent: 100 }).default(CLUSTER_DEFAULTS.maxUnhealthy),
  })
  .prefault({});

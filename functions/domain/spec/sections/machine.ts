/**
 * The parts of the schema the control plane and the worker pools share: a machine's shape and a list of failure
 * domains.
 *
 * Their own file because both control-plane.ts and workers.ts (and the spec's own `failureDomains`) use them.
 */
import { z } from 'zod';
import { CLUSTER_LIMITS } from '../cluster-defaults.js';
import { intField, patternString, uniqueArray } from '../fields.js';

/** A machine (instance type, image, root volume), defaulting its instance type to `defaultInstanceType`. */
export const machineSchema = (defaultInstanceType: string) =>
  z
    .strictObject({
      instanceType: patternString(/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/, 'an EC2 instance type like t3.large', 64).default(defaultInstanceType),
      imageId: patternString(/^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, 'an AMI id like ami-0123456789abcdef0', 32).optional(),
      rootVolumeSizeGiB: intField(8, 16384).optional(),
    })
    .prefault({});

/** Unique failure domain names (availability zones on aws). */
export const failureDomainsSchema = uniqueArray(
  patternString(/^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'a failure domain name like us-east-1a', 64),
  CLUSTER_LIMITS.failureDomains,
);

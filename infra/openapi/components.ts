/**
 * The component schemas of the OpenAPI document (infra/openapi/build.ts): the cluster document (from the spec's own
 * schema), clusters, machines, events, principals, errors. Its own file because the schemas are half of the document
 * and change with the domain, while the operations change with the routes.
 */
import { clusterDocumentJsonSchema } from '../../functions/domain/spec/index.js';
import { CLUSTER_PHASES } from '../../functions/domain/cluster.js';
import { EVENT_TYPES, MACHINE_PHASES } from '../../functions/domain/machine.js';

/** A JSON Schema (or any OpenAPI object) as plain data. */
export type Schema = Record<string, unknown>;

/** A reference to the component schema `name`. */
export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/** A JSON media type map with `schema`. */
export const json = (schema: Schema) => ({ 'application/json': { schema } });

function stripMeta(schema: Schema): Schema {
  const { $schema: _s, ...rest } = schema;
  return rest;
}

/** Builds the component schemas, by name, in the order the document lists them. */
export function componentSchemas(): Record<string, Schema> {
  const clusterDocument = stripMeta(clusterDocumentJsonSchema());
  const condition = {
    type: 'object',
    required: ['type', 'status', 'lastTransitionTime'],
    properties: { type: { type: 'string' }, status: { enum: ['True', 'False', 'Unknown'] }, reason: { type: 'string' }, message: { type: 'string' }, lastTransitionTime: { type: 'string', format: 'date-time' } },
  };
  const poolStatus = {
    type: 'object',
    required: ['name', 'version', 'replicas', 'readyReplicas', 'updatedReplicas'],
    properties: {
      name: { type: 'string' },
      version: { type: 'string' },
      replicas: { type: 'integer' },
      readyReplicas: { type: 'integer' },
      updatedReplicas: { type: 'integer' },
      unavailableReplicas: { type: 'integer' },
      machineNamesHash: { type: 'string', description: 'Fingerprint of the live machine names of the pool (the reconcile sweep compares it with the provider).' },
    },
    additionalProperties: false,
  };
  const schemas: Record<string, Schema> = {
    ClusterDocument: clusterDocument,
    Cluster: {
      type: 'object',
      required: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
      properties: {
        apiVersion: { const: 'capstan.dev/v1alpha1' },
        kind: { const: 'Cluster' },
        metadata: {
          type: 'object',
          required: ['name', 'uid', 'generation', 'resourceVersion', 'creationTimestamp'],
          properties: {
            name: { type: 'string' },
            labels: { type: 'object', additionalProperties: { type: 'string' } },
            annotations: { type: 'object', additionalProperties: { type: 'string' } },
            uid: { type: 'string' },
            generation: { type: 'integer', minimum: 1 },
            resourceVersion: { type: 'string' },
            creationTimestamp: { type: 'string', format: 'date-time' },
            deletionTimestamp: { type: 'string', format: 'date-time' },
          },
          additionalProperties: false,
        },
        spec: { $ref: '#/components/schemas/ClusterDocument/properties/spec', description: 'The validated spec with every default filled in.' },
        status: ref('ClusterStatus'),
      },
      additionalProperties: false,
    },
    ClusterStatus: {
      type: 'object',
      required: ['phase', 'observedGeneration', 'controlPlane', 'workers', 'conditions'],
      properties: {
        phase: { enum: [...CLUSTER_PHASES] },
        observedGeneration: { type: 'integer' },
        controlPlane: poolStatus,
        workers: { type: 'array', items: poolStatus },
        conditions: { type: 'array', items: condition },
        controlPlaneEndpoint: { type: 'string' },
        activeRollout: { type: 'string' },
        lastUpdated: { type: 'string', format: 'date-time' },
      },
      additionalProperties: false,
    },
    ClusterList: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('Cluster') }, next: { type: 'string' } } },
    DryRun: {
      type: 'object',
      required: ['dryRun', 'action', 'cluster', 'plan'],
      properties: {
        dryRun: { const: true },
        action: { enum: ['created', 'updated', 'unchanged'] },
        cluster: ref('Cluster'),
        plan: {
          type: 'object',
          required: ['waves', 'waveCount', 'replaced', 'estimatedSeconds', 'assumptions'],
          properties: {
            waves: { type: 'array', items: { type: 'object', required: ['creates', 'removes'], properties: { creates: { type: 'array', items: { type: 'string' } }, removes: { type: 'array', items: { type: 'string' } } } } },
            waveCount: { type: 'integer' },
            replaced: { type: 'array', items: { type: 'string' } },
            estimatedSeconds: { type: 'number' },
            assumptions: { type: 'object' },
          },
        },
      },
    },
    ApplyResult: {
      type: 'object',
      required: ['applied'],
      properties: {
        dryRun: { type: 'boolean' },
        applied: { type: 'array', items: { type: 'object', required: ['name', 'action'], properties: { name: { type: 'string' }, action: { enum: ['created', 'updated', 'unchanged'] }, generation: { type: 'integer' }, plan: { type: 'object' } } } },
      },
    },
    Machine: {
      type: 'object',
      required: ['name', 'role', 'pool', 'version', 'phase', 'createdAt'],
      properties: {
        name: { type: 'string' },
        role: { enum: ['control-plane', 'worker'] },
        pool: { type: 'string' },
        version: { type: 'string' },
        phase: { enum: [...MACHINE_PHASES] },
        providerId: { type: 'string' },
        failureDomain: { type: 'string' },
        address: { type: 'string' },
        createdAt: { type: 'string', format: 'date-time' },
        readyAt: { type: 'string', format: 'date-time' },
        drainStartedAt: { type: 'string', format: 'date-time' },
        deletedAt: { type: 'string', format: 'date-time' },
        failureReason: { type: 'string' },
        failureMessage: { type: 'string' },
      },
      additionalProperties: false,
    },
    MachineList: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('Machine') } } },
    Event: {
      type: 'object',
      required: ['seq', 'time', 'type', 'message'],
      properties: { seq: { type: 'integer', minimum: 1 }, time: { type: 'string', format: 'date-time' }, type: { enum: [...EVENT_TYPES] }, machine: { type: 'string' }, pool: { type: 'string' }, message: { type: 'string' }, data: { type: 'object' } },
    },
    EventList: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('Event') }, next: { type: 'string', description: 'Cursor for `after`.' } } },
    Principal: { type: 'object', required: ['id', 'accounts', 'admin'], properties: { id: { type: 'string' }, accounts: { type: 'array', items: { type: 'string' } }, admin: { type: 'boolean' } } },
    Error: {
      type: 'object',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message', 'details'],
          properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'array', items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } } } },
        },
      },
    },
  };
  return schemas;
}

/**
 * The OpenAPI 3.1 document of Capstan's HTTP API, built from the route table and the spec's own schema, so the
 * document cannot drift from the code: `npm run openapi` writes docs/openapi.json, and a test fails when the
 * committed file differs from what this builds (and validates live responses against it).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ROUTES } from '../../functions/api/routes.js';
import { clusterDocumentJsonSchema } from '../../functions/domain/spec/index.js';
import { CLUSTER_PHASES } from '../../functions/domain/cluster.js';
import { EVENT_TYPES, MACHINE_PHASES } from '../../functions/domain/machine.js';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });

function stripMeta(schema: Schema): Schema {
  const { $schema: _s, ...rest } = schema;
  return rest;
}

const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });

const STANDARD_ERRORS = {
  '400': errorResponse('The request is malformed; `details` lists every problem with its field path.'),
  '401': errorResponse('Missing or invalid credentials.'),
  '403': errorResponse('The caller may not do this (e.g. target an account it is not granted).'),
  '404': errorResponse('No such cluster, or not visible to the caller.'),
  '429': errorResponse('Throttled; retry later.'),
  '500': errorResponse('Internal error; the body carries a request id, details are in the logs.'),
};

const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 40 } };
const dryRunParam = { name: 'dryRun', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] }, description: 'Return the plan (waves, order, estimated duration) without changing anything.' };
const ifMatchParam = { name: 'If-Match', in: 'header', required: false, schema: { type: 'string' }, description: 'The resourceVersion last read; a stale one answers 412.' };

const documentBody = {
  required: true,
  content: {
    'application/json': { schema: ref('ClusterDocument') },
    'application/yaml': { schema: ref('ClusterDocument') },
  },
};

/** Builds the OpenAPI document. */
export function buildOpenApi(): Schema {
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

  const ops: Record<string, Record<string, Schema>> = {
    '/healthz': { get: { operationId: 'healthz', summary: 'Liveness and store reachability', security: [], responses: { '200': { description: 'OK', content: json({ type: 'object', required: ['status'], properties: { status: { const: 'ok' } } }) }, '500': STANDARD_ERRORS['500'] } } },
    '/v1/clusters': {
      get: {
        operationId: 'listClusters',
        summary: 'List the clusters the caller may see',
        parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } }, { name: 'cursor', in: 'query', schema: { type: 'string' } }],
        responses: { '200': { description: 'A page of clusters', content: json(ref('ClusterList')) }, ...STANDARD_ERRORS },
      },
    },
    '/v1/clusters/{name}': {
      get: { operationId: 'getCluster', summary: 'Read a cluster', parameters: [nameParam], responses: { '200': { description: 'The cluster', content: json(ref('Cluster')) }, ...STANDARD_ERRORS } },
      put: {
        operationId: 'putCluster',
        summary: 'Create (201) or replace (200) a cluster; an unchanged spec is a no-op',
        parameters: [nameParam, dryRunParam, ifMatchParam],
        requestBody: documentBody,
        responses: {
          '200': { description: 'Updated or unchanged (or a dry run)', content: json({ oneOf: [ref('Cluster'), ref('DryRun')] }) },
          '201': { description: 'Created', content: json(ref('Cluster')) },
          '409': errorResponse('The cluster is being deleted, or the name is not available.'),
          '412': errorResponse('If-Match is stale.'),
          '413': errorResponse('The body is too large.'),
          '415': errorResponse('Unsupported content type.'),
          '422': errorResponse('The change breaks an update rule (e.g. skips a minor version).'),
          ...STANDARD_ERRORS,
        },
      },
      patch: {
        operationId: 'patchCluster',
        summary: 'Change fields with a JSON merge patch (RFC 7386)',
        parameters: [nameParam, dryRunParam, ifMatchParam],
        requestBody: { required: true, content: { 'application/merge-patch+json': { schema: { type: 'object' } } } },
        responses: {
          '200': { description: 'Updated or unchanged (or a dry run)', content: json({ oneOf: [ref('Cluster'), ref('DryRun')] }) },
          '409': errorResponse('The cluster is being deleted.'),
          '412': errorResponse('If-Match is stale.'),
          '413': errorResponse('The body is too large.'),
          '415': errorResponse('Unsupported content type.'),
          '422': errorResponse('The change breaks an update rule.'),
          ...STANDARD_ERRORS,
        },
      },
      delete: {
        operationId: 'deleteCluster',
        summary: 'Delete a cluster: workers, then control plane, then infrastructure; the record goes last',
        parameters: [nameParam, ifMatchParam],
        responses: { '202': { description: 'Deletion accepted; the cluster stays visible with phase Deleting', content: json(ref('Cluster')) }, '412': errorResponse('If-Match is stale.'), ...STANDARD_ERRORS },
      },
    },
    '/v1/apply': {
      post: {
        operationId: 'apply',
        summary: 'Apply multi-document YAML: Capstan and Cluster API (v1beta1, v1beta2) documents',
        parameters: [dryRunParam],
        requestBody: { required: true, content: { 'application/yaml': { schema: { type: 'string' } }, 'application/json': { schema: {} } } },
        responses: {
          '200': { description: 'What was applied', content: json(ref('ApplyResult')) },
          '409': errorResponse('A cluster in the request is being deleted.'),
          '413': errorResponse('The body is too large.'),
          '415': errorResponse('Unsupported content type.'),
          '422': errorResponse('A kind Capstan does not support (the error names it and its document index); nothing was stored.'),
          ...STANDARD_ERRORS,
        },
      },
    },
    '/v1/clusters/{name}/machines': {
      get: {
        operationId: 'listMachines',
        summary: "A cluster's machines",
        parameters: [
          nameParam,
          {
            name: 'includeDeleted',
            in: 'query',
            description: 'Also the Deleted records still kept: a finished rollout archives those deleted more than a day ago (the event log keeps their history).',
            schema: { type: 'string', enum: ['true', 'false'] },
          },
        ],
        responses: { '200': { description: 'Machines, oldest first', content: json(ref('MachineList')) }, ...STANDARD_ERRORS },
      },
    },
    '/v1/clusters/{name}/events': {
      get: {
        operationId: 'listEvents',
        summary: "A cluster's durable, ordered event log",
        parameters: [nameParam, { name: 'after', in: 'query', schema: { type: 'integer', minimum: 0 } }, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } }],
        responses: { '200': { description: 'Events with seq > after', content: json(ref('EventList')) }, ...STANDARD_ERRORS },
      },
    },
    '/v1/callbacks/{cluster}/{machine}/ready': {
      post: {
        operationId: 'machineReady',
        summary: 'A machine reports Ready (authenticated by its one-time machine token)',
        security: [{ machineToken: [] }],
        parameters: [{ name: 'cluster', in: 'path', required: true, schema: { type: 'string' } }, { name: 'machine', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': { description: 'Recorded', content: json({ type: 'object', required: ['machine', 'phase'], properties: { machine: { type: 'string' }, phase: { type: 'string' } } }) },
          '400': errorResponse('A path parameter is malformed.'),
          '401': errorResponse('Wrong token.'),
          '409': errorResponse('The token was already used.'),
          '500': STANDARD_ERRORS['500'],
        },
      },
    },
    '/v1/principals': {
      get: { operationId: 'listPrincipals', summary: 'List principal grants (administrators)', responses: { '200': { description: 'Grants', content: json({ type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('Principal') } } }) }, ...STANDARD_ERRORS } },
    },
    '/v1/principals/{id}': {
      put: {
        operationId: 'putPrincipal',
        summary: 'Grant a principal accounts (administrators)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { required: true, content: json({ type: 'object', required: ['accounts'], properties: { accounts: { type: 'array', items: { type: 'string' } }, admin: { type: 'boolean' } }, additionalProperties: false }) },
        responses: {
          '200': { description: 'The grant', content: json(ref('Principal')) },
          '413': errorResponse('The body is too large.'),
          '415': errorResponse('Unsupported content type.'),
          ...STANDARD_ERRORS,
        },
      },
      delete: {
        operationId: 'deletePrincipal',
        summary: 'Remove a principal (administrators)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '204': { description: 'Removed' }, ...STANDARD_ERRORS },
      },
    },
  };
  for (const route of ROUTES) {
    if (!ops[route.resource]?.[route.method.toLowerCase()]) throw new Error(`openapi: route ${route.method} ${route.resource} is not documented`);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Capstan API',
      version: '0.1.0',
      description: 'Create, upgrade, repair, scale and delete Kubernetes clusters. On AWS every route but /healthz and machine callbacks is signed with SigV4 (IAM); locally it takes `Authorization: Bearer <token>`.',
    },
    servers: [{ url: 'http://127.0.0.1:7070', description: 'local control plane (npm start)' }],
    security: [{ sigv4: [] }, { bearer: [] }],
    paths: ops,
    components: {
      schemas,
      securitySchemes: {
        sigv4: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'AWS Signature Version 4 (API Gateway IAM authorization).' },
        bearer: { type: 'http', scheme: 'bearer', description: 'Local mode: the token in $CAPSTAN_HOME/token.' },
        machineToken: { type: 'http', scheme: 'bearer', description: 'One-time, machine-scoped token handed to the machine at boot.' },
      },
    },
  };
}

export const OPENAPI_PATH = fileURLToPath(new URL('../../docs/openapi.json', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(OPENAPI_PATH, `${JSON.stringify(buildOpenApi(), null, 2)}\n`);
  process.stdout.write(`wrote ${OPENAPI_PATH}\n`);
}

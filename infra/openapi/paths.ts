/**
 * The operations of the OpenAPI document (infra/openapi/build.ts), by path and method: parameters, request bodies and
 * every response with its error cases. Its own file because the operations change with the routes (build.ts checks
 * that every catalog route is documented here), while the schemas change with the domain.
 */
import { json, ref, type Schema } from './components.js';

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

/** Builds the path items: path → lowercase method → operation. */
export function pathOperations(): Record<string, Record<string, Schema>> {
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
  return ops;
}

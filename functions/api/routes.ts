/**
 * The HTTP API's routes: method, API Gateway resource pattern, handler module, and whether IAM/bearer auth
 * applies. The local HTTP host routes with this table; the CDK construct declares the same routes.
 */
export interface RouteDefinition {
  readonly method: 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST';
  readonly resource: string;
  /** Entry file under functions/api/ (without extension). */
  readonly handler: 'healthz' | 'clusters' | 'apply' | 'machines' | 'events' | 'callbacks' | 'principals';
  /** False for the public health check and for machine callbacks (they carry a one-time machine token). */
  readonly auth: boolean;
}

export const ROUTES: readonly RouteDefinition[] = [
  { method: 'GET', resource: '/healthz', handler: 'healthz', auth: false },
  { method: 'GET', resource: '/v1/clusters', handler: 'clusters', auth: true },
  { method: 'GET', resource: '/v1/clusters/{name}', handler: 'clusters', auth: true },
  { method: 'PUT', resource: '/v1/clusters/{name}', handler: 'clusters', auth: true },
  { method: 'PATCH', resource: '/v1/clusters/{name}', handler: 'clusters', auth: true },
  { method: 'DELETE', resource: '/v1/clusters/{name}', handler: 'clusters', auth: true },
  { method: 'POST', resource: '/v1/apply', handler: 'apply', auth: true },
  { method: 'GET', resource: '/v1/clusters/{name}/machines', handler: 'machines', auth: true },
  { method: 'GET', resource: '/v1/clusters/{name}/events', handler: 'events', auth: true },
  { method: 'POST', resource: '/v1/callbacks/{cluster}/{machine}/ready', handler: 'callbacks', auth: false },
  { method: 'GET', resource: '/v1/principals', handler: 'principals', auth: true },
  { method: 'PUT', resource: '/v1/principals/{id}', handler: 'principals', auth: true },
  { method: 'DELETE', resource: '/v1/principals/{id}', handler: 'principals', auth: true },
];

/** Matches a concrete path against a resource pattern; returns the path parameters or undefined. */
export function matchResource(resource: string, path: string): Record<string, string> | undefined {
  const want = resource.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (g === '') return undefined;
      params[w.slice(1, -1)] = g;
    } else if (w !== g) return undefined;
  }
  return params;
}

/**
 * The HTTP routes of the catalog as both hostings serve them — method, API Gateway resource pattern, the function
 * behind each, whether callers must authenticate — and how a concrete path matches a pattern. Its own file because
 * the route table is what the local HTTP host, the OpenAPI builder and the API tests read, apart from the function
 * specs it is derived from (functions.ts).
 */
import { API_FUNCTIONS, type ApiFunctionId, type ApiRoute } from './functions.js';

/** Maps `functions/api/<name>.ts` entries to `<name>`. */
type ApiHandlerNameOf<E> = E extends `functions/api/${infer N}.ts` ? N : never;
/** The name of an API handler file under functions/api/ (without extension), e.g. `clusters`. */
export type ApiHandlerName = ApiHandlerNameOf<(typeof API_FUNCTIONS)[number]['entry']>;

/**
 * One HTTP route as both hostings serve it: method, API Gateway resource pattern, the function behind it, and whether
 * callers must authenticate (IAM/SigV4 on AWS, the bearer token locally).
 */
export interface RouteDefinition {
  readonly method: ApiRoute['method'];
  readonly resource: string;
  /** Entry file under functions/api/ (without extension). */
  readonly handler: ApiHandlerName;
  /** False for the public health check and for machine callbacks (they carry a one-time machine token). */
  readonly auth: boolean;
  /** The catalog ID of the function serving the route. */
  readonly functionId: ApiFunctionId;
}

function apiHandlerName(entry: string): ApiHandlerName {
  const match = /^functions\/api\/([\w-]+)\.ts$/.exec(entry);
  if (!match) throw new Error(`function catalog: an API entry must be functions/api/<name>.ts, got ${JSON.stringify(entry)}`);
  return match[1] as ApiHandlerName;
}

/** Every route of {@link API_FUNCTIONS}, in catalog order. */
export const ROUTES: readonly RouteDefinition[] = API_FUNCTIONS.flatMap((f) =>
  (f.routes as readonly ApiRoute[]).map((r) => ({ method: r.method, resource: r.path, handler: apiHandlerName(f.entry), auth: !r.public, functionId: f.id })),
);

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

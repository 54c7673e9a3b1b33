/**
 * The HTTP stack's shapes: what a route handler sees and answers, the state the middlewares hand each other, and the
 * one conversion of an answer into an API Gateway proxy result.
 *
 * Why its own file: every HTTP middleware (request-context.ts, authenticate.ts, body-limit.ts, api-request.ts,
 * error-response.ts) and the composition (http.ts) share these types; keeping them apart keeps each of those small
 * and free of import cycles.
 */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Deps } from '../adapters/deps.js';
import type { Principal } from '../domain/ports.js';

/** What a route handler sees: the parsed request, the caller and the process's dependencies. */
export interface ApiRequest {
  readonly method: string;
  /** API Gateway resource pattern, e.g. `/v1/clusters/{name}`. */
  readonly resource: string;
  readonly path: string;
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  /** Body as text (strict UTF-8), or undefined. */
  readonly body: string | undefined;
  readonly requestId: string;
  /** The authenticated caller; undefined on public routes. */
  readonly principal: Principal | undefined;
}

/** What a route handler answers: status, JSON body (omitted for 204) and extra headers. */
export interface ApiResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A route: a plain async function of the request and the dependencies, so tests call it without HTTP. */
export type RouteHandler = (request: ApiRequest, deps: Deps) => Promise<ApiResponse>;

/**
 * What the middlewares hand each other in middy's `request.internal`, in the order they fill it: requestContext
 * (`requestId`, `deps`), then authenticate (`principal`).
 */
export type HttpInternal = {
  requestId?: string;
  deps?: Deps;
  principal?: Principal;
};

/** The Lambda context as the route sees it: apiRequest puts the parsed request and the dependencies on it. */
export interface HttpContext extends Context {
  capstan?: { readonly request: ApiRequest; readonly deps: Deps };
}

/** A middleware of the HTTP stack, typed over API Gateway proxy events. */
export type HttpMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, HttpContext, HttpInternal>;

/** What requestContext set (request id, dependencies); throws when a middleware is composed before it (a wiring bug). */
export function contextOf(internal: HttpInternal): { readonly requestId: string; readonly deps: Deps } {
  if (!internal.deps || internal.requestId === undefined) throw new Error('HTTP middleware: requestContext must run first');
  return { requestId: internal.requestId, deps: internal.deps };
}

/** An answer as API Gateway wants it: JSON body, `x-request-id` on every response. */
export function toResult(response: ApiResponse, requestId: string): APIGatewayProxyResult {
  const headers: Record<string, string> = { 'x-request-id': requestId, ...(response.headers ?? {}) };
  if (response.body === undefined) return { statusCode: response.status, headers, body: '' };
  headers['content-type'] ??= 'application/json';
  return { statusCode: response.status, headers, body: JSON.stringify(response.body) };
}

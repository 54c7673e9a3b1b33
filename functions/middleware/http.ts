/**
 * The middy stack every API handler runs in. Small single-purpose middlewares, in order:
 *   requestContext → authenticate → bodyLimit → apiRequest → (route) → JSON result, with errorResponse on any failure.
 *
 * Note: authentication comes before the body limit, as API Gateway's IAM authorizer does: an anonymous caller
 * learns nothing about the route (not even the body limit) and gets 401.
 *
 * Note: internal errors never leak to callers: a CapstanError with a caller fault becomes its 4xx with every issue
 * listed; anything else becomes a 500 with a request id, and the details go to the log only (error-response.ts).
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Deps } from '../adapters/deps.js';
import { toResult, type HttpContext, type HttpInternal, type HttpMiddleware, type RouteHandler } from './api-gateway.js';
import { apiRequest } from './api-request.js';
import { authenticate } from './authenticate.js';
import { bodyLimit } from './body-limit.js';
import { errorResponse } from './error-response.js';
import { requestContext } from './request-context.js';

export type { ApiRequest, ApiResponse, HttpContext, HttpInternal, HttpMiddleware, RouteHandler } from './api-gateway.js';
export { bodyByteLength, decodeBody } from './body-limit.js';
export { errorDetails } from './error-response.js';

/** Options of `httpHandler`. */
export interface HttpHandlerOptions {
  /** Whether the route needs an authenticated caller (false: the health check, machine callbacks). @default true */
  readonly auth?: boolean;
  /** Resolves the process's dependencies (tests inject their own). @default getDeps (functions/adapters/deps.ts) */
  readonly getDeps?: () => Promise<Deps>;
}

/** The middlewares of a route, in the documented order. */
export function httpMiddlewares(options: HttpHandlerOptions = {}): HttpMiddleware[] {
  const auth = options.auth ?? true;
  const resolve = options.getDeps ? { getDeps: options.getDeps } : {};
  return [requestContext(resolve), ...(auth ? [authenticate()] : []), bodyLimit(), apiRequest(), errorResponse(resolve)];
}

/** Wraps a route handler into a Lambda handler for API Gateway proxy events. */
export function httpHandler(route: RouteHandler, options: HttpHandlerOptions = {}) {
  const core = async (_event: APIGatewayProxyEvent, context: HttpContext): Promise<APIGatewayProxyResult> => {
    if (!context.capstan) throw new Error('httpHandler: apiRequest did not run');
    const { request, deps } = context.capstan;
    return toResult(await route(request, deps), request.requestId);
  };
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, HttpContext, HttpInternal>(core).use(httpMiddlewares(options));
}

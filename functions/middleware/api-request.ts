/**
 * The last `before` of the HTTP stack: the API Gateway event becomes the `ApiRequest` a route handler reads.
 *
 * Why its own file: it is where the earlier middlewares' results (request id, dependencies, principal) meet the
 * event, and where the body is decoded, after the limit was checked on its raw size.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { contextOf, type ApiRequest, type HttpMiddleware } from './api-gateway.js';
import { decodeBody } from './body-limit.js';

/** Header names lower-cased; multi-value and absent headers are dropped. */
export function lowerHeaders(headers: APIGatewayProxyEvent['headers'] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}

/** Puts `{ request, deps }` on the Lambda context for the route (`HttpContext.capstan`). */
export function apiRequest(): HttpMiddleware {
  return {
    name: 'apiRequest',
    before: (request) => {
      const event = request.event;
      const { requestId, deps } = contextOf(request.internal);
      const parsed: ApiRequest = {
        method: event.httpMethod.toUpperCase(),
        resource: event.resource,
        path: event.path,
        pathParameters: (event.pathParameters ?? {}) as Record<string, string>,
        query: (event.queryStringParameters ?? {}) as Record<string, string>,
        headers: lowerHeaders(event.headers),
        body: decodeBody(event),
        requestId,
        principal: request.internal.principal,
      };
      request.context.capstan = { request: parsed, deps };
    },
  };
}

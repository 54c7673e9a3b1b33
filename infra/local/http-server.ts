/**
 * The local HTTP front: node:http on loopback, turning each request into the API Gateway proxy event the Lambda
 * handlers take, and their result back into a response. The routes are the function catalog's (infra/catalog/), the
 * same ones the CDK construct declares, with the handlers of infra/local/local-functions.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { matchResource, type RouteDefinition } from '../catalog/index.js';
import { localRoutes, type LocalRoute } from './local-functions.js';

/** Hard cap on what the server reads of a body; the handlers' own limit (413 with details) is below it. */
const READ_LIMIT_BYTES = 4 * 1024 * 1024;

/** A running local HTTP server. */
export interface LocalHttpServer {
  readonly url: string;
  readonly port: number;
  /** The routes it serves. */
  readonly routes: readonly LocalRoute[];
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function lambdaContext(requestId: string): Context {
  return {
    awsRequestId: requestId,
    functionName: 'capstan-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:capstan-local',
    memoryLimitInMB: '1024',
    logGroupName: 'local',
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Builds the REST API (v1) proxy event API Gateway would send for this request. */
export function toProxyEvent(req: http.IncomingMessage, body: Buffer, route: RouteDefinition, params: Record<string, string>, requestId: string): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const textual = body.length === 0 ? null : body;
  return {
    httpMethod: route.method,
    resource: route.resource,
    path: url.pathname,
    pathParameters: Object.keys(params).length ? params : null,
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: null,
    headers,
    multiValueHeaders: {},
    body: textual ? textual.toString('base64') : null,
    isBase64Encoded: textual !== null,
    stageVariables: null,
    requestContext: {
      requestId,
      httpMethod: route.method,
      path: url.pathname,
      resourcePath: route.resource,
      identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1' },
    } as APIGatewayProxyEvent['requestContext'],
  };
}

/** Starts the local API on 127.0.0.1 (never another interface). */
export async function startHttpServer(options: { port?: number } = {}): Promise<LocalHttpServer> {
  const routes = localRoutes();
  const server = http.createServer((req, res) => {
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const candidates = routes.map((r) => ({ route: r, params: matchResource(r.resource, url.pathname) })).filter((c) => c.params);
    if (!candidates.length) {
      send(res, 404, { error: { code: 'NotFound', message: `no route for ${url.pathname}`, details: [] } });
      req.resume();
      return;
    }
    const hit = candidates.find((c) => c.route.method === req.method);
    if (!hit) {
      res.setHeader('allow', candidates.map((c) => c.route.method).join(', '));
      send(res, 405, { error: { code: 'MethodNotAllowed', message: `${req.method} is not allowed on ${url.pathname}`, details: [{ path: 'method', message: `must be one of ${candidates.map((c) => c.route.method).join(', ')}` }] } });
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > READ_LIMIT_BYTES) {
        if (!aborted) {
          aborted = true;
          // Stop reading only once the 413 is sent: destroying the socket while the client still writes raced the
          // response (the client saw ECONNRESET instead of the 413 under load).
          res.on('finish', () => req.destroy());
          send(res, 413, { error: { code: 'PayloadTooLarge', message: `body: must be at most ${READ_LIMIT_BYTES} bytes`, details: [{ path: 'body', message: 'too large' }] } });
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (aborted) return;
      const event = toProxyEvent(req, Buffer.concat(chunks), hit.route, hit.params!, requestId);
      hit.route.lambda(event, lambdaContext(requestId))
        .then((result) => {
          const headers: Record<string, string | number> = { ...(result.headers as Record<string, string>) };
          headers['content-length'] = Buffer.byteLength(result.body ?? '');
          res.writeHead(result.statusCode, headers);
          res.end(result.body ?? '');
        })
        .catch((error: unknown) => {
          send(res, 500, { error: { code: 'InternalError', message: `internal error; request id ${requestId}`, details: [] } });
          process.stderr.write(`${JSON.stringify({ level: 'error', message: 'unhandled handler error', requestId, error: String(error) })}\n`);
        });
    });
    req.on('error', () => undefined);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    routes,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DEFAULT_SETTINGS, type Deps } from '../../../functions/adapters/deps.js';
import { createLogger } from '../../../functions/adapters/logger.js';
import { StoreConflictError, TooManyRequestsError, UnauthorizedError, ValidationError } from '../../../functions/domain/errors.js';
import { bodyByteLength, httpHandler, type HttpContext, type RouteHandler } from '../../../functions/middleware/http.js';

const LIMIT = 64;

/** Just what the HTTP stack reads of the dependencies: the authenticator, the body limit and the logger. */
function fakeDeps(lines: string[]): Deps {
  const authenticate = async (event: APIGatewayProxyEvent) => {
    if (event.headers.authorization !== 'Bearer ok') throw new UnauthorizedError();
    return { id: 'tester', accounts: ['*'], admin: false };
  };
  const partial: Partial<Deps> = { authenticate, settings: { ...DEFAULT_SETTINGS, maxBodyBytes: LIMIT }, log: createLogger({ write: (l) => lines.push(l) }) };
  return partial as Deps;
}

function event(options: { body?: string; authorized?: boolean; base64?: boolean }): APIGatewayProxyEvent {
  const body = options.body === undefined ? null : options.base64 ? Buffer.from(options.body).toString('base64') : options.body;
  const partial: Partial<APIGatewayProxyEvent> = {
    httpMethod: 'post', resource: '/v1/things', path: '/v1/things', pathParameters: null, queryStringParameters: null,
    headers: { ...(options.authorized ? { authorization: 'Bearer ok' } : {}), 'Content-Type': 'application/json' },
    body, isBase64Encoded: Boolean(options.base64), requestContext: { requestId: 'req-1' } as APIGatewayProxyEvent['requestContext'],
  };
  return partial as APIGatewayProxyEvent;
}

async function call(route: RouteHandler, e: APIGatewayProxyEvent, auth = true) {
  const lines: string[] = [];
  const handler = httpHandler(route, { auth, getDeps: async () => fakeDeps(lines) });
  const result = await handler(e, {} as HttpContext);
  return { ...result, json: result.body ? JSON.parse(result.body) : undefined, lines };
}

const echo: RouteHandler = async (request) => ({ status: 200, body: { method: request.method, body: request.body, caller: request.principal?.id ?? null, type: request.headers['content-type'] } });

describe('httpHandler', () => {
  it('hands the route the parsed request and answers JSON with the request id', async () => {
    const res = await call(echo, event({ body: '{"a":1}', authorized: true, base64: true }));
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'x-request-id': 'req-1', 'content-type': 'application/json' });
    expect(res.json).toEqual({ method: 'POST', body: '{"a":1}', caller: 'tester', type: 'application/json' });
  });

  it.each([
    ['an anonymous caller with an oversize body gets 401, not 413 (authentication first)', event({ body: 'x'.repeat(LIMIT + 1) }), true, 401],
    ['an authenticated caller with an oversize body gets 413', event({ body: 'x'.repeat(LIMIT + 1), authorized: true }), true, 413],
    ['a body of exactly the limit, base64-encoded, passes', event({ body: 'x'.repeat(LIMIT), authorized: true, base64: true }), true, 200],
    ['a public route skips authentication', event({ body: '{}' }), false, 200],
  ])('%s', async (_name, e, auth, status) => {
    expect((await call(echo, e, auth)).statusCode).toBe(status);
  });

  it('answers a caller fault with its status and every issue', async () => {
    const res = await call(async () => { throw new ValidationError([{ path: 'spec.a', message: 'bad' }, { path: 'spec.b', message: 'worse' }]); }, event({ authorized: true }));
    expect(res.statusCode).toBe(400);
    expect(res.json.error.details).toEqual([{ path: 'spec.a', message: 'bad' }, { path: 'spec.b', message: 'worse' }]);
  });

  it('answers 429 with retry-after', async () => {
    const res = await call(async () => { throw new TooManyRequestsError(); }, event({ authorized: true }));
    expect([res.statusCode, res.headers?.['retry-after']]).toEqual([429, '1']);
  });

  it.each([
    ['an unexpected error is a 500', new Error('secret detail'), 500, 'InternalError'],
    ['a store conflict is a 503', new StoreConflictError('machine m: secret detail'), 503, 'Unavailable'],
  ])('never leaks an internal error: %s with the request id, the details only in the log', async (_name, error, status, code) => {
    const res = await call(async () => { throw error; }, event({ authorized: true }));
    expect(res.statusCode).toBe(status);
    expect(res.json).toEqual({ error: { code, message: 'internal error; request id req-1', details: [] } });
    expect(res.lines.join('\n')).toContain('secret detail');
  });
});

describe('bodyByteLength', () => {
  it.each([0, 1, 2, 3, 64, 65])('is exact for a base64 body of %i bytes', (n) => {
    expect(bodyByteLength({ body: Buffer.alloc(n, 7).toString('base64'), isBase64Encoded: true })).toBe(n);
  });
});

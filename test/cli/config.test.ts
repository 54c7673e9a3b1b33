/**
 * resolveConfig and the API client's authentication: flags over environment over config file over local defaults,
 * bearer tokens locally, SigV4 (execute-api) from the AWS credential chain otherwise.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../cli/client.js';
import { ConfigError, isLoopback, regionOfEndpoint, resolveConfig } from '../../cli/config.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'capstan-config-'));
  mkdirSync(join(dir, 'home', '.config', 'capstan'), { recursive: true });
  mkdirSync(join(dir, 'local-home'), { recursive: true });
  writeFileSync(join(dir, 'local-home', 'token'), 'local-token\n');
  writeFileSync(join(dir, 'file.yaml'), 'endpoint: https://abc.execute-api.eu-west-1.amazonaws.com/prod\ntoken: file-token\n');
  writeFileSync(join(dir, 'sigv4.yaml'), 'endpoint: https://abc.execute-api.eu-west-1.amazonaws.com/prod\nauth: sigv4\nprofile: ops\n');
  writeFileSync(join(dir, 'typo.yaml'), 'endpont: http://x\nauth: magic\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveConfig', () => {
  it.each([
    { name: 'local defaults: loopback endpoint, token from CAPSTAN_HOME', flags: {}, env: { CAPSTAN_HOME: 'local-home' }, endpoint: 'http://127.0.0.1:7070', auth: { kind: 'token', token: 'local-token' } },
    { name: 'environment over the config file', flags: { config: 'file.yaml' }, env: { CAPSTAN_ENDPOINT: 'http://127.0.0.1:9000/', CAPSTAN_TOKEN: 'env-token' }, endpoint: 'http://127.0.0.1:9000', auth: { kind: 'token', token: 'env-token', source: 'CAPSTAN_TOKEN' } },
    { name: 'flags over the environment', flags: { endpoint: 'http://localhost:1234', token: 'flag-token' }, env: { CAPSTAN_ENDPOINT: 'http://127.0.0.1:9000', CAPSTAN_TOKEN: 'env-token' }, endpoint: 'http://localhost:1234', auth: { kind: 'token', token: 'flag-token', source: '--token' } },
    { name: 'the config file token', flags: { config: 'file.yaml' }, env: {}, endpoint: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod', auth: { kind: 'token', token: 'file-token' } },
    { name: 'SigV4 for a remote endpoint without a token, region from the host', flags: { endpoint: 'https://abc.execute-api.us-west-2.amazonaws.com/prod' }, env: {}, endpoint: 'https://abc.execute-api.us-west-2.amazonaws.com/prod', auth: { kind: 'sigv4', region: 'us-west-2' } },
    { name: 'SigV4 asked for by the config file, with a profile', flags: { config: 'sigv4.yaml' }, env: { AWS_REGION: 'eu-central-1' }, endpoint: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod', auth: { kind: 'sigv4', region: 'eu-central-1', profile: 'ops' } },
    { name: 'no token anywhere for a local endpoint', flags: {}, env: { CAPSTAN_HOME: 'nowhere' }, endpoint: 'http://127.0.0.1:7070', auth: { kind: 'none' } },
  ])('resolves $name', ({ flags, env, endpoint, auth }) => {
    const resolved = resolveConfig(flags, { HOME: join(dir, 'home'), ...env }, dir);
    expect(resolved.endpoint).toBe(endpoint);
    expect(resolved.auth).toMatchObject(auth);
  });

  it.each([
    { name: 'the endpoint is not a URL', flags: { endpoint: 'ftp://x' }, message: 'endpoint: must be an http(s) URL' },
    { name: 'an explicit config file is missing', flags: { config: 'missing.yaml' }, message: 'does not exist' },
    { name: 'the config file has unknown fields and values', flags: { config: 'typo.yaml' }, message: 'endpont: unknown field' },
    { name: 'a remote endpoint has no region', flags: { endpoint: 'https://api.example.com' }, message: 'region: cannot tell the AWS region' },
  ])('fails when $name', ({ flags, message }) => {
    expect(() => resolveConfig(flags, { HOME: join(dir, 'home') }, dir)).toThrow(ConfigError);
    expect(() => resolveConfig(flags, { HOME: join(dir, 'home') }, dir)).toThrow(message);
  });

  it.each([
    ['http://127.0.0.1:7070', true],
    ['http://localhost', true],
    ['http://[::1]:80', true],
    ['https://abc.execute-api.us-east-1.amazonaws.com', false],
  ])('tells loopback endpoints apart: %s', (endpoint, loopback) => {
    expect(isLoopback(endpoint)).toBe(loopback);
  });

  it('reads the region of an API Gateway endpoint', () => {
    expect(regionOfEndpoint('https://a1b2.execute-api.ap-southeast-2.amazonaws.com/prod')).toBe('ap-southeast-2');
    expect(regionOfEndpoint('https://api.example.com')).toBeUndefined();
  });
});

describe('ApiClient', () => {
  it('signs requests with SigV4 for execute-api from the standard credential chain', async () => {
    // Prepare: a loopback server records the headers; credentials come from the environment (first in the chain).
    let seen: IncomingHttpHeaders = {};
    const server = createServer((req, res) => {
      seen = req.headers;
      res.setHeader('content-type', 'application/json');
      res.end('{"items":[]}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
    try {
      // Act
      const client = new ApiClient({ endpoint: `http://127.0.0.1:${port}`, auth: { kind: 'sigv4', region: 'eu-west-1' } });
      const response = await client.request('GET', '/v1/clusters', { query: { limit: 5 } });
      // Assess
      expect(response.body).toEqual({ items: [] });
      expect(seen.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);
      expect(seen['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      server.close();
    }
  });
});

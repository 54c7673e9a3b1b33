/**
 * Figure 5, API: GET and PUT throughput and p50/p99 latency on the local stack at 1, 8 and 64 concurrent
 * clients, each against a bare node:http server measured in the same run with the same client (it answers the
 * same bytes without doing anything), so the ratio is what Capstan's handler stack costs on this machine.
 *
 * GET reads one cluster (`GET /v1/clusters/{name}`); PUT re-applies the same document (`PUT /v1/clusters/{name}`,
 * the GitOps steady state: parse, validate, read, compare, answer). The client runs in the same process as the
 * server, as does the baseline's, so both pay the same client cost on the same 2 cores.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { figure, percentile, type BenchOptions, type Figure } from './lib/figure.js';
import { countDynamo } from './lib/instrument.js';
import { clusterDoc, startBenchStack, waitConverged } from './lib/stack.js';

/** Result of one load run. */
export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

interface Request {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly headers: Record<string, string>;
}

function once(agent: http.Agent, port: number, r: Request): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.path, agent, headers: { ...r.headers, ...(r.body ? { 'content-length': Buffer.byteLength(r.body) } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

/** Runs `concurrency` clients in a loop for `durationMs` (after a short warm-up) and measures. */
export async function load(port: number, request: Request, concurrency: number, durationMs: number): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    const warmUntil = performance.now() + Math.min(200, durationMs / 4);
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < warmUntil) await once(agent, port, request);
    }));
    const latencies: number[] = [];
    let errors = 0;
    const start = performance.now();
    const until = start + durationMs;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        const status = await once(agent, port, request).catch(() => 0);
        if (status < 200 || status >= 300) errors++;
        latencies.push(performance.now() - t);
      }
    }));
    const elapsed = performance.now() - start;
    return { requests: latencies.length, errors, perSecond: (latencies.length / elapsed) * 1000, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
  } finally {
    agent.destroy();
  }
}

/** A server that answers every request with the given bytes after reading the body: the floor of any HTTP API. */
async function bareServer(answer: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** Concurrency levels of figure 5. */
export const API_CONCURRENCY = [1, 8, 64] as const;

/** Runs figure 5. */
export async function runApiBench(options: BenchOptions): Promise<Figure[]> {
  const durationMs = options.quick ? 250 : 2000;
  const stack = await startBenchStack({ bootMs: 100, drainMsPerPod: 10 });
  const figures: Figure[] = [];
  try {
    const doc = clusterDoc('api', { controlPlane: { replicas: 1 }, workers: [] });
    const created = await stack.call('PUT', '/v1/clusters/api', doc);
    if (created.status !== 201) throw new Error(`bench: PUT api → ${created.status}`);
    await waitConverged(stack, 'api', 60_000);
    const auth = { authorization: `Bearer ${stack.token}` };
    const port = Number(new URL(stack.url).port);
    const get: Request = { method: 'GET', path: '/v1/clusters/api', headers: auth };
    const body = JSON.stringify(doc);
    const put: Request = { method: 'PUT', path: '/v1/clusters/api', body, headers: { ...auth, 'content-type': 'application/json' } };
    const sample = await stack.call('GET', '/v1/clusters/api');
    const bare = await bareServer(JSON.stringify(sample.body));
    try {
      for (const [op, request] of [['get', get], ['put', put]] as const) {
        for (const c of API_CONCURRENCY) {
          const base = await load(bare.port, request, c, durationMs);
          const dynamo = countDynamo(stack.dynamo.client);
          const ours = await load(port, request, c, durationMs).finally(() => dynamo.restore());
          if (ours.errors) throw new Error(`bench: ${op} at ${c} clients: ${ours.errors} of ${ours.requests} requests failed`);
          const detail = { requests: ours.requests, baselineRequests: base.requests, p50Ms: ours.p50Ms, p99Ms: ours.p99Ms, baselineP50Ms: base.p50Ms, baselineP99Ms: base.p99Ms, dynamoRequests: dynamo.counts.requests };
          figures.push(
            figure(`api.${op}.c${c}.throughput`, ours.perSecond, 'req/s', base.perSecond, 'baseline', 'req/s bare HTTP', detail),
            figure(`api.${op}.c${c}.p50`, ours.p50Ms, 'ms', base.p50Ms, 'baseline', 'ms bare HTTP'),
            figure(`api.${op}.c${c}.p99`, ours.p99Ms, 'ms', base.p99Ms, 'baseline', 'ms bare HTTP'),
          );
          options.log?.(`  api ${op} c${c}: ${Math.round(ours.perSecond)} req/s (bare ${Math.round(base.perSecond)})`);
        }
      }
    } finally {
      await bare.close();
    }
  } finally {
    await stack.destroy();
  }
  return figures;
}

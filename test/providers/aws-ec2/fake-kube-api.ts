/**
 * A tiny Kubernetes API server on 127.0.0.1 (node:http) for node-operation tests: it serves the recorded JSON
 * responses under fixtures/ and keeps just enough state (nodes, pods, PDB-blocked pods) for node reads and lists,
 * cordon and drain.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A recorded response under fixtures/, parsed. */
export function fixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(path.join(here, 'fixtures', name), 'utf8')) as T;
}

/** One request the fake served. */
export interface KubeRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType?: string;
  readonly body?: unknown;
}

/** What an eviction of a pod does: accept and remove, accept but the pod lingers, or 429 (PDB). */
export type EvictionBehaviour = 'remove' | 'linger' | 'pdb';

export interface FakeKubeApi {
  readonly url: string;
  readonly requests: KubeRequest[];
  readonly nodes: Map<string, any>;
  /** Pods by `namespace/name`. */
  readonly pods: Map<string, any>;
  readonly eviction: Map<string, EvictionBehaviour>;
  /** kube-system Secrets created through the API (bootstrap tokens), by name. */
  readonly secrets: Map<string, any>;
  /**
   * A node from fixtures/node.json named `name`; a control-plane node also gets the etcd static pod kubeadm makes
   * (`etcd-<node>` in kube-system, labels component=etcd, tier=control-plane), which goes with its node.
   */
  addNode(name: string, options?: { ready?: boolean; withPods?: boolean; controlPlane?: boolean }): void;
  kubeconfig(): string;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function notFound(kind: string, name: string) {
  return { ...fixture('node-not-found.json'), message: `${kind} "${name}" not found`, details: { name, kind } };
}

export async function startFakeKubeApi(): Promise<FakeKubeApi> {
  const requests: KubeRequest[] = [];
  const nodes = new Map<string, any>();
  const pods = new Map<string, any>();
  const eviction = new Map<string, EvictionBehaviour>();
  const secrets = new Map<string, any>();
  const etcdPods = new Map<string, any>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = raw ? JSON.parse(raw) : undefined;
      requests.push({ method: req.method ?? 'GET', path: url.pathname, ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}), ...(body !== undefined ? { body } : {}) });
      let m: RegExpExecArray | null;
      if (url.pathname === '/api/v1/nodes' && req.method === 'GET') {
        // Chunked like the API server: `limit` nodes from the offset in `continue`, and a `continue` while more remain.
        const all = [...nodes.values()];
        const from = Number(url.searchParams.get('continue') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? all.length) || all.length;
        const next = from + limit < all.length ? { continue: String(from + limit) } : {};
        return send(res, 200, { kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: '48213', ...next }, items: all.slice(from, from + limit) });
      }
      if ((m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(url.pathname))) {
        const node = nodes.get(m[1]!);
        if (!node) return send(res, 404, notFound('nodes', m[1]!));
        // DELETE answers the deleted object (200) and a second DELETE 404:
        // https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/node-v1/#delete-delete-a-node
        if (req.method === 'DELETE') {
          nodes.delete(m[1]!);
          etcdPods.delete(m[1]!);
          return send(res, 200, node);
        }
        if (req.method === 'PATCH') {
          if (req.headers['content-type'] !== 'application/merge-patch+json') return send(res, 415, { kind: 'Status', code: 415 });
          node.spec = { ...node.spec, ...body.spec };
        }
        return send(res, 200, node);
      }
      if (url.pathname === '/api/v1/pods' && req.method === 'GET') {
        const selector = url.searchParams.get('fieldSelector') ?? '';
        const nodeName = /^spec\.nodeName=(.+)$/.exec(selector)?.[1];
        const items = [...pods.values()].filter((p) => nodeName === undefined || p.spec.nodeName === nodeName);
        return send(res, 200, { ...fixture<Record<string, unknown>>('pods-on-node.json'), items });
      }
      if (url.pathname === '/api/v1/namespaces/kube-system/pods' && req.method === 'GET') {
        // Only the etcd static pods, and only for the selector Capstan sends.
        const selector = url.searchParams.get('labelSelector');
        if (selector !== 'component=etcd,tier=control-plane') return send(res, 400, { kind: 'Status', code: 400, message: `fake: unsupported labelSelector ${selector}` });
        return send(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '48214' }, items: [...etcdPods.values()] });
      }
      if (url.pathname === '/api/v1/namespaces/kube-system/secrets' && req.method === 'POST') {
        // Create answers 201 with the object, 409 AlreadyExists for a taken name:
        // https://kubernetes.io/docs/reference/kubernetes-api/config-and-storage-resources/secret-v1/#create-create-a-secret
        const name = body?.metadata?.name;
        if (secrets.has(name)) return send(res, 409, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'AlreadyExists', code: 409, message: `secrets "${name}" already exists` });
        secrets.set(name, body);
        return send(res, 201, body);
      }
      if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(url.pathname)) && req.method === 'POST') {
        const key = `${m[1]}/${m[2]}`;
        if (!pods.has(key)) return send(res, 404, notFound('pods', m[2]!));
        const behaviour = eviction.get(key) ?? 'remove';
        if (behaviour === 'pdb') return send(res, 429, fixture('eviction-429.json'));
        if (behaviour === 'remove') pods.delete(key);
        return send(res, 201, fixture('eviction-201.json'));
      }
      if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(url.pathname)) && req.method === 'DELETE') {
        const key = `${m[1]}/${m[2]}`;
        const pod = pods.get(key);
        if (!pod) return send(res, 404, notFound('pods', m[2]!));
        pods.delete(key);
        return send(res, 200, pod);
      }
      send(res, 404, { kind: 'Status', code: 404, message: `fake: no route ${req.method} ${url.pathname}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    requests,
    nodes,
    pods,
    eviction,
    secrets,
    addNode(name, options = {}) {
      if (options.controlPlane) {
        etcdPods.set(name, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `etcd-${name}`, namespace: 'kube-system', labels: { component: 'etcd', tier: 'control-plane' } },
          spec: { nodeName: name, containers: [{ name: 'etcd', image: 'registry.k8s.io/etcd:3.5.16-0' }] },
          status: { phase: 'Running' },
        });
      }
      const node = fixture('node.json');
      node.metadata.name = name;
      if (options.ready === false) node.status.conditions = node.status.conditions.map((c: any) => (c.type === 'Ready' ? { ...c, status: 'False', reason: 'KubeletNotReady' } : c));
      nodes.set(name, node);
      if (options.withPods) {
        for (const pod of fixture('pods-on-node.json').items) {
          pod.spec.nodeName = name;
          pods.set(`${pod.metadata.namespace}/${pod.metadata.name}`, pod);
        }
      }
    },
    kubeconfig: () =>
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- cluster: {server: "${url}", insecure-skip-tls-verify: true}`,
        '  name: fake',
        'users:',
        '- user: {token: fake-admin-token}',
        '  name: admin',
        'contexts:',
        '- context: {cluster: fake, user: admin}',
        '  name: admin@fake',
        'current-context: admin@fake',
        '',
      ].join('\n'),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

import type { CoreV1Api } from '@kubernetes/client-node';
import { NodeOperations, isDrainExempt } from '../../../providers/aws-ec2/nodes.js';
import { ProviderUnavailableError } from '../../../functions/domain/errors.js';
import { fixture, startFakeKubeApi, type FakeKubeApi } from './fake-kube-api.js';

const NODE = 'demo-md-0-1';

describe('NodeOperations', () => {
  let kube: FakeKubeApi;
  let api: CoreV1Api;
  let clock: number;
  const ops = () => new NodeOperations({ pollIntervalMs: 1000, sleep: async (ms) => void (clock += ms), now: () => clock });

  beforeEach(async () => {
    kube = await startFakeKubeApi();
    api = await new NodeOperations().api(kube.kubeconfig());
    clock = 0;
  });
  afterEach(() => kube.close());

  describe('getNode', () => {
    it.each([
      ['a Ready node', { ready: true }, { ready: true, cordoned: false, pods: 0 }],
      ['a NotReady node', { ready: false }, { ready: false, cordoned: false, pods: 0 }],
      ['a node with pods (DaemonSet, mirror and finished pods not counted)', { ready: true, withPods: true }, { ready: true, cordoned: false, pods: 2 }],
    ])('reports %s', async (_name, options, expected) => {
      kube.addNode(NODE, options);
      expect(await ops().getNode(api, NODE)).toEqual(expected);
    });

    it('returns undefined for a node that never registered', async () => {
      expect(await ops().getNode(api, 'demo-md-0-9')).toBeUndefined();
    });

    it('fails when the API server is unreachable with ProviderUnavailableError', async () => {
      await kube.close();
      await expect(ops().getNode(api, NODE)).rejects.toBeInstanceOf(ProviderUnavailableError);
    });
  });

  describe('listNodes', () => {
    it('reports every registered node by name, Ready and cordoned, with one node LIST and no pod listing', async () => {
      // Prepare
      kube.addNode('demo-md-0-1', { withPods: true });
      kube.addNode('demo-md-0-2', { ready: false });
      kube.addNode('demo-cp-1');
      kube.nodes.get('demo-cp-1').spec.unschedulable = true;
      kube.requests.length = 0;

      // Act
      const nodes = await ops().listNodes(api);

      // Assess
      expect(Object.fromEntries(nodes)).toEqual({
        'demo-md-0-1': { ready: true, cordoned: false },
        'demo-md-0-2': { ready: false, cordoned: false },
        'demo-cp-1': { ready: true, cordoned: true },
      });
      expect(kube.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/nodes']);
    });

    it('returns an empty map when no node registered', async () => {
      expect((await ops().listNodes(api)).size).toBe(0);
    });

    it('follows `continue` when the API server chunks the list', async () => {
      // Prepare
      for (let i = 1; i <= 501; i++) kube.addNode(`demo-md-0-${i}`);
      kube.requests.length = 0;

      // Act
      const nodes = await ops().listNodes(api);

      // Assess
      expect(nodes.size).toBe(501);
      expect(kube.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/nodes', 'GET /api/v1/nodes']);
    });

    it('fails when the API server is unreachable with ProviderUnavailableError', async () => {
      await kube.close();
      await expect(ops().listNodes(api)).rejects.toBeInstanceOf(ProviderUnavailableError);
    });
  });

  describe('cordon', () => {
    it('sets spec.unschedulable with a merge patch, idempotently', async () => {
      kube.addNode(NODE);
      await ops().cordon(api, NODE);
      await ops().cordon(api, NODE);
      const patches = kube.requests.filter((r) => r.method === 'PATCH');
      expect(patches).toEqual([
        { method: 'PATCH', path: `/api/v1/nodes/${NODE}`, contentType: 'application/merge-patch+json', body: { spec: { unschedulable: true } } },
        { method: 'PATCH', path: `/api/v1/nodes/${NODE}`, contentType: 'application/merge-patch+json', body: { spec: { unschedulable: true } } },
      ]);
      expect(await ops().getNode(api, NODE)).toMatchObject({ cordoned: true });
    });

    it('treats a node that is gone as cordoned', async () => {
      await expect(ops().cordon(api, 'demo-md-0-9')).resolves.toBeUndefined();
    });
  });

  describe('drain', () => {
    it('evicts movable pods only (policy/v1), skipping DaemonSet, mirror and finished pods', async () => {
      kube.addNode(NODE, { withPods: true });
      const result = await ops().drain(api, NODE, { timeoutSeconds: 10, force: false });
      expect(result).toEqual({ done: true });
      const evictions = kube.requests.filter((r) => r.path.endsWith('/eviction'));
      expect(evictions.map((r) => r.path).sort()).toEqual([
        '/api/v1/namespaces/shop/pods/api-5f8d7c9b8-m4ztw/eviction',
        '/api/v1/namespaces/shop/pods/web-7d9c6b5f4-2xkqp/eviction',
      ]);
      expect(evictions[0]!.body).toMatchObject({ apiVersion: 'policy/v1', kind: 'Eviction' });
      expect([...kube.pods.keys()].sort()).toEqual(['kube-system/kube-proxy-8hx2d', 'kube-system/static-web-demo-md-0-1', 'shop/report-28871230-vn5lq']);
      expect(kube.nodes.get(NODE).spec.unschedulable).toBe(true);
    });

    it('reports the pod a disruption budget protects (429) as blockedBy after the timeout', async () => {
      kube.addNode(NODE, { withPods: true });
      kube.eviction.set('shop/api-5f8d7c9b8-m4ztw', 'pdb');
      const result = await ops().drain(api, NODE, { timeoutSeconds: 3, force: false });
      expect(result).toEqual({
        done: false,
        blockedBy: [{ pod: 'shop/api-5f8d7c9b8-m4ztw', reason: `PodDisruptionBudget: ${fixture('eviction-429.json').message}: The disruption budget api-pdb needs 2 healthy pods and has 2 currently` }],
      });
      expect(clock).toBe(3000);
      expect(kube.pods.has('shop/api-5f8d7c9b8-m4ztw')).toBe(true);
    });

    it('deletes the remaining pods after the timeout with force', async () => {
      kube.addNode(NODE, { withPods: true });
      kube.eviction.set('shop/api-5f8d7c9b8-m4ztw', 'pdb');
      const result = await ops().drain(api, NODE, { timeoutSeconds: 2, force: true });
      expect(result).toEqual({ done: true });
      expect(kube.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual(['/api/v1/namespaces/shop/pods/api-5f8d7c9b8-m4ztw']);
    });

    it('waits for evicted pods that are still terminating and reports them when the time is up', async () => {
      kube.addNode(NODE, { withPods: true });
      kube.eviction.set('shop/web-7d9c6b5f4-2xkqp', 'linger');
      const result = await ops().drain(api, NODE, { timeoutSeconds: 1, force: false });
      expect(result).toEqual({ done: false, blockedBy: [{ pod: 'shop/web-7d9c6b5f4-2xkqp', reason: 'terminating' }] });
    });

    it('is a no-op that reports done on a drained node', async () => {
      kube.addNode(NODE);
      expect(await ops().drain(api, NODE, { timeoutSeconds: 0, force: false })).toEqual({ done: true });
      expect(kube.requests.filter((r) => r.path.endsWith('/eviction'))).toEqual([]);
    });
  });
});

describe('isDrainExempt', () => {
  const pods = fixture('pods-on-node.json').items as any[];
  it.each(pods.map((p) => [p.metadata.name, ['kube-proxy-8hx2d', 'static-web-demo-md-0-1', 'report-28871230-vn5lq'].includes(p.metadata.name), p] as const))(
    'classifies %s (exempt: %s)',
    (_name, exempt, pod) => expect(isDrainExempt(pod)).toBe(exempt),
  );
});

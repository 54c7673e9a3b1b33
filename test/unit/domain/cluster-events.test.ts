import type { ClusterSpec } from '../../../functions/domain/cluster.js';
import { pauseChangedEvent, specAcceptedEvent } from '../../../functions/domain/cluster-events.js';
import { parseClusterDocument } from '../../../functions/domain/spec/index.js';

const TIME = new Date('2026-01-01T00:00:00Z');

function spec(patch: Partial<ClusterSpec> = {}): ClusterSpec {
  const doc = parseClusterDocument({
    apiVersion: 'capstan.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'c' },
    spec: { infrastructure: { provider: 'local' }, version: 'v1.29.3', workers: [{ name: 'md-0', replicas: 3 }] },
  });
  return { ...doc.spec, ...patch };
}

const cluster = (generation: number, s: ClusterSpec = spec()) => ({ metadata: { name: 'c', uid: 'u1', generation, resourceVersion: '1', creationTimestamp: TIME.toISOString() }, spec: s });

describe('specAcceptedEvent', () => {
  it.each([
    ['generation 1 is a creation', cluster(1), undefined, { id: 'ClusterCreated/u1', type: 'ClusterCreated', message: 'cluster created at v1.29.3', data: { generation: 1 } }],
    ['a later generation without the previous spec (the plan step)', cluster(3), undefined, { id: 'ClusterUpdated/u1/3', type: 'ClusterUpdated', message: 'spec changed', data: { generation: 3 } }],
    ['a later generation with the previous spec (the API)', cluster(3, spec({ version: 'v1.30.1', workers: [] })), spec(), {
      id: 'ClusterUpdated/u1/3', type: 'ClusterUpdated', message: 'spec changed: version v1.29.3 → v1.30.1; pool md-0 removed', data: { generation: 3 },
    }],
    ['a change of no summarized field', cluster(2, spec({ drain: { timeout: '1h', policy: 'Force' } })), spec(), { id: 'ClusterUpdated/u1/2', type: 'ClusterUpdated', message: 'spec changed', data: { generation: 2 } }],
  ])('%s', (_name, c, previous, expected) => {
    expect(specAcceptedEvent(c, TIME, previous)).toEqual({ ...expected, time: TIME.toISOString() });
  });
});

describe('pauseChangedEvent', () => {
  it.each([
    ['pausing', spec(), true, { id: 'ClusterPaused/u1/4', type: 'ClusterPaused', time: TIME.toISOString(), message: 'rollout paused by spec.paused' }],
    ['resuming', spec({ paused: true }), false, { id: 'ClusterResumed/u1/4', type: 'ClusterResumed', time: TIME.toISOString(), message: 'rollout resumed' }],
    ['leaving it as it was', spec(), false, undefined],
  ])('reports %s', (_name, previous, paused, expected) => {
    expect(pauseChangedEvent(cluster(4, spec({ paused })), TIME, previous)).toEqual(expected);
  });
});

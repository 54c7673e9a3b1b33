import type { ClusterSpec, WorkerPoolSpec } from '../../../../functions/domain/cluster.js';
import { parseClusterDocument } from '../../../../functions/domain/spec/cluster-spec.js';
import { kcpValidateVersionUpdate } from '../../../../functions/domain/planner/version-skew.js';
import { mergePatch } from '../../../../functions/domain/spec/merge-patch.js';
import { validateClusterUpdate } from '../../../../functions/domain/spec/update.js';

/** A valid, defaulted spec, patched (RFC 7386) from a local cluster at v1.18.8 with one pool following it. */
function spec(patch: unknown = {}): ClusterSpec {
  const raw = {
    apiVersion: 'capstan.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'demo' },
    spec: { infrastructure: { provider: 'local' }, version: 'v1.18.8', workers: [{ name: 'md-0', replicas: 3 }] },
  };
  return parseClusterDocument(mergePatch(raw, { spec: patch })).spec;
}

const awsSpec = (account = '123456789012', region = 'us-east-1', version = 'v1.18.8') =>
  spec({ version, infrastructure: { provider: 'aws', account, region }, network: { vpcCidr: '10.10.0.0/16' } });
const pools = (...list: Partial<WorkerPoolSpec>[]) => ({ workers: list.map((p) => ({ name: 'md-0', ...p })) });

describe('validateClusterUpdate', () => {
  it.each([
    ['nothing changes', spec(), spec()],
    ['the control plane goes up one minor', spec(), spec({ version: 'v1.19.0' })],
    ['the control plane goes up one patch', spec(), spec({ version: 'v1.18.9' })],
    ['the control plane goes back one patch', spec({ version: 'v1.18.8' }), spec({ version: 'v1.18.6' })],
    ['the pool stays pinned while the control plane goes up', spec(pools({ version: 'v1.18.8' })), spec({ version: 'v1.19.1', ...pools({ version: 'v1.18.8' }) })],
    ['a pinned pool catches up one minor by following', spec({ version: 'v1.19.1', ...pools({ version: 'v1.18.8' }) }), spec({ version: 'v1.19.1' })],
    ['a new pool starts 3 minors behind', spec({ version: 'v1.21.0' }), spec({ version: 'v1.21.0', workers: [{ name: 'md-0' }, { name: 'old', version: 'v1.18.8' }] })],
    ['workers scale and pause flips', spec(), spec({ paused: true, ...pools({ replicas: 10 }) })],
    ['the API allow-list changes', awsSpec(), spec({ infrastructure: { provider: 'aws', account: '123456789012', region: 'us-east-1' }, network: { vpcCidr: '10.10.0.0/16' }, controlPlane: { endpoint: { allowedCidrs: ['192.0.2.0/24'] } } })],
    ['the aws role changes', awsSpec(), spec({ infrastructure: { provider: 'aws', account: '123456789012', region: 'us-east-1', roleArn: 'arn:aws:iam::123456789012:role/Other' }, network: { vpcCidr: '10.10.0.0/16' } })],
  ])('allows an update where %s', (_name, previous, next) => {
    expect(validateClusterUpdate(previous, next)).toEqual([]);
  });

  it.each([
    ['the control plane skips a minor', spec(), spec({ version: 'v1.20.0' }), [
      { path: 'spec.version', message: 'upgrading from v1.18.8 to v1.20.0 skips minor version 1.19; upgrade one minor at a time' },
    ]],
    ['the control plane skips two minors', spec(pools({ version: 'v1.18.8' })), spec({ version: 'v1.21.3', ...pools({ version: 'v1.18.8' }) }), [
      { path: 'spec.version', message: 'upgrading from v1.18.8 to v1.21.3 skips minor versions 1.19, 1.20; upgrade one minor at a time' },
    ]],
    ['the control plane goes down a minor', spec({ version: 'v1.19.2' }), spec({ version: 'v1.18.8' }), [
      { path: 'spec.version', message: 'downgrading the control plane from v1.19.2 to v1.18.8 is not supported; the minor version may only go up' },
    ]],
    ['the major version changes', spec({ version: 'v1.30.0' }), spec({ version: 'v2.0.0' }), [
      { path: 'spec.version', message: 'changing the control plane from v1.30.0 to v2.0.0 changes the major version; this is not supported' },
    ]],
    ['a pinned pool is unpinned across two minors', spec({ version: 'v1.19.0', ...pools({ version: 'v1.18.8' }) }), spec({ version: 'v1.20.0' }), [
      { path: 'spec.workers[0].version', message: 'upgrading from v1.18.8 to v1.20.0 skips minor version 1.19; upgrade one minor at a time' },
    ]],
    ['the provider changes', spec(), awsSpec(), [
      { path: 'spec.infrastructure.provider', message: 'is immutable, was "local", got "aws"' },
    ]],
    ['the account and region change', awsSpec(), awsSpec('210987654321', 'eu-west-1'), [
      { path: 'spec.infrastructure.account', message: 'is immutable, was "123456789012", got "210987654321"' },
      { path: 'spec.infrastructure.region', message: 'is immutable, was "us-east-1", got "eu-west-1"' },
    ]],
    ['the API endpoint scheme changes', awsSpec(), spec({ infrastructure: { provider: 'aws', account: '123456789012', region: 'us-east-1' }, network: { vpcCidr: '10.10.0.0/16' }, controlPlane: { endpoint: { scheme: 'internal' } } }), [
      { path: 'spec.controlPlane.endpoint.scheme', message: 'is immutable, was "internet-facing", got "internal"' },
    ]],
  ])('fails when %s', (_name, previous, next, issues) => {
    expect(validateClusterUpdate(previous, next)).toEqual(issues);
  });

  it('fails when the new control plane leaves a pinned pool 4 minors behind', () => {
    // Prepare: the next spec is built directly (parseClusterDocument would already refuse it), as a caller could hold it
    const previous = spec({ version: 'v1.21.0', ...pools({ version: 'v1.18.8' }) });
    const next: ClusterSpec = { ...previous, version: 'v1.22.0' };
    // Act
    const issues = validateClusterUpdate(previous, next);
    // Assess
    expect(issues).toEqual([
      { path: 'spec.workers[0].version', message: 'must be at most 3 minor versions older than the control plane (spec.version v1.22.0), got v1.18.8 (4 minors older)' },
    ]);
  });

  it('fails when a pool is pinned newer than the control plane', () => {
    const previous = spec({ version: 'v1.19.0' });
    const next: ClusterSpec = { ...previous, workers: previous.workers.map((pool) => ({ ...pool, version: 'v1.20.0' })) };
    expect(validateClusterUpdate(previous, next)).toEqual([
      { path: 'spec.workers[0].version', message: 'must not be newer than the control plane (spec.version v1.19.0), got v1.20.0' },
    ]);
  });

  it.each([
    ['v1.18.8', 'v1.19.0'],
    ['v1.18.8', 'v1.19.30'],
    ['v1.18.8', 'v1.20.0'],
    ['v1.18.8', 'v1.20.0-rc.1'],
    ['v1.18.8', 'v1.23.1'],
    ['v1.18.8', 'v1.18.9'],
  ])('refuses the control plane step %s → %s exactly when the Cluster API rule does', (from, to) => {
    // Prepare: the pool pinned at the old version, so only spec.version moves
    const previous = spec({ version: from, ...pools({ version: from }) });
    const next: ClusterSpec = { ...previous, version: to };
    // Act
    const skip = validateClusterUpdate(previous, next).filter((i) => i.path === 'spec.version');
    // Assess
    expect(skip.length > 0).toBe(kcpValidateVersionUpdate(from, to) !== undefined);
  });
});

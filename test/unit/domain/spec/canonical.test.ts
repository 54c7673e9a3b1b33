import fc from 'fast-check';
import type { ClusterSpec } from '../../../../functions/domain/cluster.js';
import { canonicalJson, canonicalSpecJson } from '../../../../functions/domain/spec/canonical.js';

function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, seed));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  const rotated = keys.slice(seed % Math.max(keys.length, 1)).concat(keys.slice(0, seed % Math.max(keys.length, 1))).reverse();
  return Object.fromEntries(rotated.map((k) => [k, shuffleKeys((value as Record<string, unknown>)[k], seed)]));
}

describe('canonicalSpecJson', () => {
  const spec = {
    infrastructure: { provider: 'local' },
    version: 'v1.30.2',
    network: { podCidr: '192.168.0.0/16', serviceCidr: '10.96.0.0/12' },
    failureDomains: ['b', 'a'],
    controlPlane: { replicas: 3, machine: { instanceType: 't3.large' }, rollout: { maxSurge: 1 } },
    workers: [],
    healthCheck: { nodeStartupTimeout: '10m', unhealthyTimeout: '5m', maxUnhealthy: '40%' },
    drain: { timeout: '10m', policy: 'Wait' },
    paused: false,
  } as ClusterSpec;

  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalSpecJson(spec)).toBe(
      '{"controlPlane":{"machine":{"instanceType":"t3.large"},"replicas":3,"rollout":{"maxSurge":1}},"drain":{"policy":"Wait","timeout":"10m"},' +
        '"failureDomains":["b","a"],"healthCheck":{"maxUnhealthy":"40%","nodeStartupTimeout":"10m","unhealthyTimeout":"5m"},' +
        '"infrastructure":{"provider":"local"},"network":{"podCidr":"192.168.0.0/16","serviceCidr":"10.96.0.0/12"},"paused":false,"version":"v1.30.2","workers":[]}',
    );
  });

  it('treats an undefined field as absent', () => {
    expect(canonicalSpecJson({ ...spec, kubeadm: undefined })).toBe(canonicalSpecJson(spec));
  });

  it('differs when an array order differs', () => {
    expect(canonicalSpecJson({ ...spec, failureDomains: ['a', 'b'] })).not.toBe(canonicalSpecJson(spec));
  });

  it('is the same for any key order (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), (value, seed) => canonicalJson(shuffleKeys(value, seed)) === canonicalJson(value)),
      { numRuns: 300 },
    );
  });
});

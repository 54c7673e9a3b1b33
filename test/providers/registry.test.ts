/** The provider registry: local mode serves `local` and refuses `aws` unless the operator opts in. */
import { describe, expect, it } from '@jest/globals';
import { createProvider, localOnlyRegistry, LocalProvider, staticRegistry } from '../../providers/index.js';
import type { MachineProvider } from '../../functions/domain/provider.js';

const local = new LocalProvider({ home: '/tmp/capstan-registry-unused', faults: {}, bootMs: 100 });

describe('localOnlyRegistry', () => {
  it('returns the local provider for local', () => {
    expect(localOnlyRegistry(local).get('local')).toBe(local);
  });

  it('fails when asked for aws, saying how to opt in', () => {
    expect(() => localOnlyRegistry(local).get('aws')).toThrow(expect.objectContaining({ name: 'ProviderDisabledError', message: expect.stringContaining('CAPSTAN_ENABLE_AWS=1') }));
  });
});

describe('staticRegistry', () => {
  it('returns each configured provider', () => {
    const aws = { name: 'aws' } as MachineProvider;
    const registry = staticRegistry({ local, aws });
    expect([registry.get('local'), registry.get('aws')]).toEqual([local, aws]);
  });

  it('fails when local is not configured', () => {
    expect(() => staticRegistry({}).get('local')).toThrow(expect.objectContaining({ name: 'ProviderDisabledError' }));
  });
});

describe('createProvider', () => {
  it('builds a local provider from its options', () => {
    expect(createProvider('local', { local: { home: '/tmp/capstan-registry-unused', faults: {} } })).toBeInstanceOf(LocalProvider);
  });

  it('builds aws through the factory its owner provides', () => {
    const aws = { name: 'aws' } as MachineProvider;
    expect(createProvider('aws', { aws: () => aws })).toBe(aws);
  });

  it.each([
    ['aws', {}, 'CAPSTAN_ENABLE_AWS=1'],
    ['local', {}, 'CAPSTAN_HOME'],
  ] as const)('fails when %s has no dependencies', (name, deps, hint) => {
    expect(() => createProvider(name, deps)).toThrow(expect.objectContaining({ name: 'ProviderDisabledError', message: expect.stringContaining(hint) }));
  });
});

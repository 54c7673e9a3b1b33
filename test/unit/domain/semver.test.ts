import { parseVersion } from '../../../functions/domain/semver.js';

describe('parseVersion', () => {
  it.each([
    ['a release', 'v1.30.2', { major: 1, minor: 30, patch: 2 }],
    ['a pre-release', 'v1.31.0-rc.1', { major: 1, minor: 31, patch: 0, pre: 'rc.1' }],
    ['a build suffix', 'v1.29.3+k3s1', { major: 1, minor: 29, patch: 3 }],
    ['no leading v', '1.30.2', undefined],
    ['a leading zero', 'v1.03.2', undefined],
    ['an underscore in the pre-release', 'v1.20.0-alpha.0.734_ba502ee555924a', undefined],
    ['two parts', 'v1.30', undefined],
  ])('reads %s strictly (%s)', (_name, text, expected) => {
    expect(parseVersion(text)).toEqual(expected);
  });

  it.each([
    ['a release', 'v1.30.2', { major: 1, minor: 30, patch: 2 }],
    ['no leading v (KCP and the MachineSet preflight accept it)', '1.30.2', { major: 1, minor: 30, patch: 2 }],
    ['a pre-release, dropped', 'v1.31.0-rc.1', { major: 1, minor: 31, patch: 0 }],
    ['a Kubernetes CI build (underscore), dropped', 'v1.20.0-alpha.0.734_ba502ee555924a', { major: 1, minor: 20, patch: 0 }],
    ['a leading zero', 'v1.03.2', undefined],
    ['a suffix outside [-0-9A-Za-z_.+]', 'v1.30.2 beta', undefined],
    ['two parts', '1.30', undefined],
  ])('reads %s as Cluster API does with { tolerant: true } (%s)', (_name, text, expected) => {
    expect(parseVersion(text, { tolerant: true })).toEqual(expected);
  });
});

import { kcpValidateVersionUpdate, skipsMinorVersion } from '../../../../functions/domain/planner/version-skew.js';
import { mustParseVersion } from '../../../../functions/domain/semver.js';

describe('skipsMinorVersion', () => {
  it.each([
    ['v1.18.8', 'v1.19.0', false],
    ['v1.18.8', 'v1.19.99', false],
    ['v1.18.8', 'v1.18.1', false],
    ['v1.19.2', 'v1.17.0', false],
    ['v1.18.8', 'v1.20.0', true],
    ['v1.18.8', 'v1.20.0-rc.0', true],
    ['v1.18.8', 'v1.22.3', true],
    ['v1.30.0', 'v2.0.0', true],
  ])('from %s to %s: %s', (from, to, skips) => {
    expect(skipsMinorVersion(mustParseVersion(from), mustParseVersion(to))).toBe(skips);
  });
});

describe('kcpValidateVersionUpdate', () => {
  it.each([
    ['one minor up', 'v1.18.8', 'v1.19.0'],
    ['one minor up to a later patch (KCP webhook test, line 1245)', 'v1.20.1', 'v1.21.18'],
    ['a patch down', 'v1.19.2', 'v1.19.1'],
    ['a previous version without v (KCP reads it with semver.ParseTolerant)', '1.18.8', 'v1.19.0'],
  ])('allows %s', (_name, from, to) => {
    expect(kcpValidateVersionUpdate(from, to)).toBeUndefined();
  });

  it.each([
    ['it skips a minor', 'v1.18.8', 'v1.20.0', 'spec.version: cannot update Kubernetes version from v1.18.8 to v1.20.0: upgrade one minor version at a time (below v1.20.0)'],
    ['it skips a minor to a CI build', 'v1.18.8', 'v1.20.0-alpha.0.734_ba502ee555924a', 'spec.version: cannot update Kubernetes version from v1.18.8 to v1.20.0-alpha.0.734_ba502ee555924a: upgrade one minor version at a time (below v1.20.0)'],
    ['the new version is not one', 'v1.18.8', 'latest', 'spec.version: must be vX.Y.Z, got "latest"'],
    ['the previous version is not one', 'v1.18', 'v1.19.0', 'spec.version: previous version "v1.18" is not vX.Y.Z'],
  ])('fails when %s', (_name, from, to, message) => {
    expect(kcpValidateVersionUpdate(from, to)).toBe(message);
  });
});

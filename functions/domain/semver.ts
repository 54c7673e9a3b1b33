/**
 * Kubernetes versions `vX.Y.Z` (optionally with a pre-release or build suffix, as kubeadm accepts), and the skew
 * rules between them. The one version parser of the domain: spec validation reads versions strictly, the Cluster API
 * rules (planner/version-skew.ts) read them as Cluster API does (`{ tolerant: true }`).
 */

/** A parsed version; `pre` is the pre-release (`rc.1` of `v1.30.0-rc.1`), absent for a release. */
export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly pre?: string;
}

/** How strictly `parseVersion` reads a version. */
export interface ParseVersionOptions {
  /**
   * Read the version as Cluster API does, for the rules re-implemented from it (planner/version-skew.ts): the
   * leading `v` is optional, and whatever follows major.minor.patch (`-rc.1`, `+build`,
   * `-alpha.0.734_ba502ee555924a`: any run of `[-0-9A-Za-z_.+]`) is ignored, so the result has no `pre`.
   *
   * Note: where Cluster API accepts a version without `v`: the KubeadmControlPlane webhook's `validateVersion` and
   * the MachineSet preflight checks parse with blang's `semver.ParseTolerant`, and `util/version` has
   * `ParseMajorMinorPatchTolerant` (its `KubeSemverTolerant` regex, the pattern used here). KCP's defaulting webhook
   * then adds the `v`, and Capstan's own fields (`spec.version`) always require it.
   * @default false: strict `vX.Y.Z`, with an optional semver pre-release and build suffix
   */
  readonly tolerant?: boolean;
}

const VERSION = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;
/** Cluster API's `KubeSemverTolerant` (util/version): optional `v`, suffix characters checked, not parsed. */
const KUBE_SEMVER_TOLERANT = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)[-0-9A-Za-z_.+]*$/;

/** Parses `vX.Y.Z` (see `ParseVersionOptions` for the tolerant form); undefined when the string is not one. */
export function parseVersion(text: string, options: ParseVersionOptions = {}): Version | undefined {
  if (options.tolerant) {
    const t = KUBE_SEMVER_TOLERANT.exec(text);
    return t ? { major: Number(t[1]), minor: Number(t[2]), patch: Number(t[3]) } : undefined;
  }
  const m = VERSION.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), ...(m[4] ? { pre: m[4] } : {}) };
}

/** Like parseVersion, but throws for an invalid string (use after validation). */
export function mustParseVersion(text: string): Version {
  const v = parseVersion(text);
  if (!v) throw new Error(`invalid version ${JSON.stringify(text)}: must be vX.Y.Z`);
  return v;
}

/** Negative, zero or positive, as `a` is older than, equal to or newer than `b`. Pre-releases sort before releases. */
export function compareVersions(a: string, b: string): number {
  const x = mustParseVersion(a);
  const y = mustParseVersion(b);
  if (x.major !== y.major) return x.major - y.major;
  if (x.minor !== y.minor) return x.minor - y.minor;
  if (x.patch !== y.patch) return x.patch - y.patch;
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

/** How many minor versions `older` is behind `newer` (same major assumed; a major change counts as 100). */
export function minorSkew(newer: string, older: string): number {
  const n = mustParseVersion(newer);
  const o = mustParseVersion(older);
  if (n.major !== o.major) return (n.major - o.major) * 100;
  return n.minor - o.minor;
}

/** Kubelet may be at most this many minors older than the API server (Kubernetes >= 1.28 allows n-3). */
export const MAX_KUBELET_SKEW = 3;

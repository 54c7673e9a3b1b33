/**
 * Kubernetes versions `vX.Y.Z` (optionally with a pre-release or build suffix, as kubeadm accepts), and the skew
 * rules between them.
 */

export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly pre?: string;
}

const VERSION = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** Parses `vX.Y.Z`; undefined when the string is not one. */
export function parseVersion(text: string): Version | undefined {
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

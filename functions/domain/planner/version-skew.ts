/**
 * Version rules Cluster API enforces on control-plane upgrades and on machines joining a cluster. Versions are read by
 * the domain's one parser (semver.ts), in its tolerant form, as Cluster API reads them.
 */
import { parseVersion, type Version } from '../semver.js';

/** Major.minor.patch as Cluster API reads it (`version.ParseMajorMinorPatchTolerant`): no `v` needed, suffix ignored. */
function parseMajorMinorPatch(text: string): Version | undefined {
  return parseVersion(text, { tolerant: true });
}

function compare(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/**
 * The one "upgrade one minor version at a time" rule (kubeadm's, as the KCP webhook `validateVersion` enforces it):
 * true when `to`, pre-release ignored, is at or above `from.major.(from.minor+2).0`. Both the Cluster API check below
 * and Capstan's update validation (spec/update.ts) decide by it.
 * Note: only upgrades can skip; a downgrade or a patch change never does (other rules may refuse those).
 */
export function skipsMinorVersion(from: Version, to: Version): boolean {
  return compare(to, { major: from.major, minor: from.minor + 2, patch: 0 }) >= 0;
}

/**
 * Why a control-plane version change is refused, or undefined when it is allowed (KCP webhook `validateVersion`).
 * Note: upgrades go one minor at a time (kubeadm's rule): the new version, pre-release ignored, must be below
 * `major.(minor+2).0` of the old one.
 */
export function kcpValidateVersionUpdate(oldVersion: string, newVersion: string): string | undefined {
  const from = parseMajorMinorPatch(oldVersion);
  const to = parseMajorMinorPatch(newVersion);
  if (!from) return `spec.version: previous version ${JSON.stringify(oldVersion)} is not vX.Y.Z`;
  if (!to) return `spec.version: must be vX.Y.Z, got ${JSON.stringify(newVersion)}`;
  if (skipsMinorVersion(from, to)) {
    return `spec.version: cannot update Kubernetes version from ${oldVersion} to ${newVersion}: upgrade one minor version at a time (below v${from.major}.${from.minor + 2}.0)`;
  }
  return undefined;
}

/** Outcome of `machineSetPreflightVersionSkew`. */
export type PreflightResult =
  | { readonly pass: true }
  | { readonly pass: false; readonly failedCheck: 'KubernetesVersionSkew' | 'KubeadmVersionSkew'; readonly message: string };

/**
 * Whether machines of `machineVersion` may join a control plane at `controlPlaneVersion` (MachineSet preflight).
 * Note: a kubelet may not be newer than the API server, nor more than 3 minors older (2 before v1.28); with kubeadm
 * bootstrap (`kubeadmBootstrap`) the minors must match, because `kubeadm join` only supports its own minor.
 */
export function machineSetPreflightVersionSkew(controlPlaneVersion: string, machineVersion: string, options: { readonly kubeadmBootstrap?: boolean } = {}): PreflightResult {
  const cp = parseMajorMinorPatch(controlPlaneVersion);
  const ms = parseMajorMinorPatch(machineVersion);
  if (!cp || !ms) return { pass: false, failedCheck: 'KubernetesVersionSkew', message: `cannot compare versions ${controlPlaneVersion} and ${machineVersion}` };
  if (ms.major !== cp.major || ms.minor > cp.minor) {
    return { pass: false, failedCheck: 'KubernetesVersionSkew', message: `machine version ${machineVersion} is newer than control plane version ${controlPlaneVersion}` };
  }
  const allowedSkew = cp.minor >= 28 ? 3 : 2;
  if (ms.minor < cp.minor - allowedSkew) {
    return { pass: false, failedCheck: 'KubernetesVersionSkew', message: `machine version ${machineVersion} is more than ${allowedSkew} minor versions older than control plane version ${controlPlaneVersion}` };
  }
  if (options.kubeadmBootstrap && ms.minor !== cp.minor) {
    return { pass: false, failedCheck: 'KubeadmVersionSkew', message: `kubeadm only joins machines of the control plane's minor version: ${machineVersion} vs ${controlPlaneVersion}` };
  }
  return { pass: true };
}

/**
 * The documents of one `POST /v1/apply` as the importer sees them: classified by group and kind, indexed by name,
 * with every problem collected against the document it belongs to (`documents[3] (AWSCluster capstan-demo)`).
 */
import type { Issue } from '../errors.js';
import { asObj, asStr, at, type Obj } from './object.js';

export const CAPSTAN_GROUP = 'capstan.dev';
export const CLUSTER_GROUP = 'cluster.x-k8s.io';
export const CONTROL_PLANE_GROUP = 'controlplane.cluster.x-k8s.io';
export const BOOTSTRAP_GROUP = 'bootstrap.cluster.x-k8s.io';
export const INFRASTRUCTURE_GROUP = 'infrastructure.cluster.x-k8s.io';
export const ADDONS_GROUP = 'addons.cluster.x-k8s.io';

/** What the importer does with a kind: map it, or accept and ignore it. Kinds not listed are refused. */
export type KindHandling = 'mapped' | 'ignored';

interface GroupSupport {
  readonly versions: readonly string[];
  readonly kinds: Readonly<Record<string, KindHandling>>;
}

const CAPI_VERSIONS = ['v1beta1', 'v1beta2'] as const;

/** AWS provider (CAPA) infrastructure kinds the importer maps. */
export const AWS_KINDS = ['AWSCluster', 'AWSClusterTemplate', 'AWSMachineTemplate', 'AWSClusterRoleIdentity', 'AWSClusterControllerIdentity'] as const;

/** Docker provider (CAPD) infrastructure kinds, old (`Docker*`) and new (`Dev*` with `backend.docker`): all map to the local provider. */
export const LOCAL_KINDS = [
  'DockerCluster',
  'DockerClusterTemplate',
  'DockerMachineTemplate',
  'DockerMachinePoolTemplate',
  'DevCluster',
  'DevClusterTemplate',
  'DevMachineTemplate',
  'DevMachinePoolTemplate',
] as const;

const mapped = (kinds: readonly string[]): Record<string, KindHandling> => Object.fromEntries(kinds.map((k) => [k, 'mapped']));
const ignored = (kinds: readonly string[]): Record<string, KindHandling> => Object.fromEntries(kinds.map((k) => [k, 'ignored']));

/**
 * Every group, version and kind the importer accepts. Addons (ClusterResourceSet and the Secrets/ConfigMaps they
 * carry) are accepted and ignored: installing workload-cluster addons is out of Capstan's scope.
 */
export const SUPPORTED: Readonly<Record<string, GroupSupport>> = {
  [CAPSTAN_GROUP]: { versions: ['v1alpha1'], kinds: mapped(['Cluster']) },
  [CLUSTER_GROUP]: { versions: CAPI_VERSIONS, kinds: mapped(['Cluster', 'ClusterClass', 'MachineDeployment', 'MachineHealthCheck']) },
  [CONTROL_PLANE_GROUP]: { versions: CAPI_VERSIONS, kinds: mapped(['KubeadmControlPlane', 'KubeadmControlPlaneTemplate']) },
  [BOOTSTRAP_GROUP]: { versions: CAPI_VERSIONS, kinds: mapped(['KubeadmConfigTemplate']) },
  [INFRASTRUCTURE_GROUP]: { versions: CAPI_VERSIONS, kinds: mapped([...AWS_KINDS, ...LOCAL_KINDS]) },
  [ADDONS_GROUP]: { versions: CAPI_VERSIONS, kinds: ignored(['ClusterResourceSet', 'ClusterResourceSetBinding']) },
  '': { versions: ['v1'], kinds: ignored(['Secret', 'ConfigMap']) },
};

/** One document of the request, with its position. */
export interface ManifestDoc {
  /** Position in the request's document list: error paths use it. */
  readonly index: number;
  readonly apiVersion: string;
  /** API group; `''` for the core group (`v1`). */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly name: string;
  readonly body: Obj;
  readonly handling: KindHandling;
}

/** A reference to another document, in either Cluster API shape (`apiVersion` or `apiGroup`, plus `kind`, `name`). */
export interface Ref {
  /** Undefined when the reference names no group (e.g. an `identityRef`). */
  readonly group?: string;
  readonly kind: string;
  readonly name: string;
}

/** The group of an `apiVersion` (`infrastructure.cluster.x-k8s.io/v1beta2` → `infrastructure.cluster.x-k8s.io`, `v1` → `''`). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** A reference from v1beta1 (`apiVersion`+`kind`+`name`) or v1beta2 (`apiGroup`+`kind`+`name`); undefined if malformed. */
export function readRef(value: unknown): Ref | undefined {
  const kind = asStr(at(value, 'kind'));
  const name = asStr(at(value, 'name'));
  if (!kind || !name) return undefined;
  const apiGroup = asStr(at(value, 'apiGroup'));
  const apiVersion = asStr(at(value, 'apiVersion'));
  const group = apiGroup ?? (apiVersion === undefined ? undefined : groupOf(apiVersion));
  return group === undefined ? { kind, name } : { group, kind, name };
}

/** `Kind name` for messages. */
export function describeRef(ref: Ref): string {
  return `${ref.kind} ${ref.name}`;
}

/** The error path of a document: `documents[3] (AWSCluster capstan-demo)`. */
export function docPath(doc: Pick<ManifestDoc, 'index' | 'kind' | 'name'>): string {
  return `documents[${doc.index}] (${doc.kind} ${doc.name})`;
}

/** Collects problems while importing, so that every one is reported at once. */
export class Problems {
  /** Malformed input or dangling references (ValidationError). */
  readonly invalid: Issue[] = [];
  /** Well-formed input Capstan cannot honour (UnsupportedError). */
  readonly unsupported: Issue[] = [];

  /** Records that `field` of `doc` is invalid. */
  invalidAt(doc: ManifestDoc, field: string, message: string): void {
    this.invalid.push({ path: docPath(doc), message: `${field}: ${message}` });
  }

  /** Records that `field` of `doc` asks for something unsupported. */
  unsupportedAt(doc: ManifestDoc, field: string, message: string): void {
    this.unsupported.push({ path: docPath(doc), message: `${field}: ${message}` });
  }
}

/** The classified documents of a request, indexed by kind and name for reference lookups. */
export class ManifestIndex {
  private readonly byKindName = new Map<string, ManifestDoc[]>();

  constructor(readonly docs: readonly ManifestDoc[]) {
    for (const doc of docs) {
      const key = `${doc.kind}/${doc.name}`;
      this.byKindName.set(key, [...(this.byKindName.get(key) ?? []), doc]);
    }
  }

  /** The document `ref` points at (matching its group when it names one), or undefined. */
  find(ref: Ref): ManifestDoc | undefined {
    return this.byKindName.get(`${ref.kind}/${ref.name}`)?.find((d) => ref.group === undefined || d.group === ref.group);
  }

  /** Documents of one group and kind, in request order. */
  ofKind(group: string, kind: string): ManifestDoc[] {
    return this.docs.filter((d) => d.group === group && d.kind === kind);
  }
}

/** Result of classifying the raw documents. */
export interface Classified {
  readonly docs: ManifestDoc[];
  readonly invalid: Issue[];
  readonly unsupported: Issue[];
}

/**
 * Classifies raw documents. Empty YAML documents (`null`, as `---\n---` parses) are skipped but keep their index.
 */
export function classify(documents: readonly unknown[]): Classified {
  const docs: ManifestDoc[] = [];
  const invalid: Issue[] = [];
  const unsupported: Issue[] = [];
  documents.forEach((raw, index) => {
    if (raw === null || raw === undefined) return;
    const body = asObj(raw);
    const path = `documents[${index}]`;
    if (!body) {
      invalid.push({ path, message: `must be a Kubernetes object with apiVersion, kind and metadata.name, got ${Array.isArray(raw) ? 'a list' : typeof raw}` });
      return;
    }
    const apiVersion = asStr(body['apiVersion']);
    const kind = asStr(body['kind']);
    const name = asStr(at(body, 'metadata', 'name'));
    const missing = [!apiVersion && 'apiVersion', !kind && 'kind', !name && 'metadata.name'].filter(Boolean);
    if (!apiVersion || !kind || !name) {
      invalid.push({ path, message: `${missing.join(', ')}: required, got none` });
      return;
    }
    const group = groupOf(apiVersion);
    const version = apiVersion.slice(apiVersion.lastIndexOf('/') + 1);
    const support = SUPPORTED[group];
    const handling = support?.versions.includes(version) ? support.kinds[kind] : undefined;
    if (!handling) {
      unsupported.push({ path, message: `kind ${kind} (${apiVersion}) is not supported yet` });
      return;
    }
    const doc: ManifestDoc = { index, apiVersion, group, version, kind, name, body, handling };
    const first = docs.find((d) => d.group === group && d.kind === kind && d.name === name);
    if (first) invalid.push({ path: docPath(doc), message: `metadata.name: ${kind} ${name} is already defined by documents[${first.index}]` });
    else docs.push(doc);
  });
  return { docs, invalid, unsupported };
}

/**
 * Checks kubeadm configuration documents against kubeadm's own Go types, so that the documents Capstan renders (and the
 * Cluster API settings it merges into them) are judged by what kubeadm decodes, not by our idea of it.
 *
 * Where the tables come from (kubernetes/kubernetes, read through the public code index; the commit is the stored
 * version of each file, the Kubernetes release it matches is given where known):
 * - `cmd/kubeadm/app/apis/kubeadm/v1beta3/types.go` @ 428c3fe9540a2cbe8daf4645879a87b30bbf1d02 (v1beta3: what
 *   Kubernetes < 1.31 gets here).
 * - `cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go` @ 1329935739c3aa007d23cb9a4dadfee9d59ff79b: v1beta4 as of 1.31/1.32
 *   (it has every change of the 1.31 changelog in v1beta4/doc.go: Timeouts, ExtraEnvs, EncryptionAlgorithm,
 *   CertificateValidityPeriod, DNS/Proxy.Disabled, ImagePullSerial; and none of the later ones). Later additions come
 *   from the changelog of
 *   https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/ (v1.33: UpgradeConfiguration only;
 *   v1.34: "ECDSA-P384"; v1.35: `etcd.external.httpEndpoints`, kubernetes/kubernetes PR 134890) and are marked with
 *   the minor version that added them (`ADDED_IN`).
 * - `cmd/kubeadm/app/apis/bootstraptoken/v1/types.go` + `utils.go` (BootstrapToken, and BootstrapTokenString, which
 *   decodes only a string of the form `[a-z0-9]{6}.[a-z0-9]{16}`).
 * - k8s.io/api `core/v1/types.go` (Taint, EnvVar, PullPolicy, TaintEffect, HostPathType) and k8s.io/apimachinery
 *   `metav1.Duration` (a JSON string for Go's `time.ParseDuration`) and `metav1.Time` (a JSON string in RFC 3339).
 * - Required fields, one-of rules and value formats: `cmd/kubeadm/app/apis/kubeadm/validation/validation.go`
 *   (ValidateDiscovery, ValidateDiscoveryBootstrapToken, ValidateToken, ValidateCertificateKey, ValidateEtcd,
 *   ValidateExtraArgs, ValidateBootstrapTokens, ValidateImagePullPolicy, ValidateEncryptionAlgorithm) and
 *   `cmd/kubeadm/app/util/pubkeypin/pubkeypin.go` (`sha256:` + 64 hex digits).
 *
 * The apiVersion rule enforced: Kubernetes < 1.31 must use `kubeadm.k8s.io/v1beta3` (kubeadm before 1.31 has no
 * v1beta4: "kubeadm v1.31.x and newer can be used to migrate from v1beta3 to v1beta4", v1beta4/doc.go); Kubernetes
 * >= 1.31 must use `kubeadm.k8s.io/v1beta4`. kubeadm 1.31+ still reads v1beta3 but lists it in
 * `deprecatedAPIVersions` and warns ("v1.31: v1beta3 read-only, writes only v1beta4 config",
 * `cmd/kubeadm/app/util/config/common.go` validateSupportedVersion), so Capstan must emit v1beta4 there.
 *
 * Note: an unknown field is a problem even though `kubeadm init|join` only logs a warning for it
 * (`strict.VerifyUnmarshalStrict` with strictErrors=false, `cmd/kubeadm/app/util/config/initconfiguration.go`): the
 * field is dropped, so the setting it carried is silently lost. A wrong JSON shape is a hard decode error.
 *
 * Note: KubeletConfiguration (`kubelet.config.k8s.io/v1beta1`) and KubeProxyConfiguration
 * (`kubeproxy.config.k8s.io/v1alpha1`) documents are accepted by apiVersion and kind only; their fields are not
 * checked. ResetConfiguration and UpgradeConfiguration are not documents Capstan renders and are refused.
 */

/**
 * A field's JSON shape, written as its Go type: `string`, `bool`, `int32`, `[]X`, `map[string]X`, `*X` (a pointer:
 * same JSON), a named string type (`NAMED_STRINGS`), a formatted string (`metav1.Duration`, `metav1.Time`,
 * `BootstrapTokenString`), an opaque object (`corev1.EnvVarSource`: shape of an object only) or a struct of the
 * tables. A trailing `!` marks a field kubeadm requires (see `REQUIRED_BECAUSE`). The key `,inline` mirrors Go's
 * `json:",inline"`: the named struct's fields are this struct's fields.
 */
export type GoShape = string;
/** One Go struct: JSON field name → shape. */
export type GoStruct = Readonly<Record<string, GoShape>>;
type ApiVersion = 'v1beta3' | 'v1beta4';

/** Types shared by both kubeadm API versions. */
const SHARED: Readonly<Record<string, GoStruct>> = {
  'metav1.TypeMeta': { apiVersion: 'string', kind: 'string' },
  // bootstraptoken/v1/types.go
  BootstrapToken: {
    token: '*BootstrapTokenString',
    description: 'string',
    ttl: '*metav1.Duration',
    expires: '*metav1.Time',
    usages: '[]string',
    groups: '[]string',
  },
  // k8s.io/api core/v1/types.go
  'corev1.Taint': { key: 'string!', value: 'string', effect: 'corev1.TaintEffect!', timeAdded: '*metav1.Time' },
  'corev1.EnvVar': { name: 'string!', value: 'string', valueFrom: '*corev1.EnvVarSource' },
};

/** kubeadm.k8s.io/v1beta3 (types.go @ 428c3fe9). */
const V1BETA3: Readonly<Record<string, GoStruct>> = {
  InitConfiguration: {
    ',inline': 'metav1.TypeMeta',
    bootstrapTokens: '[]BootstrapToken',
    nodeRegistration: 'NodeRegistrationOptions',
    localAPIEndpoint: 'APIEndpoint',
    certificateKey: 'string',
    skipPhases: '[]string',
    patches: '*Patches',
  },
  ClusterConfiguration: {
    ',inline': 'metav1.TypeMeta',
    etcd: 'Etcd',
    networking: 'Networking',
    kubernetesVersion: 'string',
    controlPlaneEndpoint: 'string',
    apiServer: 'APIServer',
    controllerManager: 'ControlPlaneComponent',
    scheduler: 'ControlPlaneComponent',
    dns: 'DNS',
    certificatesDir: 'string',
    imageRepository: 'string',
    featureGates: 'map[string]bool',
    clusterName: 'string',
  },
  ControlPlaneComponent: { extraArgs: 'map[string]string', extraVolumes: '[]HostPathMount' },
  APIServer: { ',inline': 'ControlPlaneComponent', certSANs: '[]string', timeoutForControlPlane: '*metav1.Duration' },
  DNS: { ',inline': 'ImageMeta' },
  ImageMeta: { imageRepository: 'string', imageTag: 'string' },
  APIEndpoint: { advertiseAddress: 'string', bindPort: 'int32' },
  NodeRegistrationOptions: {
    name: 'string',
    criSocket: 'string',
    taints: '[]corev1.Taint',
    kubeletExtraArgs: 'map[string]string',
    ignorePreflightErrors: '[]string',
    imagePullPolicy: 'corev1.PullPolicy',
  },
  Networking: { serviceSubnet: 'string', podSubnet: 'string', dnsDomain: 'string' },
  Etcd: { local: '*LocalEtcd', external: '*ExternalEtcd' },
  LocalEtcd: {
    ',inline': 'ImageMeta',
    dataDir: 'string',
    extraArgs: 'map[string]string',
    serverCertSANs: '[]string',
    peerCertSANs: '[]string',
  },
  ExternalEtcd: { endpoints: '[]string!', caFile: 'string', certFile: 'string', keyFile: 'string' },
  JoinConfiguration: {
    ',inline': 'metav1.TypeMeta',
    nodeRegistration: 'NodeRegistrationOptions',
    caCertPath: 'string',
    discovery: 'Discovery!',
    controlPlane: '*JoinControlPlane',
    skipPhases: '[]string',
    patches: '*Patches',
  },
  JoinControlPlane: { localAPIEndpoint: 'APIEndpoint', certificateKey: 'string' },
  Discovery: {
    bootstrapToken: '*BootstrapTokenDiscovery',
    file: '*FileDiscovery',
    tlsBootstrapToken: 'string',
    timeout: '*metav1.Duration',
  },
  BootstrapTokenDiscovery: {
    token: 'string!',
    apiServerEndpoint: 'string!',
    caCertHashes: '[]string',
    unsafeSkipCAVerification: 'bool',
  },
  FileDiscovery: { kubeConfigPath: 'string!' },
  HostPathMount: { name: 'string!', hostPath: 'string!', mountPath: 'string!', readOnly: 'bool', pathType: 'corev1.HostPathType' },
  Patches: { directory: 'string' },
};

/** kubeadm.k8s.io/v1beta4 (types.go @ 1329935, i.e. 1.31; later fields in `ADDED_IN`). */
const V1BETA4: Readonly<Record<string, GoStruct>> = {
  InitConfiguration: {
    ',inline': 'metav1.TypeMeta',
    bootstrapTokens: '[]BootstrapToken',
    dryRun: 'bool',
    nodeRegistration: 'NodeRegistrationOptions',
    localAPIEndpoint: 'APIEndpoint',
    certificateKey: 'string',
    skipPhases: '[]string',
    patches: '*Patches',
    timeouts: '*Timeouts',
  },
  ClusterConfiguration: {
    ',inline': 'metav1.TypeMeta',
    etcd: 'Etcd',
    networking: 'Networking',
    kubernetesVersion: 'string',
    controlPlaneEndpoint: 'string',
    apiServer: 'APIServer',
    controllerManager: 'ControlPlaneComponent',
    scheduler: 'ControlPlaneComponent',
    dns: 'DNS',
    proxy: 'Proxy',
    certificatesDir: 'string',
    imageRepository: 'string',
    featureGates: 'map[string]bool',
    clusterName: 'string',
    encryptionAlgorithm: 'EncryptionAlgorithmType',
    certificateValidityPeriod: '*metav1.Duration',
    caCertificateValidityPeriod: '*metav1.Duration',
  },
  ControlPlaneComponent: { extraArgs: '[]Arg', extraVolumes: '[]HostPathMount', extraEnvs: '[]EnvVar' },
  APIServer: { ',inline': 'ControlPlaneComponent', certSANs: '[]string' },
  DNS: { ',inline': 'ImageMeta', disabled: 'bool' },
  Proxy: { disabled: 'bool' },
  ImageMeta: { imageRepository: 'string', imageTag: 'string' },
  APIEndpoint: { advertiseAddress: 'string', bindPort: 'int32' },
  NodeRegistrationOptions: {
    name: 'string',
    criSocket: 'string',
    taints: '[]corev1.Taint',
    kubeletExtraArgs: '[]Arg',
    ignorePreflightErrors: '[]string',
    imagePullPolicy: 'corev1.PullPolicy',
    imagePullSerial: '*bool',
  },
  Networking: { serviceSubnet: 'string', podSubnet: 'string', dnsDomain: 'string' },
  Etcd: { local: '*LocalEtcd', external: '*ExternalEtcd' },
  LocalEtcd: {
    ',inline': 'ImageMeta',
    dataDir: 'string',
    extraArgs: '[]Arg',
    extraEnvs: '[]EnvVar',
    serverCertSANs: '[]string',
    peerCertSANs: '[]string',
  },
  ExternalEtcd: { endpoints: '[]string!', httpEndpoints: '[]string', caFile: 'string', certFile: 'string', keyFile: 'string' },
  JoinConfiguration: {
    ',inline': 'metav1.TypeMeta',
    dryRun: 'bool',
    nodeRegistration: 'NodeRegistrationOptions',
    caCertPath: 'string',
    discovery: 'Discovery!',
    controlPlane: '*JoinControlPlane',
    skipPhases: '[]string',
    patches: '*Patches',
    timeouts: '*Timeouts',
  },
  JoinControlPlane: { localAPIEndpoint: 'APIEndpoint', certificateKey: 'string' },
  Discovery: { bootstrapToken: '*BootstrapTokenDiscovery', file: '*FileDiscovery', tlsBootstrapToken: 'string' },
  BootstrapTokenDiscovery: {
    token: 'string!',
    apiServerEndpoint: 'string!',
    caCertHashes: '[]string',
    unsafeSkipCAVerification: 'bool',
  },
  FileDiscovery: { kubeConfigPath: 'string!' },
  HostPathMount: { name: 'string!', hostPath: 'string!', mountPath: 'string!', readOnly: 'bool', pathType: 'corev1.HostPathType' },
  Patches: { directory: 'string' },
  Arg: { name: 'string!', value: 'string' },
  EnvVar: { ',inline': 'corev1.EnvVar' },
  Timeouts: {
    controlPlaneComponentHealthCheck: '*metav1.Duration',
    kubeletHealthCheck: '*metav1.Duration',
    kubernetesAPICall: '*metav1.Duration',
    etcdAPICall: '*metav1.Duration',
    tlsBootstrap: '*metav1.Duration',
    discovery: '*metav1.Duration',
    upgradeManifests: '*metav1.Duration',
  },
};

/** The Go types of each kubeadm API version (shared types included), as tables to compare with upstream. */
export const KUBEADM_GO_TYPES: Readonly<Record<ApiVersion, Readonly<Record<string, GoStruct>>>> = {
  v1beta3: { ...SHARED, ...V1BETA3 },
  v1beta4: { ...SHARED, ...V1BETA4 },
};

/** Fields added to an API version after its first release: `Type.field` → the Kubernetes minor that added it. */
const ADDED_IN: Readonly<Record<ApiVersion, Readonly<Record<string, number>>>> = {
  v1beta3: {},
  v1beta4: { 'ExternalEtcd.httpEndpoints': 35 },
};

/** Named Go string types whose values kubeadm (or the API object they become) restricts; value → minor added. */
const NAMED_STRINGS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  'corev1.PullPolicy': { Always: 0, IfNotPresent: 0, Never: 0 }, // ValidateImagePullPolicy
  'corev1.TaintEffect': { NoSchedule: 0, PreferNoSchedule: 0, NoExecute: 0 },
  'corev1.HostPathType': { '': 0, DirectoryOrCreate: 0, Directory: 0, FileOrCreate: 0, File: 0, Socket: 0, CharDevice: 0, BlockDevice: 0 },
  EncryptionAlgorithmType: { 'RSA-2048': 0, 'RSA-3072': 0, 'RSA-4096': 0, 'ECDSA-P256': 0, 'ECDSA-P384': 34 }, // ValidateEncryptionAlgorithm
};

/** Why a field is marked `!` (kubeadm's code, or the API object the field becomes). */
export const REQUIRED_BECAUSE: Readonly<Record<string, string>> = {
  'JoinConfiguration.discovery': 'ValidateDiscovery: bootstrapToken or file must be set',
  'BootstrapTokenDiscovery.token': 'ValidateDiscoveryBootstrapToken → ValidateToken',
  'BootstrapTokenDiscovery.apiServerEndpoint': 'ValidateDiscoveryBootstrapToken: "APIServerEndpoint is not set"',
  'FileDiscovery.kubeConfigPath': 'ValidateDiscoveryFile',
  'ExternalEtcd.endpoints': 'types.go: "Required for ExternalEtcd"',
  'HostPathMount.name': 'a Pod volume needs a name', // also hostPath and mountPath: the static Pod's volume and mount
  'Arg.name': 'ValidateExtraArgs: "argument has no name"',
  'corev1.Taint.key': 'core/v1 Taint: "Required"', // and effect
  'corev1.EnvVar.name': 'core/v1 EnvVar',
};

type Rule = { readonly rule: 'exactlyOne' | 'atMostOne' | 'atLeastOne'; readonly fields: readonly string[]; readonly source: string };

/** Cross-field rules of validation.go, per Go type. A field counts as set when non-null, non-empty and not false. */
const RULES: Readonly<Record<string, readonly Rule[]>> = {
  Discovery: [{ rule: 'exactlyOne', fields: ['bootstrapToken', 'file'], source: 'ValidateDiscovery' }],
  Etcd: [{ rule: 'atMostOne', fields: ['local', 'external'], source: 'ValidateEtcd' }],
  BootstrapTokenDiscovery: [
    { rule: 'atLeastOne', fields: ['caCertHashes', 'unsafeSkipCAVerification'], source: 'ValidateDiscoveryBootstrapToken' },
  ],
  BootstrapToken: [{ rule: 'atMostOne', fields: ['ttl', 'expires'], source: 'ValidateBootstrapTokens' }],
};

/** Value formats kubeadm validates beyond the JSON shape: `Type.field` → format (list fields: every item). */
const FORMATS: Readonly<Record<string, keyof typeof FORMAT_CHECKS>> = {
  'BootstrapTokenDiscovery.token': 'bootstrapToken', // ValidateToken
  'Discovery.tlsBootstrapToken': 'bootstrapToken', // ValidateToken (defaulted to bootstrapToken.token when empty)
  'InitConfiguration.certificateKey': 'certificateKey', // ValidateCertificateKey
  'JoinControlPlane.certificateKey': 'certificateKey',
  'BootstrapTokenDiscovery.caCertHashes': 'caCertHash', // pubkeypin.Set.Allow
};

const TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
const FORMAT_CHECKS = {
  // Secret values: the message gives the length, never the value.
  bootstrapToken: (s: string) => (TOKEN.test(s) ? undefined : `must be a bootstrap token [a-z0-9]{6}.[a-z0-9]{16}, got ${s.length} characters`),
  certificateKey: (s: string) =>
    s === '' || /^[0-9a-fA-F]{64}$/.test(s) ? undefined : `must be 64 hex digits (a 32-byte AES key), got ${s.length} characters`,
  caCertHash: (s: string) => (/^sha256:[0-9a-fA-F]{64}$/.test(s) ? undefined : `must be "sha256:" and 64 hex digits, got ${JSON.stringify(s)}`),
} as const;

/** Renamed in v1beta4 (v1beta4/doc.go changelog): where an unknown v1beta3 field went. */
const MOVED_IN_V1BETA4: Readonly<Record<string, string>> = {
  'APIServer.timeoutForControlPlane': 'v1beta4 uses timeouts.controlPlaneComponentHealthCheck of InitConfiguration/JoinConfiguration',
  'Discovery.timeout': 'v1beta4 uses JoinConfiguration.timeouts.discovery',
};

const KUBEADM_KINDS = ['InitConfiguration', 'ClusterConfiguration', 'JoinConfiguration'] as const;
/** Component config kinds kubeadm accepts next to its own: checked by apiVersion and kind only. */
const COMPONENT_KINDS: Readonly<Record<string, string>> = {
  KubeletConfiguration: 'kubelet.config.k8s.io/v1beta1',
  KubeProxyConfiguration: 'kubeproxy.config.k8s.io/v1alpha1',
};
const GROUP = 'kubeadm.k8s.io';

interface Context {
  readonly api: ApiVersion;
  readonly minor: number;
  readonly problems: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
const other = (api: ApiVersion): ApiVersion => (api === 'v1beta3' ? 'v1beta4' : 'v1beta3');

function received(v: unknown): string {
  if (v === undefined) return 'none';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Date) return `a YAML timestamp ${v.toISOString()}`;
  if (isObj(v)) return 'a map';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

/** The fields of a struct with its `,inline` structs flattened in. */
function fieldsOf(api: ApiVersion, typeName: string): GoStruct {
  const struct = KUBEADM_GO_TYPES[api][typeName] ?? {};
  const { [',inline']: inline, ...own } = struct;
  return inline ? { ...fieldsOf(api, inline.replace(/^\*/, '')), ...own } : own;
}

function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

/** What an expected Go shape is called in a message. */
function shapeName(shape: string): string {
  if (shape.startsWith('*')) return shapeName(shape.slice(1));
  if (shape.startsWith('[]')) return `a list of ${shape === '[]string' ? 'strings' : shape.slice(2)}`;
  if (shape.startsWith('map[string]')) return `a map of string → ${shape.slice('map[string]'.length)}`;
  return shape;
}

function checkValue(shape: string, value: unknown, path: string, ctx: Context): void {
  if (value === null) return; // JSON null leaves a Go field at its zero value
  const fail = (message: string) => void ctx.problems.push(`${path}: ${message}`);
  if (shape.startsWith('*')) return checkValue(shape.slice(1), value, path, ctx);
  if (shape === '[]Arg' && isObj(value)) return fail(`v1beta4 wants a list of {name, value}, got a map`);
  if (shape === 'map[string]string' && Array.isArray(value) && ctx.api === 'v1beta3') return fail('v1beta3 wants a map of flag name → value, got a list');
  if (shape.startsWith('[]')) {
    if (!Array.isArray(value)) return fail(`must be ${shapeName(shape)}, got ${received(value)}`);
    value.forEach((item, i) => checkValue(shape.slice(2), item, `${path}[${i}]`, ctx));
    return;
  }
  if (shape.startsWith('map[string]')) {
    if (!isObj(value)) return fail(`must be ${shapeName(shape)}, got ${received(value)}`);
    for (const [k, v] of Object.entries(value)) checkValue(shape.slice('map[string]'.length), v, `${path}.${k}`, ctx);
    return;
  }
  switch (shape) {
    case 'string':
      return typeof value === 'string' ? undefined : fail(`must be a string, got ${received(value)}`);
    case 'bool':
      return typeof value === 'boolean' ? undefined : fail(`must be a bool, got ${received(value)}`);
    case 'int32':
      return typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31
        ? undefined
        : fail(`must be a 32-bit integer, got ${received(value)}`);
    case 'metav1.Duration':
      return typeof value === 'string' && GO_DURATION.test(value) ? undefined : fail(`must be a Go duration string like "4h0m0s" or "24h", got ${received(value)}`);
    case 'metav1.Time':
      return value instanceof Date || (typeof value === 'string' && RFC3339.test(value))
        ? undefined
        : fail(`must be an RFC 3339 time like "2025-01-02T15:04:05Z", got ${received(value)}`);
    case 'BootstrapTokenString':
      if (typeof value !== 'string') return fail(`must be a string, got ${received(value)}`);
      return value === '' ? undefined : failIf(FORMAT_CHECKS.bootstrapToken(value), fail);
    case 'corev1.EnvVarSource':
      return isObj(value) ? undefined : fail(`must be a map (corev1.EnvVarSource, not checked deeper), got ${received(value)}`);
  }
  const named = NAMED_STRINGS[shape];
  if (named) {
    if (typeof value !== 'string') return fail(`must be a string, got ${received(value)}`);
    const allowed = Object.entries(named).filter(([, minor]) => minor <= ctx.minor).map(([v]) => v);
    if (!allowed.includes(value)) {
      const later = named[value] !== undefined ? ` (needs Kubernetes 1.${named[value]})` : '';
      return fail(`must be one of ${allowed.filter(Boolean).join(', ')}, got ${JSON.stringify(value)}${later}`);
    }
    return;
  }
  if (!isObj(value)) return fail(`must be a ${shape} object, got ${received(value)}`);
  checkStruct(shape, value, path, ctx);
}

function failIf(message: string | undefined, fail: (m: string) => void): void {
  if (message) fail(message);
}

function checkStruct(typeName: string, obj: Obj, path: string, ctx: Context): void {
  const fields = fieldsOf(ctx.api, typeName);
  const at = (field: string) => (path ? `${path}.${field}` : field);
  for (const key of Object.keys(obj)) {
    if (key in fields) {
      const since = ADDED_IN[ctx.api][`${typeName}.${key}`];
      if (since !== undefined && ctx.minor < since) ctx.problems.push(`${at(key)}: unknown field before Kubernetes 1.${since}`);
      continue;
    }
    const moved = ctx.api === 'v1beta4' ? MOVED_IN_V1BETA4[`${typeName}.${key}`] : undefined;
    const elsewhere = key in fieldsOf(other(ctx.api), typeName) ? `only in ${other(ctx.api)}` : undefined;
    ctx.problems.push(`${at(key)}: unknown field${moved ? ` (${moved})` : elsewhere ? ` (${elsewhere})` : ''}`);
  }
  for (const [name, rawShape] of Object.entries(fields)) {
    const required = rawShape.endsWith('!');
    const shape = required ? rawShape.slice(0, -1) : rawShape;
    const value = obj[name];
    if (value === undefined || value === null) {
      if (required) ctx.problems.push(`${at(name)}: required, got none`);
      continue;
    }
    const before = ctx.problems.length;
    checkValue(shape, value, at(name), ctx);
    const format = FORMATS[`${typeName}.${name}`];
    if (format && ctx.problems.length === before) {
      const items = Array.isArray(value) ? value.map((v, i) => [v, `${at(name)}[${i}]`] as const) : [[value, at(name)] as const];
      for (const [item, itemPath] of items) {
        if (typeof item === 'string') failIf(FORMAT_CHECKS[format](item), (m) => ctx.problems.push(`${itemPath}: ${m}`));
      }
    }
  }
  const here = path || typeName;
  for (const { rule, fields: names } of RULES[typeName] ?? []) {
    const set = names.filter((n) => isSet(obj[n]));
    const list = names.join(' or ');
    const got = set.length ? set.join(' and ') : 'none';
    if (rule === 'exactlyOne' && set.length !== 1) ctx.problems.push(`${here}: must set exactly one of ${list}, got ${got}`);
    if (rule === 'atMostOne' && set.length > 1) ctx.problems.push(`${here}: must set at most one of ${list}, got ${got}`);
    if (rule === 'atLeastOne' && set.length === 0) ctx.problems.push(`${here}: must set ${list} (true), got none`);
  }
}

/** Go's time.ParseDuration: "0", or one or more decimal numbers each with a unit (ns, us, µs, ms, s, m, h). */
const GO_DURATION = /^[-+]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;
/** Go's time.Parse(time.RFC3339, …), which also takes fractional seconds. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * Every way `docs` (parsed kubeadm configuration documents, as kubeadm would read them) break kubeadm's documented
 * types for Kubernetes `version` (`vX.Y.Z`): wrong apiVersion for the version, unknown kind, unknown field, wrong
 * JSON shape, missing required field, broken one-of rule or value format. Each problem names the document kind and
 * the field path: `JoinConfiguration.discovery.bootstrapToken.caCertHashes: must be a list of strings, got …`.
 * An empty list means kubeadm decodes and validates the documents' fields as they are.
 */
export function kubeadmTypeProblems(docs: Record<string, unknown>[], version: string): string[] {
  const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m || m[1] !== '1' || Number(m[2]) < 22) return [`version: must be v1.Y.Z with Y >= 22 (kubeadm v1beta3 or later), got ${JSON.stringify(version)}`];
  const minor = Number(m[2]);
  const wanted: ApiVersion = minor >= 31 ? 'v1beta4' : 'v1beta3';
  const problems: string[] = [];
  docs.forEach((doc, i) => {
    const kind = doc['kind'];
    const apiVersion = doc['apiVersion'];
    if (typeof kind !== 'string' || kind === '') return void problems.push(`documents[${i}].kind: required, got ${received(kind)}`);
    const componentApi = COMPONENT_KINDS[kind];
    if (componentApi) {
      if (apiVersion !== componentApi) problems.push(`${kind}.apiVersion: must be ${componentApi}, got ${received(apiVersion)}`);
      return;
    }
    if (!(KUBEADM_KINDS as readonly string[]).includes(kind)) {
      return void problems.push(`${kind}.kind: must be one of ${[...KUBEADM_KINDS, ...Object.keys(COMPONENT_KINDS)].join(', ')}, got ${JSON.stringify(kind)}`);
    }
    if (apiVersion !== `${GROUP}/${wanted}`) {
      problems.push(`${kind}.apiVersion: Kubernetes ${version} needs ${GROUP}/${wanted}, got ${received(apiVersion)}`);
    }
    // Judge the fields by the version the document declares (what kubeadm would decode), or the wanted one.
    const declared = typeof apiVersion === 'string' && apiVersion.startsWith(`${GROUP}/`) ? apiVersion.slice(GROUP.length + 1) : wanted;
    if (declared !== 'v1beta3' && declared !== 'v1beta4') return;
    const ctx: Context = { api: declared, minor, problems: [] };
    checkStruct(kind, doc, '', ctx);
    problems.push(...ctx.problems.map((p) => `${kind}.${p}`));
  });
  return problems;
}

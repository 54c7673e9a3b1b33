/**
 * The kubeadm documents Capstan renders, judged by kubeadm's own Go types (kubeadm-types.ts, built from the upstream
 * types.go files it names) rather than by Capstan's idea of them: first the checker itself on a table of bad
 * documents, then Capstan's documents for every machine kind at v1.30 (v1beta3) and v1.31 (v1beta4), as objects and
 * as the bytes a machine feeds `kubeadm` after the boot-time secret substitution, read the way kubeadm reads YAML,
 * with and without the kubeadm settings of the Cluster API example manifests; last, the imported settings that
 * kubeadm once rejected or trimmed (the defects this checker found), each now converted for kubeadm, and the quoting
 * of the YAML.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments, Scalar, visit, type Tags } from 'yaml';
import type { KubeadmSpec } from '../../../functions/domain/cluster.js';
import { importManifests } from '../../../functions/domain/capi/index.js';
import { parseClusterDocument } from '../../../functions/domain/spec/index.js';
import {
  kubeadmDocuments,
  PLACEHOLDERS,
  renderUserData,
  type BootstrapKind,
  type UserDataInput,
} from '../../../providers/aws-ec2/bootstrap.js';
import { generateBootstrapToken } from '../../../providers/aws-ec2/cluster-secrets.js';
import { caCertHash, newCertificateAuthority } from '../../../providers/aws-ec2/pki.js';
import { CAPI_EXAMPLES_DIR } from '../../fixtures/capi/paths.js';
import { KUBEADM_GO_TYPES, kubeadmTypeProblems } from './kubeadm-types.js';
import { SECRETS, userDataInput } from './user-data-input.js';

type Doc = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Raw = Record<string, any>;

const secrets = SECRETS;
const input = userDataInput;

/** The values the boot script substitutes for the placeholders, made the way Capstan makes them (cluster-secrets.ts). */
let bootValues: Record<string, string>;
beforeAll(() => {
  bootValues = {
    [PLACEHOLDERS.token]: generateBootstrapToken(),
    [PLACEHOLDERS.caCertHash]: caCertHash(newCertificateAuthority('kubernetes').cert),
    [PLACEHOLDERS.certificateKey]: randomBytes(32).toString('hex'),
  };
});

/** The boot script's `sed` over the template: every placeholder replaced, textually. */
function substitute(text: string): string {
  return Object.entries(bootValues).reduce((t, [placeholder, value]) => t.replaceAll(placeholder, value), text);
}

/** The same substitution on parsed documents (the secret values are plain YAML scalars either way). */
function substituteDocs(docs: Doc[]): Doc[] {
  return docs.map((d) => JSON.parse(substitute(JSON.stringify(d))) as Doc);
}

/**
 * Reads YAML the way kubeadm does: sigs.k8s.io/yaml converts it with go-yaml v2, which resolves plain scalars by
 * YAML 1.1 (`yes`/`no`/`on`/`off`/`y`/`n` are bools, `1_000` an int; kubernetes/kubernetes issue 34146,
 * kubernetes-sigs/yaml issue 82). go-yaml v2 keeps timestamps as strings and has no base-60 numbers, so those two
 * YAML 1.1 tags are left out; it also reads as numbers the plain scalars Go parses as numbers (`goYamlV2Number`).
 */
function readAsKubeadm(text: string): Doc[] {
  const customTags = (tags: Tags) =>
    tags.filter((t) => typeof t === 'string' || (t.tag !== 'tag:yaml.org,2002:timestamp' && !('format' in t && t.format === 'TIME')));
  return parseAllDocuments(text, { version: '1.1', customTags }).map((d) => {
    visit(d, {
      Scalar(_key, node) {
        if (node.type !== Scalar.PLAIN || typeof node.value !== 'string') return;
        const n = goYamlV2Number(node.value);
        if (n !== undefined) node.value = n;
      },
    });
    return d.toJS() as Doc;
  });
}

/**
 * The number go-yaml v2 makes of a plain scalar that YAML 1.1 leaves a string, else undefined. Its `resolve`
 * (kubernetes-sigs/yaml goyaml.v2/resolve.go) deletes every `_`, then tries Go's strconv.ParseInt/ParseUint with
 * base 0 (sign; 0x/0X, 0o/0O, 0b/0B, leading-0 octal), then `yamlStyleFloat`; a scalar starting with `.` goes to
 * strconv.ParseFloat as it is.
 */
function goYamlV2Number(source: string): number | undefined {
  if (source.startsWith('.')) return /^\.[0-9]+(?:[eE][-+]?[0-9]+)?$/.test(source) ? Number(source) : undefined;
  if (!/^[-+0-9]/.test(source)) return undefined;
  const plain = source.replaceAll('_', '');
  const prefixed = /^([-+]?)(0[xXoObB][0-9a-fA-F]+)$/.exec(plain);
  if (prefixed) {
    const n = Number(prefixed[2]!.toLowerCase()); // NaN for a digit outside the base: Go fails too
    return Number.isNaN(n) ? undefined : prefixed[1] === '-' ? -n : n;
  }
  if (/^[-+]?0[0-7]+$/.test(plain)) return parseInt(plain, 8);
  return /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(plain) ? Number(plain) : undefined;
}

/** The kubeadm template exactly as `renderUserData` writes it to /etc/capstan/kubeadm.yaml.tpl. */
function renderedTemplate(i: UserDataInput): string {
  const cloudConfig = parse(renderUserData(i)) as { write_files: { path: string; content: string }[] };
  return cloudConfig.write_files.find((f) => f.path === '/etc/capstan/kubeadm.yaml.tpl')!.content;
}

/** What kubeadm reads on the machine: the rendered template after the boot-time substitution. */
function onTheMachine(i: UserDataInput): Doc[] {
  return readAsKubeadm(substitute(renderedTemplate(i)));
}

const VERSIONS = ['v1.30.8', 'v1.31.4'] as const;
const MACHINES: [BootstrapKind, string][] = [
  ['init', 'demo-cp-0'],
  ['join-control-plane', 'demo-cp-1'],
  ['join-worker', 'demo-md-0-0'],
];
const RENDER_CASES = VERSIONS.flatMap((version) => MACHINES.map(([kind, name]) => ({ version, kind, name })));
const LABELS = { 'capstan.dev/cluster': 'demo', 'node.kubernetes.io/pool': 'md-0' };

// Valid documents the bad cases start from (Capstan's own shapes, with realistic values).
const TOKEN = 'abcdef.0123456789abcdef';
const HASH = `sha256:${'ab'.repeat(32)}`;
const join = (apiVersion: string, extra: Doc = {}, discovery: Doc = { bootstrapToken: { apiServerEndpoint: 'api:6443', token: TOKEN, caCertHashes: [HASH] } }): Doc => ({
  apiVersion,
  kind: 'JoinConfiguration',
  discovery,
  ...extra,
});
const V3 = 'kubeadm.k8s.io/v1beta3';
const V4 = 'kubeadm.k8s.io/v1beta4';

describe('kubeadmTypeProblems', () => {
  const BAD: { name: string; version: string; docs: Doc[]; problems: string[] }[] = [
    {
      name: 'a field is not a field of the Go type',
      version: 'v1.31.4',
      docs: [{ apiVersion: V4, kind: 'ClusterConfiguration', foo: 1 }],
      problems: ['ClusterConfiguration.foo: unknown field'],
    },
    {
      name: 'v1beta4 extraArgs are a map',
      version: 'v1.31.4',
      docs: [{ apiVersion: V4, kind: 'ClusterConfiguration', apiServer: { extraArgs: { 'audit-log-maxage': '30' } } }],
      problems: ['ClusterConfiguration.apiServer.extraArgs: v1beta4 wants a list of {name, value}, got a map'],
    },
    {
      name: 'v1beta4 kubeletExtraArgs are a map',
      version: 'v1.31.4',
      docs: [{ apiVersion: V4, kind: 'InitConfiguration', nodeRegistration: { kubeletExtraArgs: { 'node-labels': 'a=b' } } }],
      problems: ['InitConfiguration.nodeRegistration.kubeletExtraArgs: v1beta4 wants a list of {name, value}, got a map'],
    },
    {
      name: 'v1beta3 extraArgs are a list',
      version: 'v1.30.8',
      docs: [{ apiVersion: V3, kind: 'ClusterConfiguration', controllerManager: { extraArgs: [{ name: 'cloud-provider', value: 'external' }] } }],
      problems: ['ClusterConfiguration.controllerManager.extraArgs: v1beta3 wants a map of flag name → value, got a list'],
    },
    {
      name: 'a v1beta3 document has timeouts (v1beta4 only)',
      version: 'v1.30.8',
      docs: [join(V3, { timeouts: { discovery: '5m0s' } })],
      problems: ['JoinConfiguration.timeouts: unknown field (only in v1beta4)'],
    },
    {
      name: 'a v1beta4 document keeps the v1beta3 timeoutForControlPlane',
      version: 'v1.31.4',
      docs: [{ apiVersion: V4, kind: 'ClusterConfiguration', apiServer: { timeoutForControlPlane: '4m0s' } }],
      problems: [
        'ClusterConfiguration.apiServer.timeoutForControlPlane: unknown field (v1beta4 uses timeouts.controlPlaneComponentHealthCheck of InitConfiguration/JoinConfiguration)',
      ],
    },
    {
      name: 'Kubernetes 1.31 gets v1beta3',
      version: 'v1.31.4',
      docs: [join(V3)],
      problems: ['JoinConfiguration.apiVersion: Kubernetes v1.31.4 needs kubeadm.k8s.io/v1beta4, got string "kubeadm.k8s.io/v1beta3"'],
    },
    {
      name: 'Kubernetes 1.30 gets v1beta4 (its kubeadm does not know it)',
      version: 'v1.30.8',
      docs: [join(V4)],
      problems: ['JoinConfiguration.apiVersion: Kubernetes v1.30.8 needs kubeadm.k8s.io/v1beta3, got string "kubeadm.k8s.io/v1beta4"'],
    },
    {
      name: 'discovery has neither bootstrapToken nor file',
      version: 'v1.31.4',
      docs: [join(V4, {}, { tlsBootstrapToken: TOKEN })],
      problems: ['JoinConfiguration.discovery: must set exactly one of bootstrapToken or file, got none'],
    },
    {
      name: 'discovery is missing',
      version: 'v1.31.4',
      docs: [{ apiVersion: V4, kind: 'JoinConfiguration' }],
      problems: ['JoinConfiguration.discovery: required, got none'],
    },
    {
      name: 'the bootstrap token discovery has no token',
      version: 'v1.30.8',
      docs: [join(V3, {}, { bootstrapToken: { apiServerEndpoint: 'api:6443', caCertHashes: [HASH] } })],
      problems: ['JoinConfiguration.discovery.bootstrapToken.token: required, got none'],
    },
    {
      name: 'caCertHashes is not a list',
      version: 'v1.31.4',
      docs: [join(V4, {}, { bootstrapToken: { apiServerEndpoint: 'api:6443', token: TOKEN, caCertHashes: HASH } })],
      problems: [`JoinConfiguration.discovery.bootstrapToken.caCertHashes: must be a list of strings, got string "${HASH}"`],
    },
    {
      name: 'a CA hash is not sha256:<64 hex digits>',
      version: 'v1.31.4',
      docs: [join(V4, {}, { bootstrapToken: { apiServerEndpoint: 'api:6443', token: TOKEN, caCertHashes: ['abc'] } })],
      problems: ['JoinConfiguration.discovery.bootstrapToken.caCertHashes[0]: must be "sha256:" and 64 hex digits, got "abc"'],
    },
    {
      name: 'a duration is not a Go duration string',
      version: 'v1.31.4',
      docs: [
        { apiVersion: V4, kind: 'InitConfiguration', bootstrapTokens: [{ token: TOKEN, ttl: '1 day' }], timeouts: { kubeletHealthCheck: 240 } },
      ],
      problems: [
        'InitConfiguration.bootstrapTokens[0].ttl: must be a Go duration string like "4h0m0s" or "24h", got string "1 day"',
        'InitConfiguration.timeouts.kubeletHealthCheck: must be a Go duration string like "4h0m0s" or "24h", got number 240',
      ],
    },
    {
      name: 'a time is not RFC 3339, a token is malformed and ttl and expires are both set',
      version: 'v1.30.8',
      docs: [{ apiVersion: V3, kind: 'InitConfiguration', bootstrapTokens: [{ token: 'abc.def', ttl: '24h', expires: '2025-01-02 10:00' }] }],
      problems: [
        'InitConfiguration.bootstrapTokens[0].token: must be a bootstrap token [a-z0-9]{6}.[a-z0-9]{16}, got 7 characters',
        'InitConfiguration.bootstrapTokens[0].expires: must be an RFC 3339 time like "2025-01-02T15:04:05Z", got string "2025-01-02 10:00"',
        'InitConfiguration.bootstrapTokens[0]: must set at most one of ttl or expires, got ttl and expires',
      ],
    },
    {
      name: 'scalars have the wrong JSON type and a taint lacks its effect',
      version: 'v1.31.4',
      docs: [
        {
          apiVersion: V4,
          kind: 'InitConfiguration',
          localAPIEndpoint: { bindPort: '6443' },
          nodeRegistration: { imagePullSerial: 'yes', taints: [{ key: 'dedicated', value: true }] },
        },
      ],
      problems: [
        'InitConfiguration.nodeRegistration.taints[0].value: must be a string, got boolean true',
        'InitConfiguration.nodeRegistration.taints[0].effect: required, got none',
        'InitConfiguration.nodeRegistration.imagePullSerial: must be a bool, got string "yes"',
        'InitConfiguration.localAPIEndpoint.bindPort: must be a 32-bit integer, got string "6443"',
      ],
    },
    {
      name: 'a certificate key is not a 32-byte hex key',
      version: 'v1.31.4',
      docs: [join(V4, { controlPlane: { certificateKey: 'not-hex' } })],
      problems: ['JoinConfiguration.controlPlane.certificateKey: must be 64 hex digits (a 32-byte AES key), got 7 characters'],
    },
    {
      name: 'an enum value is unknown, or newer than the version',
      version: 'v1.31.4',
      docs: [{ apiVersion: V4, kind: 'ClusterConfiguration', encryptionAlgorithm: 'ECDSA-P384', etcd: { external: { endpoints: ['https://e:2379'], httpEndpoints: [] } } }],
      problems: [
        'ClusterConfiguration.etcd.external.httpEndpoints: unknown field before Kubernetes 1.35',
        'ClusterConfiguration.encryptionAlgorithm: must be one of RSA-2048, RSA-3072, RSA-4096, ECDSA-P256, got "ECDSA-P384" (needs Kubernetes 1.34)',
      ],
    },
    {
      name: 'the kind is not one kubeadm init/join reads from Capstan',
      version: 'v1.31.4',
      docs: [{ apiVersion: V4, kind: 'ResetConfiguration' }, { apiVersion: 'v1', kind: 'KubeletConfiguration' }],
      problems: [
        'ResetConfiguration.kind: must be one of InitConfiguration, ClusterConfiguration, JoinConfiguration, KubeletConfiguration, KubeProxyConfiguration, got "ResetConfiguration"',
        'KubeletConfiguration.apiVersion: must be kubelet.config.k8s.io/v1beta1, got string "v1"',
      ],
    },
  ];

  it.each(BAD)('fails when $name', ({ docs, version, problems }) => {
    // Act
    const found = kubeadmTypeProblems(docs, version);
    // Assess
    expect(found).toEqual(problems);
  });

  it('accepts a full v1beta4 example (v1beta4/doc.go) and component configs by apiVersion and kind', () => {
    // Prepare: the fully populated example of the v1beta4 package documentation, trimmed of its comments, its
    // addresses changed to loopback ones (the suite names no other address, even as data).
    const docs = readAsKubeadm(`
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
- token: "9a08jv.c0izixklcxtmnze7"
  description: "kubeadm bootstrap token"
  ttl: "24h"
- token: "783bde.3f89s0fje9f38fhf"
  usages: [authentication, signing]
  groups: [system:bootstrappers:kubeadm:default-node-token]
nodeRegistration:
  name: "ec2-127-0-0-1"
  criSocket: "unix:///var/run/containerd/containerd.sock"
  taints: [{key: "kubeadmNode", value: "someValue", effect: "NoSchedule"}]
  kubeletExtraArgs: [{name: "v", value: "5"}]
  ignorePreflightErrors: [IsPrivilegedUser]
  imagePullPolicy: "IfNotPresent"
  imagePullSerial: true
localAPIEndpoint: {advertiseAddress: "127.0.0.1", bindPort: 6443}
certificateKey: "e6a2eb8581237ab72a4f494f30285ec12a9694d750b9785706a83bfcbbbd2204"
skipPhases: [preflight]
timeouts: {controlPlaneComponentHealthCheck: "60s", kubernetesAPICall: "40s"}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
etcd:
  local:
    imageRepository: "registry.k8s.io"
    imageTag: "3.2.24"
    dataDir: "/var/lib/etcd"
    extraArgs: [{name: "listen-client-urls", value: "http://127.0.0.1:2379"}]
    extraEnvs: [{name: "SOME_VAR", value: "SOME_VALUE"}]
    serverCertSANs: ["ec2-127-0-0-1.compute-1.amazonaws.com"]
    peerCertSANs: ["127.0.0.1"]
networking: {serviceSubnet: "10.96.0.0/16", podSubnet: "10.244.0.0/24", dnsDomain: "cluster.local"}
kubernetesVersion: "v1.21.0"
controlPlaneEndpoint: "127.0.0.1:6443"
apiServer:
  extraArgs: [{name: "authorization-mode", value: "Node,RBAC"}]
  extraEnvs: [{name: "SOME_VAR", value: "SOME_VALUE"}]
  extraVolumes: [{name: "some-volume", hostPath: "/etc/some-path", mountPath: "/etc/some-pod-path", readOnly: false, pathType: File}]
  certSANs: ["127.0.0.2", "ec2-127-0-0-1.compute-1.amazonaws.com"]
controllerManager:
  extraArgs: [{name: "node-cidr-mask-size", value: "20"}]
scheduler:
  extraArgs: [{name: "address", value: "127.0.0.1"}]
certificatesDir: "/etc/kubernetes/pki"
imageRepository: "registry.k8s.io"
clusterName: "example-cluster"
encryptionAlgorithm: "ECDSA-P256"
dns: {disabled: true}
proxy: {disabled: true}
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: ipvs
`);
    // Act + Assess
    expect(kubeadmTypeProblems(docs, 'v1.31.4')).toEqual([]);
  });

  it('has tables that refer only to types they define', () => {
    // Prepare
    const leaf = /^(string|bool|int32|metav1\.Duration|metav1\.Time|BootstrapTokenString|corev1\.EnvVarSource|corev1\.PullPolicy|corev1\.TaintEffect|corev1\.HostPathType|EncryptionAlgorithmType)$/;
    const unresolved: string[] = [];
    // Act
    for (const [api, types] of Object.entries(KUBEADM_GO_TYPES)) {
      for (const [typeName, fields] of Object.entries(types)) {
        for (const [field, shape] of Object.entries(fields)) {
          const base = shape.replace(/!$/, '').replace(/^(\*|\[\]|map\[string\])+/, '');
          if (!leaf.test(base) && !(base in types)) unresolved.push(`${api} ${typeName}.${field}: ${shape}`);
        }
      }
    }
    // Assess
    expect(unresolved).toEqual([]);
  });
});

describe("Capstan's kubeadm documents, judged by kubeadm's types", () => {
  it.each(RENDER_CASES)('has none for $kind at $version (kubeadmDocuments)', ({ version, kind, name }) => {
    // Prepare
    const docs = kubeadmDocuments(input(kind, name, { version, labels: LABELS }));
    // Act
    const problems = kubeadmTypeProblems(substituteDocs(docs), version);
    // Assess
    expect(problems).toEqual([]);
  });

  it.each(RENDER_CASES)('has none for $kind at $version as kubeadm reads the rendered file at boot', ({ version, kind, name }) => {
    // Prepare
    const docs = onTheMachine(input(kind, name, { version, labels: LABELS }));
    // Act
    const problems = kubeadmTypeProblems(docs, version);
    // Assess
    expect(problems).toEqual([]);
    expect(docs.map((d) => d['kind'])).toEqual(kind === 'init' ? ['InitConfiguration', 'ClusterConfiguration'] : ['JoinConfiguration']);
  });

  // The Cluster API examples Capstan imports (test/fixtures/capi), through the importer and the renderer.
  const load = (...files: string[]) =>
    files.flatMap((f) => parseAllDocuments(readFileSync(path.join(CAPI_EXAMPLES_DIR, f), 'utf8')).map((d) => d.toJS() as unknown));
  const withAccount = (docs: unknown[]) =>
    docs.map((d) => ((d as Raw | null)?.['kind'] === 'Cluster' ? { ...(d as Raw), metadata: { ...(d as Raw)['metadata'], annotations: { 'capstan.dev/account': '123456789012' } } } : d));
  const EXAMPLES: { example: string; docs: () => unknown[] }[] = [
    { example: 'capa-cluster-template.yaml', docs: () => withAccount(load('capa-cluster-template.yaml')) },
    { example: 'capa-e2e-cluster-template-simple-multitenancy.yaml', docs: () => load('capa-e2e-cluster-template-simple-multitenancy.yaml') },
    { example: 'capa-cluster-template-multitenancy-clusterclass.yaml', docs: () => load('capa-cluster-template-multitenancy-clusterclass.yaml') },
    { example: 'capd-e2e-cluster-with-kcp-md-mhc.yaml', docs: () => load('capd-e2e-cluster-with-kcp-md-mhc.yaml') },
    { example: 'capd quick-start ClusterClass with its patches', docs: () => load('capd-cluster-template-development.yaml', 'capd-clusterclass-quick-start.yaml') },
  ];
  const EXAMPLE_CASES = EXAMPLES.flatMap((e) => VERSIONS.flatMap((version) => MACHINES.map(([kind, name]) => ({ ...e, version, kind, name }))));

  it.each(EXAMPLE_CASES)('has none for $kind at $version with the kubeadm settings of $example', ({ docs, version, kind, name }) => {
    // Prepare
    const [cluster] = importManifests(docs()).clusters;
    const spec = (parseClusterDocument(cluster!.document) as Raw)['spec'] as Raw;
    const kubeadm = spec['kubeadm'] as KubeadmSpec | undefined;
    expect(kubeadm).toBeDefined();
    // Act
    const problems = kubeadmTypeProblems(onTheMachine(input(kind, name, { version, kubeadm, labels: LABELS })), version);
    // Assess
    expect(problems).toEqual([]);
  });
});

/** The value at `path` in the document of `kind` (undefined when absent). */
function valueAt(docs: Doc[], kind: string, ...path: (string | number)[]): unknown {
  return path.reduce<unknown>((v, k) => (v as Raw | undefined)?.[k], docs.find((d) => d['kind'] === kind));
}

/**
 * Imported settings that kubeadm once rejected (a decode error: init/join fails) or silently trimmed (an unknown
 * field, dropped with a warning): the defects this checker found. Each is now converted for the kubeadm API version
 * of the machine (providers/aws-ec2/bootstrap.ts `importedConfigs`, `normalizeArgs`, `kubeadmYaml`): kubeadm hits no
 * problem, and the setting arrives where kubeadm reads it.
 */
describe('imported kubeadm settings, converted for kubeadm', () => {
  const CASES: { name: string; version: string; kind: BootstrapKind; kubeadm: KubeadmSpec; path: [string, ...(string | number)[]]; wanted: unknown }[] = [
    {
      // Was `value: yes` (YAML 1.2 stringify); kubeadm's YAML 1.1 read a bool: "must be a string, got boolean true".
      name: 'a taint value is "yes" (a bool to YAML 1.1)',
      version: 'v1.31.4',
      kind: 'join-worker',
      kubeadm: { joinConfiguration: { nodeRegistration: { taints: [{ key: 'dedicated', value: 'yes', effect: 'NoSchedule' }] } } },
      path: ['JoinConfiguration', 'nodeRegistration', 'taints', 0, 'value'],
      wanted: 'yes',
    },
    {
      // Was a number: "ClusterConfiguration.controllerManager.extraArgs.node-cidr-mask-size: must be a string, got number 24".
      name: 'a v1beta3 extraArgs value is a number',
      version: 'v1.30.8',
      kind: 'init',
      kubeadm: { clusterConfiguration: { controllerManager: { extraArgs: { 'node-cidr-mask-size': 24 } } } },
      path: ['ClusterConfiguration', 'controllerManager', 'extraArgs'],
      wanted: { 'node-cidr-mask-size': '24' },
    },
    {
      name: 'a v1beta3 kubeletExtraArgs value is a bool',
      version: 'v1.30.8',
      kind: 'join-worker',
      kubeadm: { joinConfiguration: { nodeRegistration: { kubeletExtraArgs: { 'rotate-certificates': true } } } },
      path: ['JoinConfiguration', 'nodeRegistration', 'kubeletExtraArgs'],
      wanted: { 'rotate-certificates': 'true' },
    },
    {
      name: 'a Cluster API v1beta2 extraArgs list (a number value) reaches v1beta3',
      version: 'v1.30.8',
      kind: 'init',
      kubeadm: { clusterConfiguration: { controllerManager: { extraArgs: [{ name: 'node-cidr-mask-size', value: 24 }] } } },
      path: ['ClusterConfiguration', 'controllerManager', 'extraArgs'],
      wanted: { 'node-cidr-mask-size': '24' },
    },
    {
      // Was "ClusterConfiguration.apiServer.timeoutForControlPlane: unknown field (v1beta4 uses timeouts.controlPlaneComponentHealthCheck …)".
      name: 'a Cluster API v1beta1 apiServer.timeoutForControlPlane reaches v1beta4 (init)',
      version: 'v1.31.4',
      kind: 'init',
      kubeadm: { clusterConfiguration: { apiServer: { timeoutForControlPlane: '20m' } } },
      path: ['InitConfiguration', 'timeouts'],
      wanted: { controlPlaneComponentHealthCheck: '20m' },
    },
    {
      name: 'a Cluster API v1beta1 apiServer.timeoutForControlPlane reaches v1beta4 (control-plane join)',
      version: 'v1.31.4',
      kind: 'join-control-plane',
      kubeadm: { clusterConfiguration: { apiServer: { timeoutForControlPlane: '20m' } } },
      path: ['JoinConfiguration', 'timeouts'],
      wanted: { controlPlaneComponentHealthCheck: '20m' },
    },
    {
      name: 'a Cluster API v1beta1 apiServer.timeoutForControlPlane stays at v1beta3',
      version: 'v1.30.8',
      kind: 'init',
      kubeadm: { clusterConfiguration: { apiServer: { timeoutForControlPlane: '20m' } } },
      path: ['ClusterConfiguration', 'apiServer', 'timeoutForControlPlane'],
      wanted: '20m',
    },
    {
      name: 'a Cluster API v1beta1 discovery.timeout reaches v1beta4',
      version: 'v1.31.4',
      kind: 'join-worker',
      kubeadm: { joinConfiguration: { discovery: { timeout: '5m' } } },
      path: ['JoinConfiguration', 'timeouts'],
      wanted: { discovery: '5m' },
    },
    {
      name: 'a Cluster API v1beta1 discovery.timeout stays at v1beta3',
      version: 'v1.30.8',
      kind: 'join-worker',
      kubeadm: { joinConfiguration: { discovery: { timeout: '5m' } } },
      path: ['JoinConfiguration', 'discovery', 'timeout'],
      wanted: '5m',
    },
    {
      // Was "InitConfiguration.timeouts.controlPlaneComponentHealthCheckSeconds: unknown field".
      name: 'Cluster API v1beta2 timeouts use integer *Seconds fields (init)',
      version: 'v1.31.4',
      kind: 'init',
      kubeadm: { initConfiguration: { timeouts: { controlPlaneComponentHealthCheckSeconds: 600 } } },
      path: ['InitConfiguration', 'timeouts'],
      wanted: { controlPlaneComponentHealthCheck: '10m0s' },
    },
    {
      name: 'Cluster API v1beta2 timeouts use integer *Seconds fields (every one, control-plane join)',
      version: 'v1.31.4',
      kind: 'join-control-plane',
      kubeadm: {
        joinConfiguration: {
          timeouts: {
            controlPlaneComponentHealthCheckSeconds: 600,
            kubeletHealthCheckSeconds: 240,
            kubernetesAPICallSeconds: 60,
            etcdAPICallSeconds: 120,
            tlsBootstrapSeconds: 45,
            discoverySeconds: 3600,
          },
        },
      },
      path: ['JoinConfiguration', 'timeouts'],
      wanted: { controlPlaneComponentHealthCheck: '10m0s', kubeletHealthCheck: '4m0s', kubernetesAPICall: '1m0s', etcdAPICall: '2m0s', tlsBootstrap: '45s', discovery: '1h0m0s' },
    },
    {
      // Was "InitConfiguration.timeouts: unknown field (only in v1beta4)".
      name: 'Cluster API v1beta2 timeouts reach v1beta3 (init: the control-plane timeout)',
      version: 'v1.30.8',
      kind: 'init',
      kubeadm: { initConfiguration: { timeouts: { controlPlaneComponentHealthCheckSeconds: 600, kubeletHealthCheckSeconds: 240 } } },
      path: ['ClusterConfiguration', 'apiServer', 'timeoutForControlPlane'],
      wanted: '10m0s',
    },
    {
      name: 'Cluster API v1beta2 timeouts reach v1beta3 (join: the discovery timeout)',
      version: 'v1.30.8',
      kind: 'join-worker',
      kubeadm: { joinConfiguration: { timeouts: { discoverySeconds: 300, tlsBootstrapSeconds: 45 } } },
      path: ['JoinConfiguration', 'discovery', 'timeout'],
      wanted: '5m0s',
    },
    {
      name: 'both shapes set the control-plane timeout (the timeouts block wins)',
      version: 'v1.31.4',
      kind: 'init',
      kubeadm: { clusterConfiguration: { apiServer: { timeoutForControlPlane: '20m' } }, initConfiguration: { timeouts: { controlPlaneComponentHealthCheckSeconds: 600 } } },
      path: ['InitConfiguration', 'timeouts'],
      wanted: { controlPlaneComponentHealthCheck: '10m0s' },
    },
    {
      name: 'Cluster API v1beta2 certificate validity periods are in days',
      version: 'v1.31.4',
      kind: 'init',
      kubeadm: { clusterConfiguration: { certificateValidityPeriodDays: 365, caCertificateValidityPeriodDays: 3650 } },
      path: ['ClusterConfiguration'],
      wanted: expect.objectContaining({ certificateValidityPeriod: '8760h0m0s', caCertificateValidityPeriod: '87600h0m0s' }),
    },
    {
      name: 'Cluster API v1beta2 certificate validity periods reach v1beta3 (which has none: dropped)',
      version: 'v1.30.8',
      kind: 'init',
      kubeadm: { clusterConfiguration: { certificateValidityPeriodDays: 365, caCertificateValidityPeriodDays: 3650 } },
      path: ['ClusterConfiguration', 'certificateValidityPeriod'],
      wanted: undefined,
    },
  ];

  it.each(CASES)('has none for $kind at $version when $name', ({ version, kind, kubeadm, path: [docKind, ...fieldPath], wanted }) => {
    // Act
    const docs = onTheMachine(input(kind, 'demo-x-0', { version, kubeadm }));
    // Assess
    expect(kubeadmTypeProblems(docs, version)).toEqual([]);
    expect(valueAt(docs, docKind, ...fieldPath)).toEqual(wanted);
  });
});

describe('the kubeadm YAML Capstan writes', () => {
  it('is read the way kubeadm reads it: YAML 1.1 words and Go numbers (the reader of these tests)', () => {
    // Act
    const [doc] = readAsKubeadm('{a: yes, b: "yes", c: Off, d: yEs, e: 1_000, f: 0X1F, g: 0o17, h: 017, i: 08, j: 1e1_0, k: +_1, l: 1:20, m: 2025-01-02, "n": ~}');
    // Assess: per go-yaml v2 resolve.go (and `n` is a bool key unless quoted)
    expect(doc).toEqual({ a: true, b: 'yes', c: false, d: 'yEs', e: 1000, f: 31, g: 15, h: 15, i: 8, j: 1e10, k: 1, l: '1:20', m: '2025-01-02', n: null });
  });

  // Every string of up to 3 characters made of those that build YAML 1.1 bools and nulls and Go numbers, and more.
  const ALPHABET = [...'01_.exoObB+-:yYnN~'];
  const SHORT = ALPHABET.flatMap((a) => ['', ...ALPHABET].flatMap((b) => ['', ...ALPHABET].map((c) => a + b + c)));
  const LONGER = [
    ...['yes', 'Yes', 'YES', 'no', 'No', 'NO', 'on', 'On', 'ON', 'off', 'Off', 'OFF', 'true', 'True', 'FALSE', 'null', 'Null', 'NULL', 'yEs', 'oFF'],
    ...['1_000', '0x1F', '0X1F', '0o17', '0O17', '0B101', '017', '08', '1:20', '190:20:30', '1e1_0', '-0x1F', '685_230.15', '1.5', '.inf', '-.Inf', '+.INF'],
    ...['.NaN', '<<', '=', '', '2025-01-02', '2001-12-14t21:59:43.10-05:00', '1e400', '99999999999999999999999', '0x_1F', 'v1.31', '10.96.0.0/12', '6443'],
  ];
  const STRINGS = [...new Set([...SHORT, ...LONGER])];

  it.each(VERSIONS)('quotes every string kubeadm would read as something else, in keys and values, at %s', (version) => {
    // Prepare: every string as a taint value and as a flag's name and value
    const args = Object.fromEntries(STRINGS.filter(Boolean).map((s) => [s, s]));
    const kubeadm: KubeadmSpec = {
      clusterConfiguration: { apiServer: { extraArgs: args } },
      initConfiguration: { nodeRegistration: { taints: STRINGS.map((value) => ({ key: 'k', value, effect: 'NoSchedule' })) } },
    };
    // Act
    const docs = onTheMachine(input('init', 'demo-cp-0', { version, kubeadm }));
    // Assess
    expect(kubeadmTypeProblems(docs, version)).toEqual([]);
    expect((valueAt(docs, 'InitConfiguration', 'nodeRegistration', 'taints') as Raw[]).map((t) => t['value'])).toEqual(STRINGS);
    const extraArgs = valueAt(docs, 'ClusterConfiguration', 'apiServer', 'extraArgs');
    expect(Array.isArray(extraArgs) ? Object.fromEntries(extraArgs.map((a: Raw) => [a['name'], a['value']])) : extraArgs).toEqual(args);
  });
});

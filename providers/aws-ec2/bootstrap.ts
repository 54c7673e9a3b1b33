/**
 * Kubeadm bootstrap for EC2 machines: the cluster's join secrets in Secrets Manager, and the cloud-init user data
 * that fetches them at boot, runs `kubeadm init|join`, and calls Capstan back when the node is Ready.
 *
 * Secrets (one set per cluster uid, so a re-created cluster of the same name never sees the old ones):
 *  - `capstan/<cluster>/<uid>/join`           {token, caCertHash}   read by every node. Capstan writes the token;
 *                                                                  the first control-plane machine adds caCertHash.
 *  - `capstan/<cluster>/<uid>/control-plane`  {certificateKey, pki} read by control-plane nodes only. `pki` (the
 *                                                                  cluster CAs and SA key, tar.gz base64) is added
 *                                                                  by the first control-plane machine after init.
 *  - `capstan/<cluster>/<uid>/kubeconfig`     admin kubeconfig      written by the first control-plane machine,
 *                                                                  read by Capstan for node operations (nodes.ts).
 *
 * Note: user data holds no secret value except the machine's callback token, which is single-use, scoped to this
 * one machine, and useless once the machine has reported Ready. Everything kubeadm needs is fetched at boot with the
 * instance role (the AMI needs the AWS CLI, as CAPA's images have) and written to root-only files; kubeadm output,
 * which prints join commands, goes to a root-only log instead of the console.
 *
 * Note: joining control-plane machines restore the CAs from the `pki` field when present (kubeadm's manual
 * certificate distribution), because the certificates `kubeadm init --upload-certs` stores in the cluster expire
 * after two hours; the certificate key is the path used before the first machine has published them.
 */
import { createHash, randomBytes as nodeRandomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { CreateSecretCommand, DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KubeadmSpec } from '../../functions/domain/cluster.js';
import type { ClusterRef } from '../../functions/domain/provider.js';
import { parseVersion } from '../../functions/domain/semver.js';
import { hasAwsCode, withThrottleRetries, type RetryOptions } from './aws-errors.js';

/** Placeholders in the kubeadm config template, replaced at boot with values fetched from Secrets Manager. */
export const PLACEHOLDERS = {
  token: '__CAPSTAN_BOOTSTRAP_TOKEN__',
  caCertHash: '__CAPSTAN_CA_CERT_HASH__',
  certificateKey: '__CAPSTAN_CERTIFICATE_KEY__',
} as const;

/** The three secrets of a cluster. */
export interface ClusterSecretRefs {
  readonly join: string;
  readonly controlPlane: string;
  readonly kubeconfig: string;
}

/** Names (not ARNs) of a cluster's secrets; stable per cluster uid. */
export function clusterSecretNames(cluster: Pick<ClusterRef, 'name' | 'uid'>): ClusterSecretRefs {
  const base = `capstan/${cluster.name}/${cluster.uid}`;
  return { join: `${base}/join`, controlPlane: `${base}/control-plane`, kubeconfig: `${base}/kubeconfig` };
}

/** A kubeadm bootstrap token `[a-z0-9]{6}.[a-z0-9]{16}` from random bytes. */
export function generateBootstrapToken(random: (size: number) => Buffer = nodeRandomBytes): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = random(22);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
  return `${chars.slice(0, 6)}.${chars.slice(6, 22)}`;
}

/** A ClientRequestToken (32–64 chars) derived from the cluster uid and the secret's role: a retry reuses it. */
function requestToken(uid: string, kind: string): string {
  const h = createHash('sha256').update(`${uid}/${kind}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Options of `ensureClusterSecrets`. */
export interface EnsureSecretsOptions {
  /** Tags on every secret (identity + user tags). */
  readonly tags: Readonly<Record<string, string>>;
  /** @default node:crypto randomBytes */
  readonly randomBytes?: (size: number) => Buffer;
  readonly retry?: RetryOptions;
}

/**
 * Creates the cluster's three secrets when missing and returns their ARNs. Idempotent: an existing secret is kept
 * as is (its values never change after creation), a create retried after a crash reuses its ClientRequestToken,
 * and losing a create race (`ResourceExistsException`) counts as success.
 */
export async function ensureClusterSecrets(
  secrets: Pick<SecretsManagerClient, 'send'>,
  cluster: Pick<ClusterRef, 'name' | 'uid'>,
  options: EnsureSecretsOptions,
): Promise<ClusterSecretRefs> {
  const names = clusterSecretNames(cluster);
  const random = options.randomBytes ?? nodeRandomBytes;
  const tags = Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value }));
  const values: Record<keyof ClusterSecretRefs, () => string | undefined> = {
    join: () => JSON.stringify({ token: generateBootstrapToken(random), caCertHash: '' }),
    controlPlane: () => JSON.stringify({ certificateKey: random(32).toString('hex'), pki: '' }),
    kubeconfig: () => undefined, // written by the first control-plane machine
  };
  const ensureOne = async (kind: keyof ClusterSecretRefs): Promise<string> => {
    const name = names[kind];
    const describe = () =>
      withThrottleRetries('DescribeSecret', async () => {
        try {
          return (await secrets.send(new DescribeSecretCommand({ SecretId: name }))).ARN;
        } catch (error) {
          if (hasAwsCode(error, 'ResourceNotFoundException')) return undefined;
          throw error;
        }
      }, options.retry);
    const existing = await describe();
    if (existing) return existing;
    const value = values[kind]();
    const created = await withThrottleRetries('CreateSecret', async () => {
      try {
        const out = await secrets.send(
          new CreateSecretCommand({
            Name: name,
            ClientRequestToken: requestToken(cluster.uid, kind),
            Description: `Capstan ${kind} secret of cluster ${cluster.name} (${cluster.uid})`,
            ...(value !== undefined ? { SecretString: value } : {}),
            Tags: tags,
          }),
        );
        return out.ARN;
      } catch (error) {
        if (hasAwsCode(error, 'ResourceExistsException')) return undefined; // lost a race: keep the winner's
        throw error;
      }
    }, options.retry);
    if (created) return created;
    const arn = await describe();
    if (!arn) throw new Error(`secret ${name} was created but cannot be described`);
    return arn;
  };
  const [join, controlPlane, kubeconfig] = await Promise.all([ensureOne('join'), ensureOne('controlPlane'), ensureOne('kubeconfig')]);
  return { join, controlPlane, kubeconfig };
}

/** How a machine joins its cluster. */
export type BootstrapKind = 'init' | 'join-control-plane' | 'join-worker';

/** Everything `renderUserData` needs; all of it is non-secret except `callbackToken` (see module note). */
export interface UserDataInput {
  readonly kind: BootstrapKind;
  readonly clusterName: string;
  readonly machineName: string;
  /** Kubernetes version `vX.Y.Z` of this machine. */
  readonly version: string;
  /** `host:port` of the API server load balancer. */
  readonly controlPlaneEndpoint: string;
  readonly podCidr: string;
  readonly serviceCidr: string;
  /** CNI manifest URL the `init` machine applies, or `none` (spec.network.cni). @default none */
  readonly cni?: string;
  readonly region: string;
  readonly secrets: ClusterSecretRefs;
  readonly callbackUrl: string;
  readonly callbackToken: string;
  readonly kubeadm?: KubeadmSpec;
  /** Node labels (worker pool labels plus Capstan's identity labels). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The join phase a control-plane join skips (see `kubeadmDocuments`). */
export const SKIP_DOWNLOAD_CERTS = 'control-plane-prepare/download-certs';

/** kubeadm config API version for a Kubernetes version: v1beta4 from 1.31, v1beta3 before. */
export function kubeadmApiVersion(version: string): string {
  const v = parseVersion(version);
  return v && (v.major > 1 || v.minor >= 31) ? 'kubeadm.k8s.io/v1beta4' : 'kubeadm.k8s.io/v1beta3';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge: `over` wins; arrays are replaced, not concatenated. */
function merge(base: unknown, over: unknown): unknown {
  if (!isObj(base) || !isObj(over)) return over === undefined ? base : over;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}

/** v1beta4 wants `extraArgs` as a list of {name, value}; Cluster API documents (and v1beta3) use a map. */
function normalizeArgs(value: unknown, v1beta4: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => normalizeArgs(v, v1beta4));
  if (!isObj(value)) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    if ((k === 'extraArgs' || k === 'kubeletExtraArgs') && v1beta4 && isObj(v)) {
      out[k] = Object.entries(v).map(([name, val]) => ({ name, value: String(val) }));
    } else if ((k === 'extraArgs' || k === 'kubeletExtraArgs') && !v1beta4 && Array.isArray(v)) {
      out[k] = Object.fromEntries(v.filter(isObj).map((a) => [String(a.name), String(a.value)]));
    } else {
      out[k] = normalizeArgs(v, v1beta4);
    }
  }
  return out;
}

function kubeletArgs(labels: Readonly<Record<string, string>> | undefined, v1beta4: boolean): unknown {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return undefined;
  const value = entries.map(([k, v]) => `${k}=${v}`).join(',');
  return v1beta4 ? [{ name: 'node-labels', value }] : { 'node-labels': value };
}

/** Drops keys whose value is undefined (YAML would print them as null). */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (!isObj(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, compact(v)]));
}

/**
 * The kubeadm configuration documents of a machine, with secret placeholders. The imported `spec.kubeadm` settings
 * are merged under Capstan's: version, endpoint, subnets, node name and secrets always come from Capstan.
 */
export function kubeadmDocuments(input: UserDataInput): Obj[] {
  const apiVersion = kubeadmApiVersion(input.version);
  const v1beta4 = apiVersion.endsWith('v1beta4');
  const imported = normalizeArgs(input.kubeadm ?? {}, v1beta4) as KubeadmSpec;
  const endpointHost = input.controlPlaneEndpoint.replace(/:\d+$/, '');
  const nodeRegistration = compact({ name: input.machineName, kubeletExtraArgs: kubeletArgs(input.labels, v1beta4) });
  if (input.kind === 'init') {
    const importedCluster = (imported.clusterConfiguration ?? {}) as Obj;
    const importedSans = isObj(importedCluster.apiServer) && Array.isArray(importedCluster.apiServer.certSANs) ? importedCluster.apiServer.certSANs : [];
    const init = merge(imported.initConfiguration ?? {}, {
      apiVersion,
      kind: 'InitConfiguration',
      bootstrapTokens: [{ token: PLACEHOLDERS.token, ttl: '0s', usages: ['signing', 'authentication'], groups: ['system:bootstrappers:kubeadm:default-node-token'] }],
      certificateKey: PLACEHOLDERS.certificateKey,
      nodeRegistration,
    }) as Obj;
    const clusterConfig = merge(importedCluster, {
      apiVersion,
      kind: 'ClusterConfiguration',
      clusterName: input.clusterName,
      kubernetesVersion: input.version,
      controlPlaneEndpoint: input.controlPlaneEndpoint,
      networking: { podSubnet: input.podCidr, serviceSubnet: input.serviceCidr },
      apiServer: { certSANs: [...new Set([...importedSans.map(String), endpointHost])] },
    }) as Obj;
    return [init, clusterConfig];
  }
  const importedJoin = (imported.joinConfiguration ?? {}) as Obj;
  const importedSkips = Array.isArray(importedJoin.skipPhases) ? importedJoin.skipPhases.map(String) : [];
  const join = merge(importedJoin, {
    apiVersion,
    kind: 'JoinConfiguration',
    discovery: { bootstrapToken: { apiServerEndpoint: input.controlPlaneEndpoint, token: PLACEHOLDERS.token, caCertHashes: [PLACEHOLDERS.caCertHash] } },
    nodeRegistration,
    // Keeps controlPlane.certificateKey (a control-plane join) and skips download-certs: that phase runs whenever a
    // certificate key is set and fails once the 2-hour kubeadm-certs Secret is gone (kubernetes
    // cmd/kubeadm/app/cmd/phases/join/controlplaneprepare.go, phases/copycerts/copycerts.go DownloadCerts); the CAs
    // are restored from the `pki` field instead (manual certificate distribution).
    ...(input.kind === 'join-control-plane'
      ? { controlPlane: { certificateKey: PLACEHOLDERS.certificateKey }, skipPhases: [...new Set([...importedSkips, SKIP_DOWNLOAD_CERTS])] }
      : {}),
  }) as Obj;
  return [join];
}

/** Quotes a value for bash single quotes. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function bootstrapScript(input: UserDataInput): string {
  return `#!/bin/bash
# Capstan bootstrap (${input.kind}). No secret values below: they are fetched from Secrets Manager at boot.
set -euo pipefail
umask 077
REGION=${shellQuote(input.region)}
KIND=${shellQuote(input.kind)}
CNI=${shellQuote(input.cni ?? 'none')}
NODE_NAME=${shellQuote(input.machineName)}
JOIN_SECRET=${shellQuote(input.secrets.join)}
CP_SECRET=${shellQuote(input.secrets.controlPlane)}
KUBECONFIG_SECRET=${shellQuote(input.secrets.kubeconfig)}
LOG=/var/log/capstan-bootstrap.log
secret() { aws secretsmanager get-secret-value --region "$REGION" --secret-id "$1" --query SecretString --output text; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]) or "")' "$1"; }
put_secret() { aws secretsmanager put-secret-value --region "$REGION" --secret-id "$1" --secret-string "file://$2" >/dev/null; }

phase_kubeadm() {
  local join_json token hash="" cp_json cert_key="" pki=""
  join_json=$(secret "$JOIN_SECRET"); token=$(printf '%s' "$join_json" | field token)
  if [ "$KIND" != init ]; then
    for _ in $(seq 1 90); do   # wait (≤ 15 min) for the first control-plane machine to publish the CA hash
      hash=$(printf '%s' "$join_json" | field caCertHash); [ -n "$hash" ] && break
      sleep 10; join_json=$(secret "$JOIN_SECRET")
    done
    [ -n "$hash" ] || { echo "capstan: CA cert hash never published" >&2; exit 1; }
  fi
  if [ "$KIND" != join-worker ]; then
    cp_json=$(secret "$CP_SECRET"); cert_key=$(printf '%s' "$cp_json" | field certificateKey); pki=$(printf '%s' "$cp_json" | field pki)
  fi
  mkdir -p /run/kubeadm
  sed -e "s|${PLACEHOLDERS.token}|$token|g" -e "s|${PLACEHOLDERS.caCertHash}|$hash|g" -e "s|${PLACEHOLDERS.certificateKey}|$cert_key|g" \\
    /etc/capstan/kubeadm.yaml.tpl > /run/kubeadm/kubeadm.yaml
  case "$KIND" in
    init)
      kubeadm init --config /run/kubeadm/kubeadm.yaml --upload-certs >>"$LOG" 2>&1
      hash="sha256:$(openssl x509 -pubkey -in /etc/kubernetes/pki/ca.crt | openssl rsa -pubin -outform der 2>/dev/null | openssl dgst -sha256 -hex | sed 's/^.* //')"
      pki=$(tar -C /etc/kubernetes/pki -czf - ca.crt ca.key sa.key sa.pub front-proxy-ca.crt front-proxy-ca.key etcd/ca.crt etcd/ca.key | base64 -w0)
      TOKEN="$token" HASH="$hash" python3 -c 'import json,os; print(json.dumps({"token": os.environ["TOKEN"], "caCertHash": os.environ["HASH"]}))' > /run/kubeadm/join.json
      KEY="$cert_key" PKI="$pki" python3 -c 'import json,os; print(json.dumps({"certificateKey": os.environ["KEY"], "pki": os.environ["PKI"]}))' > /run/kubeadm/cp.json
      put_secret "$CP_SECRET" /run/kubeadm/cp.json
      put_secret "$KUBECONFIG_SECRET" /etc/kubernetes/admin.conf
      put_secret "$JOIN_SECRET" /run/kubeadm/join.json
      rm -f /run/kubeadm/join.json /run/kubeadm/cp.json
      if [ "$CNI" != none ]; then   # the pod network: without it no node becomes Ready
        for _ in $(seq 1 30); do
          kubectl --kubeconfig /etc/kubernetes/admin.conf apply -f "$CNI" >>"$LOG" 2>&1 && break
          sleep 10
        done
      fi ;;
    join-control-plane)
      if [ -n "$pki" ]; then   # manual certificate distribution: uploaded certs expire after 2 h
        mkdir -p /etc/kubernetes/pki && printf '%s' "$pki" | base64 -d | tar -C /etc/kubernetes/pki -xzf -
      fi
      kubeadm join --config /run/kubeadm/kubeadm.yaml >>"$LOG" 2>&1 ;;
    join-worker)
      kubeadm join --config /run/kubeadm/kubeadm.yaml >>"$LOG" 2>&1 ;;
  esac
  rm -f /run/kubeadm/kubeadm.yaml
}

phase_ready() {
  local status=""
  for _ in $(seq 1 180); do   # ≤ 30 min; Capstan's nodeStartupTimeout decides failure, not this loop
    status=$(kubectl --kubeconfig /etc/kubernetes/kubelet.conf get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
    [ "$status" = True ] && break
    sleep 10
  done
  [ "$status" = True ] || { echo "capstan: node $NODE_NAME not Ready" >&2; exit 1; }
  local imds_token provider_id
  imds_token=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)
  provider_id="aws:///$(curl -fsS -H "X-aws-ec2-metadata-token: $imds_token" http://169.254.169.254/latest/meta-data/placement/availability-zone)/$(curl -fsS -H "X-aws-ec2-metadata-token: $imds_token" http://169.254.169.254/latest/meta-data/instance-id)"
  . /etc/capstan/callback.env
  curl -fsS --retry 10 --retry-all-errors --max-time 30 -X POST -H "Authorization: Bearer $CALLBACK_TOKEN" \\
    -H 'Content-Type: application/json' --data "{\\"machine\\":\\"$NODE_NAME\\",\\"providerId\\":\\"$provider_id\\"}" "$CALLBACK_URL" >/dev/null
  rm -f /etc/capstan/callback.env   # single use
}

case "\${1:-}" in
  kubeadm) phase_kubeadm ;;
  ready) phase_ready ;;
  *) echo "usage: $0 kubeadm|ready" >&2; exit 2 ;;
esac
`;
}

/**
 * The cloud-init user data (`#cloud-config`) of one machine, as plain text (EC2 wants it base64: see
 * `encodeUserData`). Pre/post kubeadm commands and files from `spec.kubeadm` run around Capstan's own steps.
 */
export function renderUserData(input: UserDataInput): string {
  const kubeadmYaml = kubeadmDocuments(input).map((d) => stringify(d)).join('---\n');
  const files = (input.kubeadm?.files ?? []).map((f) => ({ ...f }));
  const doc = {
    write_files: [
      ...files,
      { path: '/etc/capstan/kubeadm.yaml.tpl', owner: 'root:root', permissions: '0600', content: kubeadmYaml },
      { path: '/usr/local/bin/capstan-bootstrap', owner: 'root:root', permissions: '0700', content: bootstrapScript(input) },
      {
        path: '/etc/capstan/callback.env',
        owner: 'root:root',
        permissions: '0600',
        content: `CALLBACK_URL=${shellQuote(input.callbackUrl)}\nCALLBACK_TOKEN=${shellQuote(input.callbackToken)}\n`,
      },
    ],
    runcmd: [
      ...(input.kubeadm?.preKubeadmCommands ?? []),
      ['/usr/local/bin/capstan-bootstrap', 'kubeadm'],
      ...(input.kubeadm?.postKubeadmCommands ?? []),
      ['/usr/local/bin/capstan-bootstrap', 'ready'],
    ],
  };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}

/** EC2 `UserData` is base64 of the document (16 KiB limit before encoding). */
export function encodeUserData(userData: string): string {
  const bytes = Buffer.byteLength(userData, 'utf8');
  if (bytes > 16384) throw new Error(`userData: must be at most 16384 bytes, got ${bytes}`);
  return Buffer.from(userData, 'utf8').toString('base64');
}

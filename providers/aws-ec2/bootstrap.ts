/**
 * Kubeadm bootstrap for EC2 machines: the cloud-init user data that fetches the cluster's join material from Secrets
 * Manager at boot (cluster-secrets.ts), runs `kubeadm init|join`, and calls Capstan back when the node is Ready.
 *
 * A machine only reads: every machine the join secret (token, CA hash), control-plane machines also the control-plane
 * secret (the CAs and service-account keys Capstan made, written to /etc/kubernetes/pki before kubeadm runs: kubeadm
 * then uses them instead of making its own). Nothing is written back, so the machine roles have no write access.
 *
 * Note: user data holds no secret value except the machine's callback token, which is single-use, scoped to this
 * one machine, and useless once the machine has reported Ready. Everything kubeadm needs is fetched at boot with the
 * instance role (the AMI needs the AWS CLI, as CAPA's images have) and written to root-only files; kubeadm output,
 * which prints join commands, goes to a root-only log instead of the console.
 *
 * Note: joining control-plane machines get the CAs the same way (kubeadm's manual certificate distribution) and skip
 * the download of the `kubeadm-certs` Secret, which `kubeadm init --upload-certs` would keep for two hours only.
 */
import { stringify } from 'yaml';
import type { ClusterSecretRefs } from './cluster-secrets.js';
import { PLACEHOLDERS, kubeadmDocuments, kubeadmYaml, type KubeadmInput } from './kubeadm-config.js';

export { INIT_TOKEN_TTL, PLACEHOLDERS, SKIP_DOWNLOAD_CERTS, kubeadmApiVersion, kubeadmDocuments, type BootstrapKind } from './kubeadm-config.js';

/** Everything `renderUserData` needs; all of it is non-secret except `callbackToken` (see module note). */
export interface UserDataInput extends KubeadmInput {
  /** CNI manifest URL the `init` machine applies, or `none` (spec.network.cni). @default none */
  readonly cni?: string;
  readonly region: string;
  /** The join secret (every machine) and the control-plane secret (control-plane machines); see cluster-secrets.ts. */
  readonly secrets: Pick<ClusterSecretRefs, 'join' | 'controlPlane'>;
  readonly callbackUrl: string;
  readonly callbackToken: string;
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
LOG=/var/log/capstan-bootstrap.log
secret() { aws secretsmanager get-secret-value --region "$REGION" --secret-id "$1" --query SecretString --output text; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]) or "")' "$1"; }
# Writes the CAs and service-account keys of the control-plane secret under /etc/kubernetes/pki (keys 0600).
write_pki() {
  python3 -c '
import json, os, sys
for name, pem in json.load(sys.stdin)["pki"].items():
    path = os.path.join("/etc/kubernetes/pki", name)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    with open(path, "w") as f:
        f.write(pem)
    os.chmod(path, 0o600 if name.endswith(".key") else 0o644)
'
}

phase_kubeadm() {
  local join_json token hash cp_json cert_key=""
  join_json=$(secret "$JOIN_SECRET")
  token=$(printf '%s' "$join_json" | field token); hash=$(printf '%s' "$join_json" | field caCertHash)
  if [ -z "$token" ] || [ -z "$hash" ]; then echo "capstan: the join secret has no token or CA hash" >&2; exit 1; fi
  if [ "$KIND" != join-worker ]; then
    cp_json=$(secret "$CP_SECRET"); cert_key=$(printf '%s' "$cp_json" | field certificateKey)
    printf '%s' "$cp_json" | write_pki
  fi
  mkdir -p /run/kubeadm
  sed -e "s|${PLACEHOLDERS.token}|$token|g" -e "s|${PLACEHOLDERS.caCertHash}|$hash|g" -e "s|${PLACEHOLDERS.certificateKey}|$cert_key|g" \\
    /etc/capstan/kubeadm.yaml.tpl > /run/kubeadm/kubeadm.yaml
  case "$KIND" in
    init)
      kubeadm init --config /run/kubeadm/kubeadm.yaml >>"$LOG" 2>&1
      if [ "$CNI" != none ]; then   # the pod network: without it no node becomes Ready
        for _ in $(seq 1 30); do
          kubectl --kubeconfig /etc/kubernetes/admin.conf apply -f "$CNI" >>"$LOG" 2>&1 && break
          sleep 10
        done
      fi ;;
    join-control-plane | join-worker)
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
  # shellcheck source=/dev/null
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
  const kubeadmTemplate = kubeadmDocuments(input).map(kubeadmYaml).join('---\n');
  const files = (input.kubeadm?.files ?? []).map((f) => ({ ...f }));
  const doc = {
    write_files: [
      ...files,
      { path: '/etc/capstan/kubeadm.yaml.tpl', owner: 'root:root', permissions: '0600', content: kubeadmTemplate },
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

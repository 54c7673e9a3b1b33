/**
 * The certificate authorities of a cluster, made by Capstan before its first machine exists — as Cluster API's
 * KubeadmControlPlane does in the management cluster (cluster-api util/secret/certificates.go: `NewCertificatesForInitialControlPlane`,
 * the `<cluster>-ca`, `-etcd`, `-proxy` and `-sa` Secrets; util/kubeconfig/kubeconfig.go: the admin kubeconfig signed by the
 * cluster CA). With the CAs made here:
 *  - no machine has to write anything back (the CA hash and the kubeconfig are known before any machine boots);
 *  - Capstan can mint its own client certificate for a cluster at any time, so its access never expires unseen.
 *
 * What kubeadm expects, from kubeadm's own rules (kubernetes cmd/kubeadm/app/phases/certs, util/pkiutil/pki_helpers.go):
 *  - `ca.crt/ca.key` (CN `kubernetes`), `front-proxy-ca.crt/.key` (CN `front-proxy-ca`), `etcd/ca.crt/.key` (CN `etcd-ca`):
 *    self-signed CAs, key usages digitalSignature|keyEncipherment|keyCertSign, basic constraints CA:true, 10 years;
 *  - `sa.key` (RSA private key) and `sa.pub` (its PKIX public key);
 *  - when a CA's files exist, `kubeadm init` uses them and only signs the leaf certificates ("kubeadm init … uses
 *    the existing CA": https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/#custom-certificates).
 *  - the discovery hash `sha256:<hex>` is the SHA-256 of the CA certificate's DER SubjectPublicKeyInfo
 *    (https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-join/#token-based-discovery-with-ca-pinning).
 *
 * Note: node:crypto makes the keys and signs (native); node-forge only assembles the X.509 structures, which node:crypto
 * cannot build (forge's own JavaScript RSA takes about a second per signature under jest).
 */
import { X509Certificate, createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import forge from 'node-forge';
import { parse, stringify } from 'yaml';

/** One certificate and its private key, PEM. */
export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

/** The files kubeadm finds under /etc/kubernetes/pki, by path relative to it. */
export type PkiFiles = Readonly<Record<string, string>>;

/** The CAs of one cluster and its service-account key pair. */
export interface ClusterPki {
  readonly ca: KeyPair;
  readonly frontProxyCa: KeyPair;
  readonly etcdCa: KeyPair;
  readonly serviceAccount: { readonly key: string; readonly pub: string };
}

/** kubeadm's CA lifetime (pkiutil: `CACertificateValidityPeriod`, ten years). */
export const CA_VALIDITY_MS = 10 * 365 * 24 * 3600_000;
/** kubeadm's leaf lifetime (constants.CertificateValidityPeriod, one year): Capstan's admin certificate too. */
export const CLIENT_VALIDITY_MS = 365 * 24 * 3600_000;
/** Capstan renews its admin certificate when less than this is left (kubeadm's `certs check-expiration` warns at 30 days). */
export const RENEW_BEFORE_MS = 30 * 24 * 3600_000;
/** Clock skew allowance: certificates are valid from a little before now (as client-go's cert helpers do). */
const BACKDATE_MS = 5 * 60_000;

function rsaKey(): { key: string; pub: string } {
  // PKCS#1 "RSA PRIVATE KEY", as kubeadm writes its own keys (keyutil accepts PKCS#1, PKCS#8 and SEC1).
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { key: privateKey, pub: publicKey };
}

/** A positive random serial number (RFC 5280 4.1.2.2: positive, at most 20 octets). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

type Attributes = forge.pki.CertificateField[];

/** The fields `forge.pki.Certificate.sign` sets, which its types leave out. */
interface Signable {
  signatureOid: string;
  siginfo: { algorithmOid: string };
  tbsCertificate: forge.asn1.Asn1;
  signature: string;
}

/** Signs `cert` with `keyPem` (sha256WithRSAEncryption) natively, as `forge.pki.Certificate.sign` would. */
function signCertificate(cert: forge.pki.Certificate, keyPem: string): string {
  const c = cert as unknown as forge.pki.Certificate & Signable;
  c.signatureOid = c.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  // getTBSCertificate is public API (forge lib/x509.js) missing from @types/node-forge.
  c.tbsCertificate = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  const tbs = Buffer.from(forge.asn1.toDer(c.tbsCertificate).getBytes(), 'binary');
  c.signature = sign('sha256', tbs, keyPem).toString('binary');
  return forge.pki.certificateToPem(cert);
}

function subject(commonName: string, organizations: readonly string[] = []): Attributes {
  return [...organizations.map((value) => ({ shortName: 'O', value })), { shortName: 'CN', value: commonName }];
}

/** A self-signed CA, as kubeadm's `NewCertificateAuthority`. */
export function newCertificateAuthority(commonName: string, now: Date = new Date()): KeyPair {
  const { key, pub } = rsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pub);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + CA_VALIDITY_MS);
  cert.setSubject(subject(commonName));
  cert.setIssuer(subject(commonName));
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  return { cert: signCertificate(cert, key), key };
}

/** What a leaf certificate is for. */
export interface LeafRequest {
  readonly commonName: string;
  readonly organizations?: readonly string[];
  readonly usage: 'client' | 'server' | 'client-server';
  /** Subject alternative names (servers): DNS names and IP addresses. */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly validityMs?: number;
  readonly now?: Date;
}

/** A leaf certificate signed by `ca` (kubeadm's `NewCertAndKey`). */
export function issueCertificate(ca: KeyPair, request: LeafRequest): KeyPair {
  const now = request.now ?? new Date();
  const { key, pub } = rsaKey();
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pub);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + (request.validityMs ?? CLIENT_VALIDITY_MS));
  cert.setSubject(subject(request.commonName, request.organizations));
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...(request.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(request.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: request.usage !== 'server', serverAuth: request.usage !== 'client' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
  ]);
  return { cert: signCertificate(cert, ca.key), key };
}

/** New CAs and service-account keys for a cluster. */
export function generateClusterPki(now: Date = new Date()): ClusterPki {
  const sa = rsaKey();
  return {
    ca: newCertificateAuthority('kubernetes', now),
    frontProxyCa: newCertificateAuthority('front-proxy-ca', now),
    etcdCa: newCertificateAuthority('etcd-ca', now),
    serviceAccount: { key: sa.key, pub: sa.pub },
  };
}

/** The files of `pki` by their path under /etc/kubernetes/pki (kubeadm's constants.CACertName etc.). */
export function pkiFiles(pki: ClusterPki): PkiFiles {
  return {
    'ca.crt': pki.ca.cert,
    'ca.key': pki.ca.key,
    'front-proxy-ca.crt': pki.frontProxyCa.cert,
    'front-proxy-ca.key': pki.frontProxyCa.key,
    'etcd/ca.crt': pki.etcdCa.cert,
    'etcd/ca.key': pki.etcdCa.key,
    'sa.key': pki.serviceAccount.key,
    'sa.pub': pki.serviceAccount.pub,
  };
}

/** The cluster CA of the files made by {@link pkiFiles}; throws naming the missing file. */
export function clusterCaOf(files: PkiFiles): KeyPair {
  const cert = files['ca.crt'];
  const key = files['ca.key'];
  if (!cert || !key) throw new Error(`cluster PKI: ${cert ? 'ca.key' : 'ca.crt'} is missing`);
  return { cert, key };
}

/** kubeadm's discovery hash of a CA: `sha256:` + hex SHA-256 of its DER SubjectPublicKeyInfo. */
export function caCertHash(caCertPem: string): string {
  const spki = new X509Certificate(caCertPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** When a PEM certificate stops being valid. */
export function certificateNotAfter(pem: string): Date {
  return new Date(new X509Certificate(pem).validTo);
}

/** True when `key` (PEM) is the private key of `cert` (PEM). */
export function keyMatchesCertificate(cert: string, key: string): boolean {
  return new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
}

/** The user Capstan acts as in a workload cluster: kubeadm's admin identity (CN kubernetes-admin, O system:masters). */
export const ADMIN_USER = { commonName: 'kubernetes-admin', organizations: ['system:masters'] } as const;

/** Everything an admin kubeconfig needs. */
export interface AdminKubeconfigInput {
  readonly clusterName: string;
  /** `https://host:port` of the API server. */
  readonly server: string;
  readonly ca: KeyPair;
  readonly now?: Date;
  readonly validityMs?: number;
}

/**
 * An admin kubeconfig for `clusterName`, with a fresh client certificate signed by the cluster CA (Cluster API's
 * `<cluster>-kubeconfig` Secret: util/kubeconfig/kubeconfig.go `New` and `generateClientCert`).
 */
export function adminKubeconfig(input: AdminKubeconfigInput): string {
  const client = issueCertificate(input.ca, { ...ADMIN_USER, usage: 'client', ...(input.now ? { now: input.now } : {}), ...(input.validityMs ? { validityMs: input.validityMs } : {}) });
  const user = `${input.clusterName}-admin`;
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: input.clusterName, cluster: { server: input.server, 'certificate-authority-data': b64(input.ca.cert) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) } }],
    contexts: [{ name: `${user}@${input.clusterName}`, context: { cluster: input.clusterName, user } }],
    'current-context': `${user}@${input.clusterName}`,
  });
}

/** The server and the client certificate's expiry of a kubeconfig made by {@link adminKubeconfig}; undefined when unreadable. */
export function inspectKubeconfig(kubeconfig: string): { readonly server: string; readonly notAfter: Date } | undefined {
  try {
    const doc = parse(kubeconfig) as { clusters?: { cluster?: { server?: string } }[]; users?: { user?: { 'client-certificate-data'?: string } }[] };
    const server = doc.clusters?.[0]?.cluster?.server;
    const data = doc.users?.[0]?.user?.['client-certificate-data'];
    if (!server || !data) return undefined;
    return { server, notAfter: certificateNotAfter(Buffer.from(data, 'base64').toString()) };
  } catch {
    return undefined;
  }
}

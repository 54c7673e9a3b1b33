/**
 * The cluster PKI judged by TLS stacks no one here wrote: OpenSSL (`openssl verify`, the discovery-hash pipeline the
 * kubeadm docs print) and a real etcd server (Go's crypto/tls) that requires client certificates.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import {
  adminKubeconfig,
  caCertHash,
  certificateNotAfter,
  clusterCaOf,
  generateClusterPki,
  inspectKubeconfig,
  issueCertificate,
  keyMatchesCertificate,
  newCertificateAuthority,
  pkiFiles,
  type ClusterPki,
} from '../../../providers/aws-ec2/pki.js';
import { freePort } from '../../integration/harness.js';

let dir: string;
let pki: ClusterPki;
const file = (name: string, content: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, content, { mode: 0o600 });
  return p;
};
const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'capstan-pki-'));
  pki = generateClusterPki(new Date());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cluster PKI (checked with OpenSSL)', () => {
  it('makes three self-signed CAs with the names, usages and lifetime kubeadm gives its own', () => {
    for (const [ca, cn] of [[pki.ca, 'kubernetes'], [pki.frontProxyCa, 'front-proxy-ca'], [pki.etcdCa, 'etcd-ca']] as const) {
      const text = openssl('x509', '-noout', '-text', '-in', file(`${cn}.crt`, ca.cert));
      expect(text).toMatch(new RegExp(`Subject: CN ?= ?${cn}\\n`));
      expect(text).toMatch(new RegExp(`Issuer: CN ?= ?${cn}\\n`));
      expect(text).toMatch(/CA:TRUE/);
      expect(text).toMatch(/Digital Signature, Key Encipherment, Certificate Sign/);
      expect(openssl('verify', '-CAfile', file(`${cn}-root.crt`, ca.cert), file(`${cn}-self.crt`, ca.cert))).toMatch(/: OK/);
      const years = (certificateNotAfter(ca.cert).getTime() - Date.now()) / (365 * 24 * 3600_000);
      expect(years).toBeGreaterThan(9.9);
      expect(keyMatchesCertificate(ca.cert, ca.key)).toBe(true);
    }
  });

  it('computes the discovery hash exactly as the pipeline in the kubeadm join documentation does', () => {
    // https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-join/ (the same pipeline the bootstrap used)
    const ca = file('hash-ca.crt', pki.ca.cert);
    const der = execFileSync('bash', ['-c', `openssl x509 -pubkey -in ${ca} | openssl rsa -pubin -outform der 2>/dev/null | openssl dgst -sha256 -hex | sed 's/^.* //'`], { encoding: 'utf8' }).trim();
    expect(caCertHash(pki.ca.cert)).toBe(`sha256:${der}`);
    expect(caCertHash(pki.frontProxyCa.cert)).not.toBe(caCertHash(pki.ca.cert));
  });

  it('writes the service-account key pair kubeadm expects (sa.pub is the public key of sa.key)', () => {
    const pub = openssl('rsa', '-in', file('sa.key', pki.serviceAccount.key), '-pubout');
    expect(pub.trim()).toBe(pki.serviceAccount.pub.trim());
    expect(Object.keys(pkiFiles(pki)).sort()).toEqual(['ca.crt', 'ca.key', 'etcd/ca.crt', 'etcd/ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub']);
    expect(clusterCaOf(pkiFiles(pki))).toEqual(pki.ca);
    expect(() => clusterCaOf({ 'ca.crt': pki.ca.cert })).toThrow(/ca.key is missing/);
  });

  it('signs an admin kubeconfig whose client certificate OpenSSL verifies against the cluster CA, as kubernetes-admin in system:masters', () => {
    const kubeconfig = parse(adminKubeconfig({ clusterName: 'alpha', server: 'https://api.example:6443', ca: pki.ca }));
    const user = kubeconfig.users[0].user;
    const cert = Buffer.from(user['client-certificate-data'], 'base64').toString();
    expect(openssl('verify', '-CAfile', file('kc-ca.crt', pki.ca.cert), '-purpose', 'sslclient', file('kc-client.crt', cert))).toMatch(/: OK/);
    expect(openssl('x509', '-noout', '-subject', '-in', file('kc-client2.crt', cert))).toMatch(/O ?= ?system:masters, CN ?= ?kubernetes-admin/);
    expect(keyMatchesCertificate(cert, Buffer.from(user['client-key-data'], 'base64').toString())).toBe(true);
    expect(Buffer.from(kubeconfig.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe(pki.ca.cert);
    // A certificate from another CA does not verify: the check above can fail.
    const other = newCertificateAuthority('kubernetes');
    expect(() => openssl('verify', '-CAfile', file('other-ca.crt', other.cert), file('kc-client3.crt', cert))).toThrow();
  });

  it('reads back the server and the client certificate expiry of a kubeconfig it made', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const seen = inspectKubeconfig(adminKubeconfig({ clusterName: 'alpha', server: 'https://api.example:6443', ca: pki.ca, now, validityMs: 3600_000 }));
    expect(seen).toEqual({ server: 'https://api.example:6443', notAfter: new Date('2026-01-01T01:00:00Z') });
    expect(inspectKubeconfig('not: [a kubeconfig')).toBeUndefined();
  });
});

describe('cluster PKI (checked with a real etcd server requiring client certificates)', () => {
  let etcd: ChildProcess | undefined;
  let endpoint: string;
  /** `etcdctl endpoint health` with a client certificate: its report (etcdctl prints it on stderr); throws when unhealthy. */
  const etcdctl = (cert: string, key: string) => {
    const args = ['--endpoints', endpoint, '--cacert', file('etcd-ca.crt', pki.etcdCa.cert), '--cert', cert, '--key', key, '--dial-timeout=3s', '--command-timeout=3s', 'endpoint', 'health'];
    const out = spawnSync('etcdctl', args, { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    const report = `${out.stdout}${out.stderr}`;
    if (out.status !== 0) throw new Error(report);
    return report;
  };

  beforeAll(async () => {
    const [client, peer] = [await freePort(), await freePort()];
    endpoint = `https://127.0.0.1:${client}`;
    // The server certificate as kubeadm's etcd/server: client and server auth, SANs localhost and 127.0.0.1.
    const server = issueCertificate(pki.etcdCa, { commonName: 'etcd-server', usage: 'client-server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    etcd = spawn('etcd', [
      '--name=pki-test', `--data-dir=${path.join(dir, 'etcd-data')}`,
      `--listen-client-urls=${endpoint}`, `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=pki-test=http://127.0.0.1:${peer}`,
      `--cert-file=${file('etcd-server.crt', server.cert)}`, `--key-file=${file('etcd-server.key', server.key)}`,
      `--trusted-ca-file=${file('etcd-trusted-ca.crt', pki.etcdCa.cert)}`, '--client-cert-auth=true',
    ], { stdio: 'ignore' });
    const client0 = issueCertificate(pki.etcdCa, { commonName: 'kube-etcd-healthcheck-client', usage: 'client' });
    const [c, k] = [file('probe.crt', client0.cert), file('probe.key', client0.key)];
    for (let i = 0; i < 100; i++) {
      try {
        etcdctl(c, k);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error('etcd with TLS never answered');
  });
  afterAll(() => etcd?.kill('SIGKILL'));

  it('accepts a client certificate signed by the etcd CA', () => {
    const client = issueCertificate(pki.etcdCa, { commonName: 'kube-apiserver-etcd-client', usage: 'client' });
    expect(etcdctl(file('apiserver-etcd-client.crt', client.cert), file('apiserver-etcd-client.key', client.key))).toMatch(/is healthy/);
  });

  it('refuses a client certificate signed by another CA of the same cluster', () => {
    const foreign = issueCertificate(pki.ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'], usage: 'client' });
    expect(() => etcdctl(file('foreign.crt', foreign.cert), file('foreign.key', foreign.key))).toThrow(/unhealthy|bad certificate|certificate/);
  });
});

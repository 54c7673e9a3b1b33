/**
 * A cluster's secrets in Secrets Manager (one set per cluster uid, so a re-created cluster of the same name never sees
 * the old ones). Capstan writes all of them; machines only read, and each machine only what its role needs:
 *
 *  | secret                                    | value                               | audience tag    | read by                 |
 *  |-------------------------------------------|-------------------------------------|-----------------|-------------------------|
 *  | `capstan/<cluster>/<uid>/join`            | {token, expires, caCertHash}        | `worker`        | every machine           |
 *  | `capstan/<cluster>/<uid>/control-plane`   | {certificateKey, pki: {file: PEM}}  | `control-plane` | control-plane machines  |
 *  | `capstan/<cluster>/<uid>/kubeconfig`      | admin kubeconfig (Capstan's access) | `capstan`       | Capstan (member role)   |
 *
 * Every secret is also tagged with the cluster's VPC (`capstan.dev/vpc-id`); the machine roles of the member stack
 * may read a secret only when its audience tag admits their role and its VPC tag equals the VPC their instance
 * credentials were delivered to (`aws:ec2InstanceSourceVPC`), so a worker never reads CA keys and no machine reads
 * another cluster's secrets (infra/stacks/member-stack.ts).
 *
 * The CAs are made here, before the first machine (pki.ts), as Cluster API's KubeadmControlPlane makes them: the CA
 * hash is known up front and Capstan signs its own admin certificate, renewed RENEW_BEFORE_MS before it expires.
 *
 * The join token (kubeadm bootstrap token) lives BOOTSTRAP_TOKEN_TTL_MS; joins after that get a fresh one that
 * Capstan creates in the cluster (ec2-provider.ts `ensureJoinToken`), as Cluster API's KubeadmConfig controller
 * does (bootstrap/kubeadm/internal/controllers: short-lived tokens, refreshed while a machine has not joined).
 */
import { createHash, randomBytes as nodeRandomBytes } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { ClusterRef } from '../../functions/domain/provider.js';
import { hasAwsCode, withThrottleRetries, type RetryOptions } from './aws-errors.js';
import { SECRET_AUDIENCES, SECRET_AUDIENCE_TAG, SECRET_VPC_TAG } from './network.js';
import { RENEW_BEFORE_MS, adminKubeconfig, caCertHash, clusterCaOf, generateClusterPki, inspectKubeconfig, pkiFiles, type KeyPair, type PkiFiles } from './pki.js';

/** The three secrets of a cluster (names or ARNs). */
export interface ClusterSecretRefs {
  readonly join: string;
  readonly controlPlane: string;
  readonly kubeconfig: string;
}


/** kubeadm's default token TTL is 24 h; Capstan keeps join tokens shorter and mints new ones for later joins. */
export const BOOTSTRAP_TOKEN_TTL_MS = 4 * 3600_000;
/** A join needs a token that lives at least this long (a machine boots and joins well within it). */
export const MIN_TOKEN_LIFETIME_MS = 3600_000;

/** The value of the join secret. */
export interface JoinSecret {
  readonly token: string;
  /** RFC 3339; the token is refused by the API server after it. */
  readonly expires: string;
  readonly caCertHash: string;
}

/** The value of the control-plane secret. */
export interface ControlPlaneSecret {
  readonly certificateKey: string;
  readonly pki: PkiFiles;
}

/** Names (not ARNs) of a cluster's secrets; stable per cluster uid. */
export function clusterSecretNames(cluster: Pick<ClusterRef, 'name' | 'uid'>): ClusterSecretRefs {
  const base = `capstan/${cluster.name}/${cluster.uid}`;
  return { join: `${base}/join`, controlPlane: `${base}/control-plane`, kubeconfig: `${base}/kubeconfig` };
}

/** A kubeadm bootstrap token `[a-z0-9]{6}.[a-z0-9]{16}` from random bytes. */
export function generateBootstrapToken(random: (size: number) => Buffer = nodeRandomBytes): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const chars = [...random(22)].map((b) => alphabet[b % alphabet.length]).join('');
  return `${chars.slice(0, 6)}.${chars.slice(6, 22)}`;
}

/** A ClientRequestToken (32–64 chars) derived from the cluster uid and the secret's role: a retry reuses it. */
function requestToken(uid: string, kind: string): string {
  const h = createHash('sha256').update(`${uid}/${kind}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Options of {@link ensureClusterSecrets}. */
export interface EnsureSecretsOptions {
  /** Tags on every secret (identity + user tags). */
  readonly tags: Readonly<Record<string, string>>;
  /** The cluster's VPC (tagged on every secret). */
  readonly vpcId: string;
  /**
   * `https://host:port` of the API server. With it, an existing admin kubeconfig is renewed when it is about to expire
   * or names another server; `createKubeconfig` also creates it when missing (the first control-plane machine).
   */
  readonly endpoint?: string;
  readonly createKubeconfig?: boolean;
  /** @default new Date() */
  readonly now?: Date;
  /** @default node:crypto randomBytes */
  readonly randomBytes?: (size: number) => Buffer;
  readonly retry?: RetryOptions;
}

type Secrets = Pick<SecretsManagerClient, 'send'>;

/** The secret's ARN, or undefined when it does not exist. */
async function describeSecret(secrets: Secrets, name: string, retry?: RetryOptions): Promise<string | undefined> {
  return withThrottleRetries('DescribeSecret', async () => {
    try {
      return (await secrets.send(new DescribeSecretCommand({ SecretId: name }))).ARN;
    } catch (error) {
      if (hasAwsCode(error, 'ResourceNotFoundException')) return undefined;
      throw error;
    }
  }, retry);
}

/** The secret's string value, or undefined when it has none yet. */
export async function readSecret(secrets: Secrets, id: string, retry?: RetryOptions): Promise<string | undefined> {
  return withThrottleRetries('GetSecretValue', async () => {
    try {
      return (await secrets.send(new GetSecretValueCommand({ SecretId: id }))).SecretString || undefined;
    } catch (error) {
      if (hasAwsCode(error, 'ResourceNotFoundException')) return undefined;
      throw error;
    }
  }, retry);
}

/** Replaces a secret's value (a new AWSCURRENT version). */
export async function writeSecret(secrets: Secrets, id: string, value: string, retry?: RetryOptions): Promise<void> {
  await withThrottleRetries('PutSecretValue', () => secrets.send(new PutSecretValueCommand({ SecretId: id, SecretString: value })), retry);
}

/** Parses the join secret; throws naming the secret when it is not one Capstan wrote. */
export function parseJoinSecret(value: string | undefined, name: string): JoinSecret {
  const v = JSON.parse(value ?? '{}') as Partial<JoinSecret>;
  if (!v.token || !v.expires || !v.caCertHash) throw new Error(`secret ${name}: not a Capstan join secret (token, expires and caCertHash are required)`);
  return { token: v.token, expires: v.expires, caCertHash: v.caCertHash };
}

/** Parses the control-plane secret; throws naming the secret when it is not one Capstan wrote. */
export function parseControlPlaneSecret(value: string | undefined, name: string): ControlPlaneSecret {
  const v = JSON.parse(value ?? '{}') as Partial<ControlPlaneSecret>;
  if (!v.certificateKey || typeof v.pki !== 'object' || v.pki === null) throw new Error(`secret ${name}: not a Capstan control-plane secret (certificateKey and pki are required)`);
  return { certificateKey: v.certificateKey, pki: v.pki };
}

/**
 * Creates what is missing of the cluster's secrets and renews Capstan's admin kubeconfig when due; returns their ARNs
 * (`kubeconfig` only once it exists). Idempotent: a create retried after a crash reuses its ClientRequestToken, and
 * losing a create race (`ResourceExistsException`, also what a retry with other generated content gets) keeps the
 * winner's. The CAs and the token are generated once; nothing but the kubeconfig and the token ever changes.
 */
export async function ensureClusterSecrets(secrets: Secrets, cluster: Pick<ClusterRef, 'name' | 'uid'>, options: EnsureSecretsOptions): Promise<ClusterSecretRefs | (Omit<ClusterSecretRefs, 'kubeconfig'> & { kubeconfig?: string })> {
  const names = clusterSecretNames(cluster);
  const now = options.now ?? new Date();
  const retry = options.retry;
  const tagsOf = (kind: keyof ClusterSecretRefs) =>
    Object.entries({ ...options.tags, [SECRET_AUDIENCE_TAG]: SECRET_AUDIENCES[kind], [SECRET_VPC_TAG]: options.vpcId }).map(([Key, Value]) => ({ Key, Value }));
  const create = async (kind: keyof ClusterSecretRefs, value: string): Promise<string> => {
    const created = await withThrottleRetries('CreateSecret', async () => {
      try {
        const out = await secrets.send(
          new CreateSecretCommand({
            Name: names[kind],
            ClientRequestToken: requestToken(cluster.uid, kind),
            Description: `Capstan ${kind} secret of cluster ${cluster.name} (${cluster.uid}), read by: ${SECRET_AUDIENCES[kind]}`,
            SecretString: value,
            Tags: tagsOf(kind),
          }),
        );
        return out.ARN;
      } catch (error) {
        if (hasAwsCode(error, 'ResourceExistsException')) return undefined; // lost a race: keep the winner's
        throw error;
      }
    }, retry);
    const arn = created ?? (await describeSecret(secrets, names[kind], retry));
    if (!arn) throw new Error(`secret ${names[kind]} was created but cannot be described`);
    return arn;
  };

  const [cpArn, joinArn, kubeconfigArn] = await Promise.all([
    describeSecret(secrets, names.controlPlane, retry),
    describeSecret(secrets, names.join, retry),
    describeSecret(secrets, names.kubeconfig, retry),
  ]);

  // The CAs: made once, read back when something needs the cluster CA.
  const random = options.randomBytes ?? nodeRandomBytes;
  const controlPlane =
    cpArn ?? (await create('controlPlane', JSON.stringify({ certificateKey: random(32).toString('hex'), pki: pkiFiles(generateClusterPki(now)) } satisfies ControlPlaneSecret)));
  let ca: KeyPair | undefined;
  const clusterCa = async (): Promise<KeyPair> => {
    // Read back even after creating: a lost create race means the winner's CAs are the cluster's.
    ca ??= clusterCaOf(parseControlPlaneSecret(await readSecret(secrets, controlPlane, retry), names.controlPlane).pki);
    return ca;
  };

  const join =
    joinArn ??
    (await create(
      'join',
      JSON.stringify({
        token: generateBootstrapToken(random),
        expires: new Date(now.getTime() + BOOTSTRAP_TOKEN_TTL_MS).toISOString(),
        caCertHash: caCertHash((await clusterCa()).cert),
      } satisfies JoinSecret),
    ));

  let kubeconfig = kubeconfigArn;
  if (options.endpoint) {
    const make = async () => adminKubeconfig({ clusterName: cluster.name, server: options.endpoint!, ca: await clusterCa(), now });
    if (!kubeconfig && options.createKubeconfig) {
      kubeconfig = await create('kubeconfig', await make());
    } else if (kubeconfig) {
      const seen = inspectKubeconfig((await readSecret(secrets, kubeconfig, retry)) ?? '');
      if (!seen || seen.server !== options.endpoint || seen.notAfter.getTime() - now.getTime() < RENEW_BEFORE_MS) await writeSecret(secrets, kubeconfig, await make(), retry);
    }
  }
  return { join, controlPlane, ...(kubeconfig ? { kubeconfig } : {}) };
}

/**
 * Cross-account credentials: Capstan runs in the management account and acts in member accounts by assuming a role
 * there (STS AssumeRole with an ExternalId, the confused-deputy guard). One cache entry per role + region.
 *
 * Timeline of one cache entry (session ≤ 1 h, refresh margin 5 min):
 *
 *   AssumeRole ─────────────── reuse ─────────────────┬─ refresh window ─┬ Expiration
 *   t0                                                 t0+55m             t0+60m
 *
 * Note: callers get clients only inside `withMemberClients(scope, fn)`, which resolves credentials at call time.
 * Nothing keeps a client across a Step Functions wait, so an expired session can never be used.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ProviderScope } from '../../functions/domain/provider.js';
import { systemClock, type Clock } from '../../functions/domain/ports.js';
import { toProviderError } from './aws-errors.js';

/** Temporary credentials of one assumed-role session. */
export interface MemberCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** The SDK clients of one member account and region. */
export interface MemberClients {
  readonly ec2: EC2Client;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly secrets: SecretsManagerClient;
}

/** SDK attempts per call (the provider and the workflow retry on top; see aws-errors.ts). */
export const MEMBER_CLIENT_MAX_ATTEMPTS = 2;

/** Longest session Capstan asks for: role chaining caps sessions at 1 h anyway. */
export const MAX_SESSION_SECONDS = 3600;

/** Refresh this long before `Expiration`. */
export const REFRESH_MARGIN_SECONDS = 300;

/** The role Capstan assumes when the cluster names none. */
export function defaultMemberRoleArn(account: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:role/CapstanMemberRole`;
}

/** Builds member clients from credentials; the default makes real SDK clients with bounded attempts. */
export type MemberClientFactory = (region: string, credentials: MemberCredentialIdentity) => MemberClients;

/** Options of `MemberCredentials`. */
export interface MemberCredentialsOptions {
  /** ExternalId the member role's trust policy requires (from Capstan's config). */
  readonly externalId: string;
  /** @default 'capstan' */
  readonly sessionName?: string;
  /** Requested session length, capped at 3600. @default 3600 */
  readonly sessionDurationSeconds?: number;
  /** STS client for a region (the regional endpoint). @default new STSClient({ region }) */
  readonly stsClient?: (region: string) => Pick<STSClient, 'send'>;
  /** @default real EC2/ELBv2/SecretsManager clients */
  readonly clientFactory?: MemberClientFactory;
  /** @default systemClock */
  readonly clock?: Clock;
}

interface CacheEntry {
  readonly credentials: MemberCredentialIdentity;
  readonly clients: MemberClients;
}

const defaultClientFactory: MemberClientFactory = (region, credentials) => {
  const common = { region, credentials, maxAttempts: MEMBER_CLIENT_MAX_ATTEMPTS };
  return { ec2: new EC2Client(common), elb: new ElasticLoadBalancingV2Client(common), secrets: new SecretsManagerClient(common) };
};

/**
 * Assumes member roles and hands out clients for them, caching per role + region for less than the session's life.
 *
 * Why a class: the cache and the in-flight de-duplication (many concurrent calls for one account share one
 * AssumeRole) live for the life of a Lambda container.
 */
export class MemberCredentials {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<CacheEntry>>();
  private readonly stsClients = new Map<string, Pick<STSClient, 'send'>>();
  private readonly clock: Clock;
  private readonly durationSeconds: number;

  constructor(private readonly options: MemberCredentialsOptions) {
    if (options.externalId === '') throw new Error('externalId: must be non-empty (the member role trust policy requires it)');
    this.clock = options.clock ?? systemClock;
    this.durationSeconds = Math.min(MAX_SESSION_SECONDS, Math.max(900, options.sessionDurationSeconds ?? MAX_SESSION_SECONDS));
  }

  /** Fresh-or-cached credentials for the scope's member role. */
  async credentials(scope: ProviderScope): Promise<MemberCredentialIdentity> {
    return (await this.entry(scope)).credentials;
  }

  /**
   * Runs `fn` with clients of the scope's member account. Resolve inside, use inside: do not keep the clients.
   */
  async withMemberClients<T>(scope: ProviderScope, fn: (clients: MemberClients) => Promise<T>): Promise<T> {
    const entry = await this.entry(scope);
    return fn(entry.clients);
  }

  /** Forgets every cached session (tests; or after a role's trust policy changed). */
  clear(): void {
    this.cache.clear();
  }

  private async entry(scope: ProviderScope): Promise<CacheEntry> {
    if (scope.provider !== 'aws') throw new Error(`scope.provider: must be aws, got ${scope.provider}`);
    const roleArn = scope.roleArn ?? defaultMemberRoleArn(scope.account);
    const key = `${roleArn}|${scope.region}`;
    const cached = this.cache.get(key);
    const now = this.clock.now().getTime();
    if (cached && cached.credentials.expiration.getTime() - REFRESH_MARGIN_SECONDS * 1000 > now) return cached;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const promise = this.assume(roleArn, scope.region)
      .then((entry) => {
        this.cache.set(key, entry);
        return entry;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }

  private async assume(roleArn: string, region: string): Promise<CacheEntry> {
    const sts = this.sts(region);
    const requestedAt = this.clock.now().getTime();
    let response;
    try {
      response = await sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: this.options.sessionName ?? 'capstan',
          ExternalId: this.options.externalId,
          DurationSeconds: this.durationSeconds,
        }),
      );
    } catch (error) {
      throw toProviderError(error, { operation: `AssumeRole ${roleArn}` });
    }
    const c = response.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
      throw toProviderError(new Error('AssumeRole returned no credentials'), { operation: `AssumeRole ${roleArn}` });
    }
    // Never trust an expiration beyond what we asked for (clock skew, or a mock): cap at request time + duration.
    const cap = requestedAt + this.durationSeconds * 1000;
    const expiration = new Date(Math.min(c.Expiration?.getTime() ?? cap, cap));
    const credentials: MemberCredentialIdentity = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration,
    };
    return { credentials, clients: (this.options.clientFactory ?? defaultClientFactory)(region, credentials) };
  }

  private sts(region: string): Pick<STSClient, 'send'> {
    let client = this.stsClients.get(region);
    if (!client) {
      client = this.options.stsClient ? this.options.stsClient(region) : new STSClient({ region });
      this.stsClients.set(region, client);
    }
    return client;
  }
}

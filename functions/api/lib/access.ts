/**
 * Tenancy: a principal may act only on clusters in the accounts it is granted. A cluster the caller may not see
 * answers 404, exactly like one that does not exist, so existence never leaks across tenants.
 */
import { clusterAccount, type Cluster, type ClusterSpec } from '../../domain/cluster.js';
import { ForbiddenError, NotFoundError } from '../../domain/errors.js';
import type { Principal } from '../../domain/ports.js';

/** True when the principal may act on clusters of `account`. */
export function mayAccess(principal: Principal | undefined, account: string): boolean {
  if (!principal) return false;
  return principal.accounts.includes('*') || principal.accounts.includes(account);
}

/** The accounts filter for list calls: undefined = all. */
export function accountFilter(principal: Principal | undefined): readonly string[] | undefined {
  if (!principal) return [];
  return principal.accounts.includes('*') ? undefined : principal.accounts;
}

/** The cluster if it exists AND the caller may see it; else NotFoundError. */
export function visibleCluster(principal: Principal | undefined, name: string, cluster: Cluster | undefined): Cluster {
  if (!cluster || !mayAccess(principal, clusterAccount(cluster.spec))) throw new NotFoundError(`cluster ${JSON.stringify(name)} not found`);
  return cluster;
}

/** Refuses a spec that targets an account the caller is not granted (403: the caller named the account itself). */
export function assertMayTarget(principal: Principal | undefined, spec: Pick<ClusterSpec, 'infrastructure'>): void {
  const account = clusterAccount(spec);
  if (!mayAccess(principal, account)) throw new ForbiddenError(`spec.infrastructure.account: you are not granted account ${account}`);
}

/** Refuses non-admins. */
export function assertAdmin(principal: Principal | undefined): void {
  if (!principal?.admin) throw new ForbiddenError('only an administrator may manage principals');
}

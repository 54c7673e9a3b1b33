/**
 * The `World` of the evaluator over the in-memory AWS: the tags every resource has at the moment a request names it
 * (snapshotted as each request arrives, so deleted resources keep the tags they had), secret ARNs, listener ARNs,
 * route-table associations, and the deployment's trust and resource policies.
 */
import type { FakeAws } from '../../providers/aws-ec2/fake-aws.js';
import type { World } from './authorize.js';
import type { Deployment } from './deployment.js';

type Tags = Record<string, string>;

/** A world that follows `fake`: call before the requests to be evaluated are sent. */
export function followFakeAws(fake: FakeAws, deployment: Deployment): World & { snapshot(): void } {
  const tags = new Map<string, Tags>();
  const secrets = new Map<string, { arn: string; tags: Tags }>();
  const listeners = new Map<string, string>();
  const associations = new Map<string, string>();
  const slr = new Set<string>();
  const snapshot = (): void => {
    for (const r of fake.resources.values()) {
      tags.set(r.id, { ...r.tags });
      if (r.kind === 'listener' && r.lbArn) listeners.set(r.id, `${String(r.lbArn).replace(':loadbalancer/', ':listener/')}/${r.id}`);
      if (r.kind === 'rt') for (const a of r.associations ?? []) associations.set(a.id, r.id);
    }
    for (const [name, s] of fake.secrets) {
      secrets.set(name, { arn: s.arn, tags: { ...s.tags } });
      tags.set(s.arn, { ...s.tags });
    }
  };
  // Snapshot as each request arrives, before the fake acts on it.
  const push = fake.requests.push.bind(fake.requests);
  fake.requests.push = (...items) => {
    snapshot();
    return push(...items);
  };
  snapshot();
  return {
    snapshot,
    tags: (idOrArn) => tags.get(idOrArn),
    secretArn(nameOrArn) {
      if (nameOrArn.startsWith('arn:')) return nameOrArn;
      const known = secrets.get(nameOrArn) ?? (fake.secrets.get(nameOrArn) ? { arn: fake.secrets.get(nameOrArn)!.arn } : undefined);
      // A secret that does not exist yet (CreateSecret, or a read before creation): the ARN Secrets Manager would give it.
      return known?.arn ?? `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${nameOrArn}-AbCdEf`;
    },
    listenerArn: (id) => listeners.get(id) ?? id,
    routeTableOfAssociation: (id) => associations.get(id),
    roleOfInstanceProfile(name) {
      const role = deployment.instanceProfiles.get(name);
      if (!role) throw new Error(`no instance profile ${name} in the member stack`);
      return role.arn;
    },
    elbServiceLinkedRoleExists: (account) => slr.has(account),
    markElbServiceLinkedRole: (account) => void slr.add(account),
    trustPolicy: (arn) => deployment.roleByArn(arn)?.trust,
    resourcePolicy: (arn) => (arn === deployment.eventBusArn ? deployment.eventBusPolicy : undefined),
  };
}

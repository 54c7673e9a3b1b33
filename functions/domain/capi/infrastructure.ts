/**
 * Maps a cluster's infrastructure part onto Capstan's `spec.infrastructure`: `local` as is, AWS with its account
 * and role resolved through the AWSClusterRoleIdentity (or the account annotation).
 *
 * Its own file because resolving the AWS identity is the one part of assembly that looks up further documents and
 * has its own rules (the chain's last role, the annotation that must agree with it).
 */
import { describeRef, INFRASTRUCTURE_GROUP, type ManifestDoc } from './manifest.js';
import { type DraftCluster, readAwsClusterSpec, readLocalFailureDomains } from './mappers.js';
import { asStr, at } from './object.js';
import type { ClusterParts, ImportContext } from './parts.js';

/**
 * Annotation on a Cluster API Cluster that names the AWS account when no AWSClusterRoleIdentity does (CAPA's
 * default identity is the controller's own credentials, which Capstan does not have).
 */
export const ACCOUNT_ANNOTATION = 'capstan.dev/account';

const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::(\d{12}):role\/.+$/;

/** What the infrastructure part contributes to the draft: `spec.infrastructure`, failure domains and the VPC CIDR. */
export interface DraftInfrastructure {
  readonly infrastructure: NonNullable<DraftCluster['spec']>['infrastructure'];
  readonly failureDomains?: unknown;
  readonly vpcCidr?: unknown;
}

/**
 * The Capstan infrastructure of a cluster, with its AWS account resolved through the identity.
 *
 * Problems (a missing region, a missing or malformed identity, an account the annotation contradicts, no account
 * at all) are reported to `ctx.problems`; the identity documents used are added to `ctx.sources`.
 */
export function readInfrastructure(ctx: ImportContext, cluster: ManifestDoc, parts: ClusterParts): DraftInfrastructure {
  const { doc, spec, provider } = parts.infrastructure;
  if (provider === 'local') return { infrastructure: { provider: 'local' }, failureDomains: readLocalFailureDomains(spec) };

  const aws = readAwsClusterSpec(spec);
  const { problems } = ctx;
  const identityField = doc.kind === 'AWSCluster' ? 'spec.identityRef' : 'spec.template.spec.identityRef';
  if (aws.region === undefined) problems.invalidAt(doc, doc.kind === 'AWSCluster' ? 'spec.region' : 'spec.template.spec.region', 'required, got none');
  let account: string | undefined;
  let roleArn: string | undefined;
  let identityName: string | undefined;
  const ref = aws.identityRef;
  if (ref?.kind === 'AWSClusterRoleIdentity') {
    // The identity the cluster names is the LAST role of a chain (sourceIdentityRef points back towards the
    // controller): it is the account the cluster lives in, and the role Capstan assumes. Capstan assumes it
    // directly, so the jump roles before it are not used.
    const identity = ctx.index.find({ group: INFRASTRUCTURE_GROUP, kind: ref.kind, name: ref.name });
    if (!identity) {
      problems.invalidAt(doc, identityField, `${describeRef(ref)} is not in the documents; send it in the same request`);
    } else {
      ctx.sources.add(identity.index);
      identityName = identity.name;
      const arn = at(identity.body, 'spec', 'roleARN');
      const match = typeof arn === 'string' ? ROLE_ARN.exec(arn) : null;
      if (!match) problems.invalidAt(identity, 'spec.roleARN', `must be an IAM role ARN like arn:aws:iam::123456789012:role/name, got ${JSON.stringify(arn ?? null)}`);
      else [roleArn, account] = [match[0], match[1]];
    }
  } else if (ref && ref.kind !== 'AWSClusterControllerIdentity') {
    problems.unsupportedAt(doc, identityField, `kind ${ref.kind} is not supported yet; use an AWSClusterRoleIdentity`);
  } else if (ref) {
    const controller = ctx.index.find({ group: INFRASTRUCTURE_GROUP, kind: ref.kind, name: ref.name });
    if (controller) ctx.sources.add(controller.index);
  }

  const annotated = asStr(at(cluster.body, 'metadata', 'annotations', ACCOUNT_ANNOTATION));
  if (account !== undefined && annotated !== undefined && annotated !== account) {
    problems.invalidAt(cluster, `metadata.annotations["${ACCOUNT_ANNOTATION}"]`, `${annotated} contradicts account ${account} of AWSClusterRoleIdentity ${identityName ?? ''}`);
  }
  account ??= annotated;
  if (account === undefined && !(ref?.kind === 'AWSClusterRoleIdentity')) {
    problems.invalidAt(
      doc,
      identityField,
      `an AWS account is needed; add an AWSClusterRoleIdentity, annotate the Cluster with ${ACCOUNT_ANNOTATION}, or use a Capstan document`,
    );
  }
  return {
    infrastructure: {
      provider: 'aws',
      account,
      region: aws.region,
      roleArn,
      sshKeyName: aws.sshKeyName,
      vpcId: aws.vpcId,
      subnetIds: aws.subnetIds,
      tags: aws.tags,
    },
    failureDomains: aws.failureDomains,
    vpcCidr: aws.vpcCidr,
  };
}

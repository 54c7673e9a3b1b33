/**
 * The Capstan app as IAM sees it after a deploy: both stacks synthesised offline (no bundling), every CloudFormation
 * intrinsic of their IAM documents resolved to the concrete ARN it would have in a test management account and one
 * member account, and every role with its trust policy and all of its identity policies (inline, `AWS::IAM::Policy`
 * attached by `Roles`, AWS-managed by ARN from managed-policies.ts).
 *
 * Physical names follow CloudFormation's rules where a template names nothing: a role without `RoleName` is
 * `{stack}-{logicalId}` (CloudFormation appends a random suffix; IAM conditions here never depend on it), a secret's
 * ARN ends in the six random characters Secrets Manager appends (`-AbCdEf`).
 */
import { buildTestApp } from '../helpers.js';
import { AWS_MANAGED_POLICIES } from './managed-policies.js';

/** The accounts and settings of the evaluated deployment (the member account is the in-memory AWS's). */
export const DEPLOYMENT = {
  partition: 'aws',
  region: 'eu-west-1',
  managementAccount: '111111111111',
  memberAccount: '111122223333',
  organizationId: 'o-abc123defg45',
  /** What the EC2 test harness passes (test/providers/aws-ec2/ec2-harness.ts), so the member stack is deployed with it. */
  externalId: 'capstan-test',
} as const;

export type PolicyDocument = { Version?: string; Statement: Record<string, unknown>[] | Record<string, unknown> };

/** One IAM role of the deployment. */
export interface DeployedRole {
  readonly stack: 'management' | 'member';
  readonly logicalId: string;
  readonly account: string;
  readonly name: string;
  readonly arn: string;
  readonly trust: PolicyDocument;
  readonly identityPolicies: { name: string; policy: PolicyDocument }[];
}

/** The deployment: roles by logical ID, resource policies, the resolved templates. */
export interface Deployment {
  readonly roles: ReadonlyMap<string, DeployedRole>;
  /** The roles of instance profiles, by profile name. */
  readonly instanceProfiles: ReadonlyMap<string, DeployedRole>;
  /** The resource policy of the management account's event bus (all `AWS::Events::EventBusPolicy` statements). */
  readonly eventBusPolicy: PolicyDocument;
  readonly eventBusArn: string;
  /** The IAM resources of both templates with every intrinsic replaced. */
  readonly templates: { readonly management: any; readonly member: any };
  /** The AWS-managed policies attached somewhere, by name (for the report). */
  readonly managedPoliciesUsed: ReadonlySet<string>;
  /** The role of a management function by its catalog ID (`PhasePlan`, `ApiClusters`…). */
  functionRole(catalogId: string): DeployedRole;
  /** A member-stack role by its role name (`CapstanMemberRole`, `capstan-node`…). */
  memberRole(name: string): DeployedRole;
  /** A role by ARN. */
  roleByArn(arn: string): DeployedRole | undefined;
  /** The ARN of a resource of a stack, by the start of its logical ID (one match required). */
  arnOf(stack: 'management' | 'member', logicalIdPrefix: string): string;
}

interface StackEnv {
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
  readonly template: any;
}

/** Resolves one CloudFormation value of a template to what CloudFormation would make of it. */
export function resolveIntrinsics(value: unknown, env: StackEnv): any {
  const resolve = (v: unknown): any => resolveIntrinsics(v, env);
  if (Array.isArray(value)) return value.map(resolve);
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const arg = obj[key];
    if (key === 'Ref') return ref(arg as string, env);
    if (key === 'Fn::GetAtt') {
      const [id, attr] = typeof arg === 'string' ? (arg.split('.') as [string, string]) : (arg as [string, string]);
      return getAtt(id, attr, env);
    }
    if (key === 'Fn::Join') {
      const [sep, parts] = arg as [string, unknown[]];
      return (resolve(parts) as unknown[]).join(sep);
    }
    if (key === 'Fn::Select') {
      const [index, list] = arg as [unknown, unknown];
      return (resolve(list) as unknown[])[Number(resolve(index))];
    }
    if (key === 'Fn::Split') {
      const [sep, source] = arg as [string, unknown];
      return String(resolve(source)).split(sep);
    }
    if (key === 'Fn::Sub') {
      const [text, vars] = typeof arg === 'string' ? [arg, {}] : (arg as [string, Record<string, unknown>]);
      return text.replace(/\$\{([^}]+)\}/g, (_, name: string) =>
        name in vars ? String(resolve(vars[name])) : name.includes('.') ? String(getAtt(name.split('.')[0]!, name.split('.')[1]!, env)) : String(ref(name, env)),
      );
    }
    if (key.startsWith('Fn::')) throw new Error(`resolveIntrinsics: ${key} is not supported (stack ${env.stackName})`);
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolve(v)]));
}

const PSEUDO = (env: StackEnv): Record<string, string> => ({
  'AWS::Partition': DEPLOYMENT.partition,
  'AWS::AccountId': env.account,
  'AWS::Region': env.region,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': env.stackName,
});

function ref(name: string, env: StackEnv): any {
  const pseudo = PSEUDO(env)[name];
  if (pseudo !== undefined) return pseudo;
  const parameter = env.template.Parameters?.[name];
  if (parameter) {
    if (parameter.Default === undefined) throw new Error(`resolveIntrinsics: parameter ${name} has no default`);
    return parameter.Default;
  }
  const resource = env.template.Resources?.[name];
  if (!resource) throw new Error(`resolveIntrinsics: Ref to unknown ${name} in ${env.stackName}`);
  const p = resource.Properties ?? {};
  switch (resource.Type) {
    case 'AWS::IAM::Role':
      return roleName(name, env);
    case 'AWS::SecretsManager::Secret':
    case 'AWS::StepFunctions::StateMachine':
      return getAtt(name, 'Arn', env);
    case 'AWS::Events::EventBus':
      return resolveIntrinsics(p.Name, env);
    case 'AWS::SQS::Queue':
      return `https://sqs.${env.region}.amazonaws.com/${env.account}/${physicalName(name, env)}`;
    default:
      return physicalName(name, env);
  }
}

function physicalName(logicalId: string, env: StackEnv): string {
  return `${env.stackName}-${logicalId}`.slice(0, 64);
}

function roleName(logicalId: string, env: StackEnv): string {
  const p = env.template.Resources[logicalId].Properties ?? {};
  return p.RoleName ? resolveIntrinsics(p.RoleName, env) : physicalName(logicalId, env);
}

function getAtt(logicalId: string, attr: string, env: StackEnv): string {
  const resource = env.template.Resources?.[logicalId];
  if (!resource) throw new Error(`resolveIntrinsics: GetAtt of unknown ${logicalId} in ${env.stackName}`);
  const p = resource.Properties ?? {};
  const { account, region } = env;
  const named = (prop: unknown): string => (prop === undefined ? physicalName(logicalId, env) : resolveIntrinsics(prop, env));
  if (attr !== 'Arn') throw new Error(`resolveIntrinsics: GetAtt ${logicalId}.${attr} is not supported`);
  switch (resource.Type) {
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${account}:role${p.Path ?? '/'}${roleName(logicalId, env)}`;
    case 'AWS::DynamoDB::Table':
      return `arn:aws:dynamodb:${region}:${account}:table/${named(p.TableName)}`;
    case 'AWS::Logs::LogGroup':
      // The Arn attribute of a log group ends in `:*` (AWS::Logs::LogGroup return values).
      return `arn:aws:logs:${region}:${account}:log-group:${named(p.LogGroupName)}:*`;
    case 'AWS::SecretsManager::Secret':
      return `arn:aws:secretsmanager:${region}:${account}:secret:${named(p.Name)}-AbCdEf`;
    case 'AWS::SQS::Queue':
      return `arn:aws:sqs:${region}:${account}:${named(p.QueueName)}`;
    case 'AWS::Events::Rule':
      return `arn:aws:events:${region}:${account}:rule/${named(p.Name)}`;
    case 'AWS::Events::EventBus':
      return `arn:aws:events:${region}:${account}:event-bus/${named(p.Name)}`;
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${region}:${account}:function:${named(p.FunctionName)}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:aws:states:${region}:${account}:stateMachine:${named(p.StateMachineName)}`;
    default:
      throw new Error(`resolveIntrinsics: GetAtt Arn of ${resource.Type} is not supported`);
  }
}

/** The resource types whose properties hold IAM documents or names the evaluation needs (the ones resolved). */
const IAM_TYPES = ['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::InstanceProfile', 'AWS::Events::EventBus', 'AWS::Events::EventBusPolicy'];

function statements(doc: PolicyDocument): Record<string, unknown>[] {
  return Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
}

/** Synthesises the app once and builds the deployment model. */
export function synthesizeDeployment(context: Record<string, unknown> = {}): Deployment {
  const { app, stacks } = buildTestApp({
    managementAccount: DEPLOYMENT.managementAccount,
    region: DEPLOYMENT.region,
    organizationId: DEPLOYMENT.organizationId,
    memberAccounts: [DEPLOYMENT.memberAccount],
    externalId: DEPLOYMENT.externalId,
    ...context,
  });
  const assembly = app.synth();
  const envs = {
    management: { stackName: stacks.management.stackName, account: DEPLOYMENT.managementAccount, region: DEPLOYMENT.region, template: assembly.getStackByName(stacks.management.stackName).template },
    member: { stackName: stacks.member.stackName, account: DEPLOYMENT.memberAccount, region: DEPLOYMENT.region, template: assembly.getStackByName(stacks.member.stackName).template },
  };
  const managed = new Map(AWS_MANAGED_POLICIES.map((m) => [`arn:aws:iam::aws:policy/${m.name}`, m]));
  const managedPoliciesUsed = new Set<string>();
  const roles = new Map<string, DeployedRole>();
  const instanceProfiles = new Map<string, DeployedRole>();
  const resolved = { management: {} as any, member: {} as any };
  let eventBusArn = '';
  const busStatements: Record<string, unknown>[] = [];

  for (const which of ['management', 'member'] as const) {
    const env = envs[which];
    const resources = Object.fromEntries(
      Object.entries<any>(env.template.Resources)
        .filter(([, r]) => IAM_TYPES.includes(r.Type))
        .map(([id, r]) => [id, { Type: r.Type, Properties: resolveIntrinsics(r.Properties ?? {}, env) }]),
    );
    resolved[which] = { Resources: resources };
    for (const [id, r] of Object.entries<any>(resources)) {
      if (r.Type !== 'AWS::IAM::Role') continue;
      const identityPolicies: DeployedRole['identityPolicies'] = [];
      for (const inline of r.Properties.Policies ?? []) identityPolicies.push({ name: inline.PolicyName, policy: inline.PolicyDocument });
      for (const arn of r.Properties.ManagedPolicyArns ?? []) {
        const fixture = managed.get(arn);
        if (!fixture) throw new Error(`role ${id}: managed policy ${arn} has no document in managed-policies.ts`);
        managedPoliciesUsed.add(fixture.name);
        identityPolicies.push({ name: fixture.name, policy: fixture.document });
      }
      const name = roleName(id, env);
      roles.set(id, {
        stack: which,
        logicalId: id,
        account: env.account,
        name,
        arn: `arn:aws:iam::${env.account}:role${r.Properties.Path ?? '/'}${name}`,
        trust: r.Properties.AssumeRolePolicyDocument,
        identityPolicies,
      });
    }
    for (const [id, r] of Object.entries<any>(resources)) {
      if (r.Type === 'AWS::IAM::Policy') {
        for (const roleRef of env.template.Resources[id].Properties.Roles as { Ref: string }[]) {
          const role = roles.get(roleRef.Ref);
          if (!role) throw new Error(`policy ${id}: attached to ${roleRef.Ref}, which is not a role of ${env.stackName}`);
          role.identityPolicies.push({ name: r.Properties.PolicyName, policy: r.Properties.PolicyDocument });
        }
      }
      if (r.Type === 'AWS::IAM::InstanceProfile') {
        const roleRef = (env.template.Resources[id].Properties.Roles as { Ref: string }[])[0]!.Ref;
        instanceProfiles.set(r.Properties.InstanceProfileName, roles.get(roleRef)!);
      }
      if (r.Type === 'AWS::Events::EventBus') eventBusArn = getAtt(id, 'Arn', env);
      if (r.Type === 'AWS::Events::EventBusPolicy') busStatements.push(...statements({ Statement: r.Properties.Statement }));
    }
  }

  const byCatalogId = (catalogId: string): DeployedRole => {
    const found = [...roles.values()].filter((r) => r.stack === 'management' && new RegExp(`^ControlPlane${catalogId}Role[0-9A-F]{8}$`).test(r.logicalId));
    if (found.length !== 1) throw new Error(`no single execution role for function ${catalogId} (found ${found.length})`);
    return found[0]!;
  };
  return {
    roles,
    instanceProfiles,
    eventBusPolicy: { Version: '2012-10-17', Statement: busStatements },
    eventBusArn,
    templates: resolved,
    managedPoliciesUsed,
    functionRole: byCatalogId,
    roleByArn: (arn) => [...roles.values()].find((r) => r.arn === arn),
    arnOf(stack, prefix) {
      const env = envs[stack];
      const ids = Object.keys(env.template.Resources).filter((id) => id.startsWith(prefix) && /[0-9A-F]{8}$/.test(id) && id.length === prefix.length + 8);
      if (ids.length !== 1) throw new Error(`arnOf: ${ids.length} resources of ${stack} named ${prefix}…`);
      return getAtt(ids[0]!, 'Arn', env);
    },
    memberRole(name) {
      const found = [...roles.values()].find((r) => r.stack === 'member' && r.name === name);
      if (!found) throw new Error(`no member-stack role named ${name}`);
      return found;
    },
  };
}

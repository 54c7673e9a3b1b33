/**
 * The REST API of {@link CapstanControlPlane}: the API with its resource policy, stage settings and request
 * validator, and one method per catalog route. Its own file because the API is the largest part of the construct and
 * the part reviewers read for who may call what.
 *
 * Note: every construct is created in the control plane's scope with the IDs it always had (`ApiAccessLogs`, `Api`,
 * `RequestValidator`, the resources and methods under `Api`): construct IDs are API, renaming one replaces a resource.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
  type IResource as IApiResource,
  type LambdaIntegration,
  type RequestValidator,
} from 'aws-cdk-lib/aws-apigateway';
import { AccountPrincipal, AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { CapstanControlPlaneProps } from './control-plane-props.js';
import { API_FUNCTIONS, type ApiRoute } from '../catalog/index.js';

/** The API stage; the public URL is `https://{api}.execute-api.{region}.{suffix}/{stage}/`. */
export const API_STAGE_NAME = 'prod';

/** The routes that skip IAM auth. */
export function publicRoutes(): ApiRoute[] {
  return API_FUNCTIONS.flatMap((f) => (f.routes as readonly ApiRoute[]).filter((r) => r.public));
}

/** The REST API and the request validator every method uses. */
export interface ControlPlaneApi {
  readonly api: RestApi;
  readonly requestValidator: RequestValidator;
}

/**
 * Creates the REST API in `scope`: IAM auth by default, a resource policy admitting the organisation and the allowed
 * accounts (and anyone to the public routes), access logs, tracing and throttling (harder on the public routes).
 */
export function createControlPlaneApi(
  scope: Construct,
  props: CapstanControlPlaneProps,
  allowedAccounts: readonly string[],
  logRetention: RetentionDays,
): ControlPlaneApi {
  const statements: PolicyStatement[] = [];
  if (props.organizationId) {
    statements.push(
      new PolicyStatement({
        sid: 'OrganizationPrincipals',
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': props.organizationId } },
      }),
    );
  }
  if (allowedAccounts.length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'AllowedAccounts',
        principals: allowedAccounts.map((a) => new AccountPrincipal(a)),
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
      }),
    );
  }
  statements.push(
    new PolicyStatement({
      sid: 'PublicRoutes',
      effect: Effect.ALLOW,
      principals: [new AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: publicRoutes().map((r) => `execute-api:/*/${r.method}${r.path.replace(/\{[^}]+\}/g, '*')}`),
    }),
  );

  const accessLogs = new LogGroup(scope, 'ApiAccessLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
  const publicRate = props.publicThrottlingRateLimit ?? 10;
  const api = new RestApi(scope, 'Api', {
    description: 'Capstan control plane API',
    endpointTypes: [EndpointType.REGIONAL],
    policy: new PolicyDocument({ statements }),
    defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
    cloudWatchRole: props.configureApiGatewayAccount ?? true,
    cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
    deployOptions: {
      stageName: API_STAGE_NAME,
      tracingEnabled: true,
      metricsEnabled: true,
      loggingLevel: MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
      throttlingRateLimit: props.throttlingRateLimit ?? 50,
      throttlingBurstLimit: props.throttlingBurstLimit ?? 100,
      accessLogDestination: new LogGroupLogDestination(accessLogs),
      accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
      methodOptions: Object.fromEntries(
        publicRoutes().map((r) => [
          `${r.path}/${r.method}`,
          { throttlingRateLimit: publicRate, throttlingBurstLimit: publicRate * 2, loggingLevel: MethodLoggingLevel.ERROR, metricsEnabled: true },
        ]),
      ),
    },
  });
  const requestValidator = api.addRequestValidator('RequestValidator', { validateRequestBody: true, validateRequestParameters: true });
  Validations.of(api).acknowledge(
    {
      id: 'AwsSolutions-APIG3',
      reason: 'IAM (SigV4) auth, an organisation/account resource policy and stage throttling protect the API; a WAF adds cost without a rule worth having.',
    },
    { id: 'AwsSolutions-COG4', reason: 'The API authenticates AWS principals with IAM (SigV4), not Cognito user pools.' },
  );
  if (api.node.tryFindChild('CloudWatchRole')) {
    Validations.of(api.node.findChild('CloudWatchRole')).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: 'The account-wide API Gateway logging role; AWS maintains this managed policy for exactly that purpose.',
    });
  }
  return { api, requestValidator };
}

/** Adds one catalog route to the API: IAM auth unless the route is public, path parameters required and validated. */
export function addApiRoute({ api, requestValidator }: ControlPlaneApi, route: ApiRoute, integration: LambdaIntegration): void {
  const resource: IApiResource = api.root.resourceForPath(route.path);
  const params = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  const method = resource.addMethod(route.method, integration, {
    authorizationType: route.public ? AuthorizationType.NONE : AuthorizationType.IAM,
    requestValidator,
    requestParameters: Object.fromEntries(params.map((p) => [`method.request.path.${p}`, true])),
  });
  if (route.public) {
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        route.path === '/healthz'
          ? 'The health check is public so that load balancers and uptime probes need no AWS credentials; it reveals nothing.'
          : 'Booting machines have no AWS credentials of the management account; they authenticate with a one-time machine token the handler checks.',
    });
  }
}

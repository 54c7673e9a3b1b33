/**
 * One catalog, two hostings (issue 15): the CDK construct (read from the synthesised template) and the local host
 * (what a started local stack routes, runs and triggers) expose exactly the functions of infra/catalog/ — the API
 * routes with their authorization, the workflow's ASL substitutions, the scheduled and event-driven functions — and
 * every catalog entry's handler file exists and exports `handler`.
 *
 * Each side is written as the same set of lines (`GET /healthz public ApiHealthz`), so a failure shows what one side
 * has and the other lacks.
 */
import { jest } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { CATALOG_FUNCTIONS, PHASE_FUNCTIONS, ROUTES, TRIGGERED_FUNCTIONS } from '../../infra/catalog/index.js';
import { REPOSITORY_ROOT } from '../../infra/constructs/capstan-function.js';
import { startLocalStack, type LocalStack } from '../../infra/local/stack.js';
import type { ManagementStack } from '../../infra/stacks/management-stack.js';
import { apiMethods, buildTestApp, ORG_CONTEXT } from './helpers.js';

let stack: ManagementStack;
let template: Template;
let assemblyDir: string;
let local: LocalStack;
let home: string;

beforeAll(async () => {
  const { app, stacks } = buildTestApp({ ...ORG_CONTEXT });
  stack = stacks.management;
  template = Template.fromStack(stack);
  assemblyDir = app.synth().directory;
  home = mkdtempSync(path.join(tmpdir(), 'capstan-catalog-'));
  // The defaults of `npm start`: reconcile timer and machine watch on.
  local = await startLocalStack({ home, persist: false });
}, 120_000);

afterAll(async () => {
  await local?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** The module of a catalog entry, as the test runner loads it. */
async function entryModule(entry: string): Promise<Record<string, unknown>> {
  return (await import(path.join(REPOSITORY_ROOT, entry))) as Record<string, unknown>;
}

/** Catalog ID of every Lambda function of the template, by logical ID: the ID of the construct owning it. */
function functionIdsByLogicalId(): Map<string, string> {
  const ids = new Map<string, string>();
  for (const construct of stack.node.findAll()) {
    if (construct instanceof CfnFunction) ids.set(stack.getLogicalId(construct), construct.node.scope!.node.id);
  }
  return ids;
}

/** The catalog ID of the one function a template value refers to (an integration URI, a target, an ARN). */
function functionIn(value: unknown): string {
  const text = JSON.stringify(value);
  const found = [...functionIdsByLogicalId()].filter(([logicalId]) => text.includes(`"${logicalId}"`)).map(([, id]) => id);
  if (found.length !== 1) throw new Error(`expected one function in ${text}, found ${JSON.stringify(found)}`);
  return found[0]!;
}

const sorted = (lines: readonly string[]): string[] => [...lines].sort();

describe('the function catalog', () => {
  it.each(CATALOG_FUNCTIONS.map((f) => ({ id: f.id, entry: f.entry })))('has $id in $entry, which exports handler', async ({ entry }) => {
    // Act
    const exists = existsSync(path.join(REPOSITORY_ROOT, entry));
    const module = await entryModule(entry);

    // Assess
    expect(exists).toBe(true);
    expect(typeof module.handler).toBe('function');
  });

  it('gives every function one ID and one entry', () => {
    // Act
    const ids = CATALOG_FUNCTIONS.map((f) => f.id);
    const entries = CATALOG_FUNCTIONS.map((f) => f.entry);

    // Assess
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(entries).size).toBe(entries.length);
  });
});

describe('the CDK construct and the local host expose the same functions', () => {
  const catalogRoutes = sorted(ROUTES.map((r) => `${r.method} ${r.resource} ${r.auth ? 'auth' : 'public'} ${r.functionId}`));
  const catalogPhases = sorted(PHASE_FUNCTIONS.map((p) => `${p.substitution} ${p.id}`));
  const catalogTriggers = sorted(TRIGGERED_FUNCTIONS.map((f) => `${f.trigger} ${f.id}`));

  it('deploys exactly the catalog functions', () => {
    // Act
    const deployed = sorted([...functionIdsByLogicalId().values()]);

    // Assess
    expect(deployed).toEqual(sorted(CATALOG_FUNCTIONS.map((f) => f.id)));
    expect(Object.keys(template.findResources('AWS::Lambda::Function'))).toHaveLength(CATALOG_FUNCTIONS.length);
  });

  it('deploys the catalog routes with IAM auth on exactly the routes that need credentials', () => {
    // Act
    const deployed = apiMethods(template).map((m) => {
      const auth = m.authorizationType === 'AWS_IAM' ? 'auth' : m.authorizationType === 'NONE' ? 'public' : m.authorizationType;
      return `${m.verb} ${m.path} ${auth} ${functionIn(m.integrationUri)}`;
    });

    // Assess
    expect(sorted(deployed)).toEqual(catalogRoutes);
  });

  it('serves the catalog routes locally, authenticating exactly the routes that need credentials', async () => {
    // Prepare
    const authenticate = jest.spyOn(local.deps, 'authenticate');

    // Act
    const served: string[] = [];
    for (const route of local.hosting.routes) {
      authenticate.mockClear();
      const res = await fetch(`${local.url}${route.resource.replace(/\{[^}]+\}/g, 'catalog-x')}`, { method: route.method });
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      const routed = res.status !== 405 && !(res.status === 404 && body.error?.message?.startsWith('no route'));
      served.push(`${route.method} ${route.resource} ${authenticate.mock.calls.length > 0 ? 'auth' : 'public'} ${route.functionId}${routed ? '' : ' (not routed)'}`);
    }
    authenticate.mockRestore();

    // Assess
    expect(sorted(served)).toEqual(catalogRoutes);
  });

  it('substitutes every ASL placeholder with the catalog phase function, and every Lambda ARN of the definition is one', () => {
    // Prepare
    const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0]!;
    const definition = readFileSync(path.join(assemblyDir, `asset.${sm.Properties.DefinitionS3Location.Key as string}`), 'utf8');
    const substitutions = sm.Properties.DefinitionSubstitutions as Record<string, unknown>;

    // Act
    const deployed = Object.entries(substitutions).map(([name, arn]) => `${name} ${functionIn(arn)}`);
    const placeholders = new Set([...definition.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!));

    // Assess
    expect(sorted(deployed)).toEqual(catalogPhases);
    expect(sorted([...placeholders])).toEqual(sorted(Object.keys(substitutions)));
  });

  it('runs the catalog phase function for every ASL placeholder locally', () => {
    // Act
    const hosted = Object.entries(local.hosting.phases).map(([name, phase]) => `${name} ${phase.functionId}`);

    // Assess
    expect(sorted(hosted)).toEqual(catalogPhases);
  });

  it('triggers the catalog scheduled and event functions by rules', () => {
    // Act
    const rules = Object.values(template.findResources('AWS::Events::Rule')).map((rule) => {
      const kind = rule.Properties.ScheduleExpression ? 'schedule' : rule.Properties.EventPattern ? 'event' : 'unknown';
      return `${kind} ${functionIn(rule.Properties.Targets)}`;
    });

    // Assess
    expect(sorted(rules)).toEqual(catalogTriggers);
  });

  it('triggers the catalog scheduled and event functions locally (reconcile timer, machine watch)', () => {
    // Act
    const hosted = [...local.hosting.schedules.map((id) => `schedule ${id}`), ...local.hosting.events.map((id) => `event ${id}`)];

    // Assess
    expect(sorted(hosted)).toEqual(catalogTriggers);
    expect(local.machineWatch).toBeDefined();
  });

  it('calls, locally, the handler each catalog entry exports', async () => {
    // Prepare
    const entries = new Map(CATALOG_FUNCTIONS.map((f) => [f.id as string, f.entry]));
    const expected = async (id: string): Promise<unknown> => (await entryModule(entries.get(id)!)).handler;

    // Act
    const wrong: string[] = [];
    for (const route of local.hosting.routes) if (route.lambda !== (await expected(route.functionId))) wrong.push(`${route.method} ${route.resource}`);
    for (const [name, phase] of Object.entries(local.hosting.phases)) if (phase.handler !== (await expected(phase.functionId))) wrong.push(name);

    // Assess
    expect(wrong).toEqual([]);
  });
});

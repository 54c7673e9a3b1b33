/**
 * Topology Clusters: a Cluster with `spec.topology` names a ClusterClass, whose templates are copied and then
 * changed by the class's inline patches (driven by the topology's variables) — what the CAPI topology controller
 * does, done here once at import time, without a management cluster.
 *
 * Supported: v1beta1 (`ref`, `template.infrastructure.ref`, `machineHealthCheck`) and v1beta2 (`templateRef`,
 * `infrastructure.templateRef`, `healthCheck`) classes; variable defaults from `openAPIV3Schema.default` (also of
 * object properties); per-machineDeployment variable overrides; `enabledIf`; `value`, `valueFrom.variable`
 * (dotted paths, `builtin.*`) and `valueFrom.template` (the go-template.ts subset); selectors on `controlPlane`,
 * `infrastructureCluster` and `machineDeploymentClass`. External patches (runtime extensions) and topology
 * machinePools are refused as unsupported.
 */
import { parse as parseYaml } from 'yaml';
import { renderTemplate, TemplateUnsupportedError } from './go-template.js';
import { applyPatch, JsonPatchError } from './json-patch.js';
import { CLUSTER_GROUP, groupOf, type ManifestDoc } from './manifest.js';
import { providerOfKind, readDrainTimeout, readWorkerRollout, type DraftWorkerRollout } from './mappers.js';
import { asArr, asObj, asStr, at, clone, firstDefined, type Obj } from './object.js';
import { type ClusterParts, type ImportContext, type Located, resolveRef, type WorkerPart } from './parts.js';

/** Cluster infrastructure template kinds a ClusterClass may use. */
export const INFRA_TEMPLATE_KINDS = ['AWSClusterTemplate', 'DockerClusterTemplate', 'DevClusterTemplate'] as const;
/** Machine template kinds for control-plane and worker machines. */
export const MACHINE_TEMPLATE_KINDS = ['AWSMachineTemplate', 'DockerMachineTemplate', 'DevMachineTemplate'] as const;

type Role = 'infrastructureCluster' | 'controlPlane' | 'controlPlaneMachine' | 'workerBootstrap' | 'workerMachine';

/** A template copy that patches change. Worker templates are copied once per topology machineDeployment. */
interface Target {
  readonly role: Role;
  readonly doc: ManifestDoc;
  readonly body: Obj;
  readonly mdClass?: string;
  /** Variables as this target sees them (machineDeployment overrides and builtins included). */
  readonly vars: Obj;
}

/** A reference in v1beta1 (`<base>.ref`) or v1beta2 (`<base>.templateRef`) ClusterClass shape, with its field path. */
function classRef(owner: unknown, base: readonly string[], basePath: string): { value: unknown; field: string } {
  const v1 = at(owner, ...base, 'ref');
  return v1 !== undefined ? { value: v1, field: `${basePath}.ref` } : { value: at(owner, ...base, 'templateRef'), field: `${basePath}.templateRef` };
}

/** `value` with the defaults of an OpenAPI schema applied (the value itself, then properties of objects). */
function withDefaults(schema: unknown, value: unknown): unknown {
  const v = value === undefined ? clone(at(schema, 'default')) : value;
  const props = asObj(at(schema, 'properties'));
  const o = asObj(v);
  if (props && o) {
    for (const [key, propSchema] of Object.entries(props)) {
      const d = withDefaults(propSchema, o[key]);
      if (d !== undefined) o[key] = d;
    }
  }
  return v;
}

/** `{name: value}` from a list of `{name, value}` (topology variables and overrides). */
function namedValues(list: unknown): Obj {
  return Object.fromEntries((asArr(list) ?? []).map((v) => [asStr(at(v, 'name')) ?? '', clone(at(v, 'value'))]).filter(([n]) => n));
}

/** Reads a topology Cluster into parts, resolving its ClusterClass and applying the class's patches. */
export function readTopologyCluster(ctx: ImportContext, cluster: ManifestDoc, topology: Obj): ClusterParts | undefined {
  const { problems } = ctx;
  const v1Class = asStr(topology['class']);
  const className = v1Class ?? asStr(at(topology, 'classRef', 'name'));
  const classField = v1Class !== undefined ? 'spec.topology.class' : 'spec.topology.classRef';
  const ccDoc = resolveRef(ctx, cluster, classField, className && { apiGroup: CLUSTER_GROUP, kind: 'ClusterClass', name: className }, ['ClusterClass']);
  if ((asArr(at(topology, 'workers', 'machinePools')) ?? []).length) {
    problems.unsupportedAt(cluster, 'spec.topology.workers.machinePools', 'MachinePools are not supported yet; use machineDeployments');
  }
  if (!ccDoc) return undefined;
  const cc = asObj(ccDoc.body['spec']) ?? {};

  const infraRef = classRef(cc, ['infrastructure'], 'spec.infrastructure');
  const infraDoc = resolveRef(ctx, ccDoc, infraRef.field, infraRef.value, INFRA_TEMPLATE_KINDS);
  const cpRef = classRef(cc, ['controlPlane'], 'spec.controlPlane');
  const cpDoc = resolveRef(ctx, ccDoc, cpRef.field, cpRef.value, ['KubeadmControlPlaneTemplate']);
  const cpMachineRef = classRef(cc, ['controlPlane', 'machineInfrastructure'], 'spec.controlPlane.machineInfrastructure');
  const cpMachineDoc = resolveRef(ctx, ccDoc, cpMachineRef.field, cpMachineRef.value, MACHINE_TEMPLATE_KINDS);

  // Variables: class defaults, then the topology's values.
  const values = namedValues(topology['variables']);
  const vars: Obj = {};
  for (const def of asArr(cc['variables']) ?? []) {
    const name = asStr(at(def, 'name'));
    if (!name) continue;
    const v = withDefaults(at(def, 'schema', 'openAPIV3Schema'), values[name]);
    if (v !== undefined) vars[name] = v;
  }
  for (const [name, v] of Object.entries(values)) if (!(name in vars)) vars[name] = v;
  const version = topology['version'];
  const cpReplicas = at(topology, 'controlPlane', 'replicas');
  const builtinBase = {
    cluster: { name: cluster.name, namespace: asStr(at(cluster.body, 'metadata', 'namespace')) ?? 'default', topology: { version, class: className } },
    controlPlane: { version, replicas: cpReplicas },
  };
  const globalVars: Obj = { ...vars, builtin: builtinBase };

  const targets: Target[] = [];
  const addTarget = (role: Role, doc: ManifestDoc | undefined, targetVars: Obj, mdClass?: string): Target | undefined => {
    if (!doc) return undefined;
    const target: Target = { role, doc, body: clone(doc.body), vars: targetVars, ...(mdClass ? { mdClass } : {}) };
    targets.push(target);
    return target;
  };
  const infra = addTarget('infrastructureCluster', infraDoc, globalVars);
  const cp = addTarget('controlPlane', cpDoc, globalVars);
  const cpMachine = addTarget('controlPlaneMachine', cpMachineDoc, globalVars);

  // Workers: one set of template copies per topology machineDeployment.
  const classes = (asArr(at(cc, 'workers', 'machineDeployments')) ?? []).map((c) => asObj(c) ?? {});
  const workers: { md: Obj; classDef: Obj; machine: Target | undefined; field: string }[] = [];
  (asArr(at(topology, 'workers', 'machineDeployments')) ?? []).forEach((raw, i) => {
    const md = asObj(raw) ?? {};
    const field = `spec.topology.workers.machineDeployments[${i}]`;
    const mdClass = asStr(md['class']);
    const classDef = classes.find((c) => c['class'] === mdClass);
    if (!mdClass || !classDef) {
      problems.invalidAt(cluster, `${field}.class`, `ClusterClass ${ccDoc.name} has no machineDeployment class ${JSON.stringify(md['class'] ?? null)}`);
      return;
    }
    const classIndex = classes.indexOf(classDef);
    const base = `spec.workers.machineDeployments[${classIndex}]`;
    const v1Template = classDef['template'] !== undefined;
    const machineRef = classRef(classDef, v1Template ? ['template', 'infrastructure'] : ['infrastructure'], `${base}${v1Template ? '.template' : ''}.infrastructure`);
    const bootstrapRef = classRef(classDef, v1Template ? ['template', 'bootstrap'] : ['bootstrap'], `${base}${v1Template ? '.template' : ''}.bootstrap`);
    const machineDoc = resolveRef(ctx, ccDoc, machineRef.field, machineRef.value, MACHINE_TEMPLATE_KINDS);
    const bootstrapDoc = resolveRef(ctx, ccDoc, bootstrapRef.field, bootstrapRef.value, ['KubeadmConfigTemplate']);
    const mdVars: Obj = {
      ...vars,
      ...namedValues(at(md, 'variables', 'overrides')),
      builtin: {
        ...builtinBase,
        machineDeployment: { version, class: mdClass, name: `${cluster.name}-${asStr(md['name']) ?? ''}`, topologyName: md['name'], replicas: md['replicas'] },
      },
    };
    addTarget('workerBootstrap', bootstrapDoc, mdVars, mdClass);
    workers.push({ md, classDef, machine: addTarget('workerMachine', machineDoc, mdVars, mdClass), field });
  });

  applyPatches(ctx, ccDoc, cc, globalVars, targets);

  if (!infra || !cp || !cpMachine) return undefined;
  const provider = providerOfKind(infra.doc.kind);
  if (!provider) return undefined;
  const templateSpec = (t: Target): Located => ({ doc: t.doc, spec: asObj(at(t.body, 'spec', 'template', 'spec')) ?? {} });

  const cpTopology = asObj(topology['controlPlane']) ?? {};
  const healthChecks: (Located & { field: string })[] = [];
  const addHealthCheck = (topologyOwner: Obj, topologyField: string, classOwner: Obj, classField: string): void => {
    const fromTopology = asObj(firstDefined(topologyOwner['machineHealthCheck'], topologyOwner['healthCheck']));
    const key = topologyOwner['machineHealthCheck'] !== undefined ? 'machineHealthCheck' : 'healthCheck';
    if (fromTopology && (fromTopology['enable'] === false || fromTopology['enabled'] === false)) return;
    if (fromTopology) healthChecks.push({ doc: cluster, spec: fromTopology, field: `${topologyField}.${key}` });
    const classKey = classOwner['machineHealthCheck'] !== undefined ? 'machineHealthCheck' : 'healthCheck';
    const fromClass = asObj(classOwner[classKey]);
    if (fromClass) healthChecks.push({ doc: ccDoc, spec: fromClass, field: `${classField}.${classKey}` });
  };
  addHealthCheck(cpTopology, 'spec.topology.controlPlane', asObj(cc['controlPlane']) ?? {}, 'spec.controlPlane');

  const workerParts: WorkerPart[] = [];
  for (const { md, classDef, machine, field } of workers) {
    addHealthCheck(md, field, classDef, `spec.workers.machineDeployments[${classes.indexOf(classDef)}]`);
    if (!machine) continue;
    const fromClass = readWorkerRollout(classDef);
    const fromTopology = readWorkerRollout(md);
    const drain = readDrainTimeout(md);
    workerParts.push({
      name: asStr(md['name']) ?? '',
      replicas: md['replicas'],
      ...(fromClass || fromTopology ? { rollout: mergeRollouts(fromTopology, fromClass) } : {}),
      failureDomain: firstDefined(md['failureDomain'], classDef['failureDomain'], at(classDef, 'template', 'failureDomain')),
      annotations: at(md, 'metadata', 'annotations'),
      machine: templateSpec(machine),
      ...(drain !== undefined ? { drainTimeout: { value: drain, doc: cluster, field: `${field}.${md['nodeDrainTimeout'] !== undefined ? 'nodeDrainTimeout' : 'deletion.nodeDrainTimeoutSeconds'}` } } : {}),
    });
  }
  const cpDrain = readDrainTimeout(cpTopology);
  return {
    infrastructure: { ...templateSpec(infra), provider },
    version,
    controlPlane: {
      ...templateSpec(cp),
      replicas: cpReplicas,
      machine: templateSpec(cpMachine),
      ...(cpDrain !== undefined ? { drainTimeout: { value: cpDrain, doc: cluster, field: `spec.topology.controlPlane.${cpTopology['nodeDrainTimeout'] !== undefined ? 'nodeDrainTimeout' : 'deletion.nodeDrainTimeoutSeconds'}` } } : {}),
    },
    workers: workerParts,
    healthChecks,
  };
}

function mergeRollouts(first: DraftWorkerRollout | undefined, second: DraftWorkerRollout | undefined): DraftWorkerRollout {
  const keys = ['strategy', 'maxSurge', 'maxUnavailable', 'after', 'deletionOrder'] as const;
  return Object.fromEntries(keys.map((k) => [k, firstDefined(first?.[k], second?.[k])])) as DraftWorkerRollout;
}

/** Whether a patch definition's selector picks `target`. */
function selects(selector: unknown, target: Target): boolean {
  const apiVersion = asStr(at(selector, 'apiVersion'));
  if (at(selector, 'kind') !== target.doc.kind || (apiVersion !== undefined && groupOf(apiVersion) !== target.doc.group)) return false;
  const match = at(selector, 'matchResources');
  switch (target.role) {
    case 'infrastructureCluster':
      return at(match, 'infrastructureCluster') === true;
    case 'controlPlane':
    case 'controlPlaneMachine':
      return at(match, 'controlPlane') === true;
    default:
      return (asArr(at(match, 'machineDeploymentClass', 'names')) ?? []).includes(target.mdClass);
  }
}

/** Value a variable path (`region`, `podSecurityStandard.enforce`, `builtin.cluster.name`) has, or undefined. */
function lookupVariable(vars: Obj, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => asObj(v)?.[key], vars);
}

/** Applies the class's inline patches, in order, to the target copies; problems are reported against the class. */
function applyPatches(ctx: ImportContext, ccDoc: ManifestDoc, cc: Obj, globalVars: Obj, targets: readonly Target[]): void {
  const report = (error: unknown, field: string): void => {
    if (error instanceof TemplateUnsupportedError) ctx.problems.unsupportedAt(ccDoc, field, `${error.message} yet`);
    else if (error instanceof JsonPatchError) ctx.problems.invalidAt(ccDoc, field, error.message);
    else if (error instanceof Error && error.name.startsWith('YAML')) ctx.problems.invalidAt(ccDoc, field, `template does not render to YAML: ${error.message}`);
    else throw error;
  };
  (asArr(cc['patches']) ?? []).forEach((patch, pi) => {
    const field = `spec.patches[${pi}]`;
    if (at(patch, 'external') !== undefined) {
      ctx.problems.unsupportedAt(ccDoc, `${field}.external`, 'external patches (runtime extensions) are not supported yet');
      return;
    }
    const enabledIf = asStr(at(patch, 'enabledIf'));
    try {
      if (enabledIf !== undefined && renderTemplate(enabledIf, globalVars).trim() !== 'true') return;
    } catch (error) {
      report(error, `${field}.enabledIf`);
      return;
    }
    (asArr(at(patch, 'definitions')) ?? []).forEach((definition, di) => {
      const selected = targets.filter((t) => selects(at(definition, 'selector'), t));
      (asArr(at(definition, 'jsonPatches')) ?? []).forEach((raw, oi) => {
        const opField = `${field}.definitions[${di}].jsonPatches[${oi}]`;
        const op = at(raw, 'op');
        const path = asStr(at(raw, 'path'));
        if ((op !== 'add' && op !== 'replace' && op !== 'remove') || path === undefined) {
          ctx.problems.invalidAt(ccDoc, opField, `must have op add, replace or remove and a path, got ${JSON.stringify({ op, path })}`);
          return;
        }
        for (const target of selected) {
          try {
            let value = at(raw, 'value');
            const variable = asStr(at(raw, 'valueFrom', 'variable'));
            const template = asStr(at(raw, 'valueFrom', 'template'));
            if (variable !== undefined) {
              value = clone(lookupVariable(target.vars, variable));
              // Like Cluster API: a patch from an unset (optional) variable is skipped.
              if (value === undefined) continue;
            } else if (template !== undefined) {
              value = parseYaml(renderTemplate(template, target.vars)) as unknown;
            }
            applyPatch(target.body, op === 'remove' ? { op, path } : { op, path, value: clone(value) });
          } catch (error) {
            report(error, opField);
          }
        }
      });
    });
  });
}

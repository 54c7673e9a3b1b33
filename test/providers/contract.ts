/**
 * The provider contract suite: one `it` per testable MUST/SHOULD rule of functions/domain/provider.ts (P1–P12, P6a),
 * run against every provider (`describeProviderContract('local', makeLocalHarness)`, the EC2 provider with SDK mocks).
 *
 * A provider joins by writing a harness factory. The harness is deliberately small:
 *
 * | field          | required | what it is                                                                          |
 * |----------------|----------|-------------------------------------------------------------------------------------|
 * | provider       | yes      | the provider under test, over a fresh, empty "cloud"                                |
 * | scope, cluster | yes      | where the suite creates machines (`cluster.scope === scope`)                         |
 * | spec           | yes      | a valid ClusterSpec for that provider                                               |
 * | callbacks      | yes      | `waitForReady(machine)` resolving when the machine called back WITH ITS TOKEN, or `undefined` when the harness cannot observe callbacks (P6 is then not generated) |
 * | bootstrapFor   | no       | the BootstrapConfig for a machine (default: a dummy loopback URL and a per-machine token) |
 * | faults         | no       | `{ kinds, inject(kind), clear() }`: after `inject(kind)` EVERY provider call fails with that named error until `clear()`; P5 runs once per kind |
 * | reopen         | no       | a new provider over the same cloud (a restarted control plane), used to list orphans |
 * | cleanup        | yes      | removes everything the test made                                                     |
 *
 * Each `it` gets a fresh harness (make → test → cleanup), so tests never share machines.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { ClusterSpec } from '../../functions/domain/cluster.js';
import type {
  BootstrapConfig,
  ClusterRef,
  CreateMachineRequest,
  MachineProvider,
  ProviderMachine,
  ProviderScope,
} from '../../functions/domain/provider.js';

/** A provider fault the harness can inject, and the error name the provider MUST then raise (P5). */
export const PROVIDER_FAULT_ERRORS = {
  throttled: 'ProviderThrottledError',
  unavailable: 'ProviderUnavailableError',
  capacity: 'ProviderCapacityError',
  rejected: 'ProviderRejectedError',
} as const;
export type ProviderFaultKind = keyof typeof PROVIDER_FAULT_ERRORS;

/** What a provider's test file hands the contract suite (see the table above). */
export interface ProviderHarness {
  readonly provider: MachineProvider;
  readonly scope: ProviderScope;
  readonly cluster: ClusterRef;
  readonly spec: ClusterSpec;
  readonly callbacks: { waitForReady(machine: string): Promise<void> } | undefined;
  readonly bootstrapFor?: (machine: string) => BootstrapConfig;
  readonly faults?: {
    readonly kinds: readonly ProviderFaultKind[];
    inject(kind: ProviderFaultKind): void;
    clear(): void;
  };
  readonly reopen?: () => MachineProvider;
  cleanup(): Promise<void>;
}

/** Options of the suite itself. */
export interface ContractOptions {
  /** Fault kinds to generate P5 tests for, known when the suite is declared (jest needs them before `make`). @default [] */
  readonly faultKinds?: readonly ProviderFaultKind[];
  /** Whether the harness observes callbacks (P6 is generated only then). @default true */
  readonly observesCallbacks?: boolean;
  /** How long to wait for a node to register or a callback to arrive. @default 10000 */
  readonly readyTimeoutMs?: number;
  /** Whether the harness's control-plane machines run real etcd members (P10, P11 are generated only then). @default false */
  readonly etcd?: boolean;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Registers the contract suite for one provider. */
export function describeProviderContract(name: string, make: () => Promise<ProviderHarness>, options: ContractOptions = {}): void {
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;

  describe(`provider contract: ${name}`, () => {
    let h: ProviderHarness;
    let counter = 0;

    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    const bootstrap = (machine: string): BootstrapConfig =>
      h.bootstrapFor?.(machine) ?? { callbackUrl: 'http://127.0.0.1:9/ready', callbackToken: `contract-token-${machine}-${counter}` };

    const request = (machine: string, overrides: Partial<CreateMachineRequest> = {}): CreateMachineRequest => ({
      cluster: h.cluster,
      name: machine,
      role: 'worker',
      pool: 'md-0',
      version: h.spec.version,
      template: { instanceType: 'm6i.large' },
      failureDomain: h.spec.failureDomains[0] ?? 'local-a',
      bootstrap: bootstrap(machine),
      spec: h.spec,
      ...overrides,
    });

    const machineName = (suffix: string) => `${h.cluster.name}-md-0-${suffix}-${++counter}`;

    const live = (machines: readonly ProviderMachine[], machine: string) =>
      machines.filter((m) => m.name === machine && m.state !== 'terminated');

    async function waitForNode(cluster: ClusterRef, machine: string): Promise<void> {
      const deadline = Date.now() + readyTimeoutMs;
      while (Date.now() < deadline) {
        const node = await h.provider.getNode(cluster, machine);
        if (node?.ready) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`node ${machine} not Ready within ${readyTimeoutMs} ms`);
    }

    describe('createMachine', () => {
      it('P1 returns the machine already made when called again with the same name', async () => {
        const machine = machineName('p1');
        const first = await h.provider.createMachine(request(machine));
        const second = await h.provider.createMachine(request(machine));
        expect(second.providerId).toBe(first.providerId);
        expect(live(await h.provider.listMachines(h.scope), machine)).toHaveLength(1);
      });

      it('P1 creates exactly one machine when two calls race', async () => {
        const machine = machineName('race');
        const results = await Promise.all([h.provider.createMachine(request(machine)), h.provider.createMachine(request(machine))]);
        expect(new Set(results.map((r) => r.providerId)).size).toBe(1);
        expect(live(await h.provider.listMachines(h.scope), machine)).toHaveLength(1);
      });

      it('P1 keys idempotency on the cluster uid: another incarnation of the cluster gets its own machine', async () => {
        const machine = machineName('uid');
        const other: ClusterRef = { ...h.cluster, uid: `${h.cluster.uid}-2` };
        const first = await h.provider.createMachine(request(machine));
        const second = await h.provider.createMachine(request(machine, { cluster: other }));
        expect(second.providerId).not.toBe(first.providerId);
        expect(second.clusterUid).toBe(other.uid);
      });
    });

    describe('listMachines', () => {
      it('P2 returns every machine with its identity, also to a provider that never made it (orphans)', async () => {
        const worker = machineName('w');
        const cp = `${h.cluster.name}-cp-${++counter}`;
        await h.provider.createMachine(request(worker));
        await h.provider.createMachine(request(cp, { role: 'control-plane', pool: 'control-plane' }));

        const listed = await (h.reopen?.() ?? h.provider).listMachines(h.scope, { cluster: h.cluster.name });

        expect(listed.filter((m) => m.state !== 'terminated').map((m) => ({ name: m.name, cluster: m.cluster, clusterUid: m.clusterUid, pool: m.pool, role: m.role })).sort((a, b) => a.name.localeCompare(b.name))).toEqual(
          [
            { name: worker, cluster: h.cluster.name, clusterUid: h.cluster.uid, pool: 'md-0', role: 'worker' },
            { name: cp, cluster: h.cluster.name, clusterUid: h.cluster.uid, pool: 'control-plane', role: 'control-plane' },
          ].sort((a, b) => a.name.localeCompare(b.name)),
        );
        for (const m of listed) {
          expect(m.providerId).toMatch(/^[a-z0-9-]+:\/\//);
          expect(Number.isNaN(Date.parse(m.launchedAt))).toBe(false);
        }
      });

      it('P3 lists the machines of every cluster of the scope in one call, and narrows by cluster on request', async () => {
        const other: ClusterRef = { ...h.cluster, name: `${h.cluster.name}-b`, uid: `${h.cluster.uid}-b` };
        const a = machineName('a');
        const b = `${other.name}-md-0-${++counter}`;
        await h.provider.createMachine(request(a));
        await h.provider.createMachine(request(b, { cluster: other }));

        const all = await h.provider.listMachines(h.scope);
        const narrowed = await h.provider.listMachines(h.scope, { cluster: other.name });

        expect(all.map((m) => m.name).sort()).toEqual([a, b].sort());
        expect(narrowed.map((m) => `${m.cluster}/${m.name}`)).toEqual([`${other.name}/${b}`]);
      });
    });

    describe('deleteMachine', () => {
      it('P4 treats an already-deleted machine as success', async () => {
        const machine = machineName('p4');
        const created = await h.provider.createMachine(request(machine));
        await h.provider.deleteMachine(h.scope, created);
        await expect(h.provider.deleteMachine(h.scope, created)).resolves.toBeUndefined();
        expect(live(await h.provider.listMachines(h.scope), machine)).toEqual([]);
      });

      it('P4 treats a machine that never existed as success', async () => {
        await expect(
          h.provider.deleteMachine(h.scope, { name: machineName('never'), cluster: h.cluster.name, providerId: '' }),
        ).resolves.toBeUndefined();
      });
    });

    describe('errors', () => {
      it.each((options.faultKinds ?? []).map((kind) => [kind, PROVIDER_FAULT_ERRORS[kind]] as const))(
        'P5 fails with the named error when the provider is %s (%s), and leaves no machine behind',
        async (kind, errorName) => {
          const machine = machineName(kind);
          if (!h.faults?.kinds.includes(kind)) throw new Error(`harness of ${name} does not offer fault ${kind}`);
          h.faults.inject(kind);
          await expect(h.provider.createMachine(request(machine))).rejects.toMatchObject({ name: errorName });
          h.faults.clear();
          expect(live(await h.provider.listMachines(h.scope), machine)).toEqual([]);
        },
      );

      it('P5 still lists after a fault is cleared (faults are per call, not sticky)', async () => {
        const kind = options.faultKinds?.[0];
        const machine = machineName('clear');
        if (kind && h.faults) {
          h.faults.inject(kind);
          await expect(h.provider.listMachines(h.scope)).rejects.toHaveProperty('name', PROVIDER_FAULT_ERRORS[kind]);
          h.faults.clear();
        }
        await h.provider.createMachine(request(machine));
        expect(live(await h.provider.listMachines(h.scope), machine)).toHaveLength(1);
      });
    });

    if (options.observesCallbacks ?? true) {
      describe('Ready callback', () => {
        it('P6 calls bootstrap.callbackUrl with the machine-scoped token when the machine is Ready', async () => {
          const machine = machineName('p6');
          expect(h.provider.callsBack).toBe(true);
          if (!h.callbacks) throw new Error(`harness of ${name} observes no callbacks: pass observesCallbacks: false`);
          await h.provider.createMachine(request(machine));
          await expect(withTimeout(h.callbacks.waitForReady(machine), readyTimeoutMs, `${machine} callback`)).resolves.toBeUndefined();
        });
      });
    }

    describe('node health', () => {
      it('P6a lists the registered nodes of the cluster in one call: Ready, cordoned, and no entry for a machine without a node', async () => {
        // Prepare
        const ready = machineName('ready');
        const cordoned = machineName('cordoned');
        await h.provider.createMachine(request(ready));
        await h.provider.createMachine(request(cordoned));
        await waitForNode(h.cluster, ready);
        await waitForNode(h.cluster, cordoned);
        await h.provider.cordon(h.cluster, cordoned);

        // Act
        const nodes = await h.provider.listNodes(h.cluster);

        // Assess
        expect({ ready: nodes.get(ready), cordoned: nodes.get(cordoned) }).toEqual({ ready: { ready: true, cordoned: false }, cordoned: { ready: true, cordoned: true } });
        expect(nodes.has(machineName('never'))).toBe(false);
        expect(await h.provider.getNode(h.cluster, cordoned)).toMatchObject(nodes.get(cordoned)!);
      });
    });

    describe('infrastructure', () => {
      it('P7 ensureInfrastructure is idempotent and reports the same status', async () => {
        const first = await h.provider.ensureInfrastructure(h.cluster, h.spec);
        const second = await h.provider.ensureInfrastructure(h.cluster, h.spec);
        expect(first.ready).toBe(true);
        expect(second).toEqual(first);
        expect(first.controlPlaneEndpoint).toMatch(/^https:\/\//);
      });

      it('P7 deleteInfrastructure is not done while a machine remains, then converges and stays done', async () => {
        await h.provider.ensureInfrastructure(h.cluster, h.spec);
        const machine = await h.provider.createMachine(request(machineName('infra')));

        expect(await h.provider.deleteInfrastructure(h.cluster, h.spec)).toEqual({ done: false });
        await h.provider.deleteMachine(h.scope, machine);
        let done = false;
        for (let i = 0; i < 20 && !done; i++) done = (await h.provider.deleteInfrastructure(h.cluster, h.spec)).done;

        expect(done).toBe(true);
        expect(await h.provider.deleteInfrastructure(h.cluster, h.spec)).toEqual({ done: true });
      });
    });

    describe('cordon and drain', () => {
      it('P8 cordon is idempotent', async () => {
        const machine = machineName('cordon');
        await h.provider.createMachine(request(machine));
        await waitForNode(h.cluster, machine);
        await h.provider.cordon(h.cluster, machine);
        await h.provider.cordon(h.cluster, machine);
        expect(await h.provider.getNode(h.cluster, machine)).toMatchObject({ cordoned: true });
      });

      it('P8 drain evicts every pod, cordons, and a second drain is a no-op that reports done', async () => {
        const machine = machineName('drain');
        await h.provider.createMachine(request(machine));
        await waitForNode(h.cluster, machine);

        const first = await h.provider.drain(h.cluster, machine, { timeoutSeconds: 10, force: false });
        const second = await h.provider.drain(h.cluster, machine, { timeoutSeconds: 10, force: false });

        expect(first).toEqual({ done: true });
        expect(second).toEqual({ done: true });
        expect(await h.provider.getNode(h.cluster, machine)).toMatchObject({ cordoned: true, pods: 0 });
      });
    });

    describe('Node deletion', () => {
      it('P12 deleteNode removes the Node of a deleted machine, and an absent Node is success', async () => {
        // Prepare
        const machine = machineName('p12');
        const created = await h.provider.createMachine(request(machine));
        await waitForNode(h.cluster, machine);
        await h.provider.deleteMachine(h.scope, created);
        // Act
        await h.provider.deleteNode(h.cluster, machine);
        // Assess
        await expect(h.provider.deleteNode(h.cluster, machine)).resolves.toBeUndefined();
        await expect(h.provider.deleteNode(h.cluster, machineName('never'))).resolves.toBeUndefined();
        expect(await h.provider.getNode(h.cluster, machine)).toBeUndefined();
        expect((await h.provider.listNodes(h.cluster)).has(machine)).toBe(false);
      });
    });

    if (options.etcd) {
      describe('etcd membership', () => {
        const cp = (n: number) => `${h.cluster.name}-cp-${n}`;
        const createCp = async (name: string) => {
          await h.provider.createMachine(request(name, { role: 'control-plane', pool: 'control-plane' }));
          await waitForNode(h.cluster, name);
        };

        it('P10 P11 each control-plane machine is one member; removal moves leadership off, removes, and is idempotent', async () => {
          // Prepare
          for (const n of [1, 2, 3]) await createCp(cp(n));
          const before = await h.provider.listEtcdMembers(h.cluster);
          const leader = before.find((m) => m.leader);
          // Act
          const first = await h.provider.removeControlPlaneMember(h.cluster, leader!.name);
          const again = await h.provider.removeControlPlaneMember(h.cluster, leader!.name);
          // Assess
          expect(before.map((m) => ({ name: m.name, healthy: m.healthy, learner: m.learner })).sort((a, b) => a.name.localeCompare(b.name))).toEqual(
            [1, 2, 3].map((n) => ({ name: cp(n), healthy: true, learner: false })),
          );
          expect(first).toMatchObject({ removed: true, leadershipMoved: true });
          expect([...first.members].sort()).toEqual([1, 2, 3].map(cp).filter((n) => n !== leader!.name));
          expect(again).toMatchObject({ removed: false, leadershipMoved: false });
          const after = await h.provider.listEtcdMembers(h.cluster);
          expect(after.map((m) => m.name).sort()).toEqual([...first.members].sort());
          expect(after.filter((m) => m.leader)).toHaveLength(1);
        }, 60_000);

        it('P11 fails with ProviderUnavailableError rather than remove the last member', async () => {
          await createCp(cp(1));
          await expect(h.provider.removeControlPlaneMember(h.cluster, cp(1))).rejects.toMatchObject({ name: 'ProviderUnavailableError' });
          expect((await h.provider.listEtcdMembers(h.cluster)).map((m) => m.name)).toEqual([cp(1)]);
        }, 60_000);
      });
    }

    describe('secrets', () => {
      it('P9 never returns the callback token from create or list', async () => {
        const machine = machineName('p9');
        const boot = bootstrap(machine);
        const created = await h.provider.createMachine(request(machine, { bootstrap: boot }));
        const listed = await h.provider.listMachines(h.scope);
        expect(JSON.stringify([created, listed])).not.toContain(boot.callbackToken);
      });
    });
  });
}

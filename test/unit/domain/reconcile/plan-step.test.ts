/**
 * decidePlanStep's event rule: every status write is preceded by the readiness events of the machines that became
 * Ready since the previous status write, whatever the step does (a create-only step, a lane's step), so a crash of a
 * Ready callback between its record write and its event append can never leave the log without them.
 */
import { DEFAULT_SETTINGS } from '../../../../functions/adapters/deps.js';
import { decidePlanStep } from '../../../../functions/domain/reconcile/plan-step.js';
import { cluster, machine, machines, pool, T0 } from '../planner/fixtures.js';

const at = (s: number) => new Date(T0.getTime() + s * 1000).toISOString();

describe('decidePlanStep readiness events', () => {
  // A cluster scaling md-0 from 1 to 3 (create-only steps); md-0-1 became Ready after the last status write.
  const c = cluster({ workers: [pool('md-0', 3)] });
  const base = { ...c, status: { ...c.status, lastUpdated: at(0) } };
  const records = [...machines('control-plane', 3), machine('md-0', 1, { createdAt: at(-60), readyAt: at(30), providerId: 'local:///1' }), machine('md-0', 2, { createdAt: at(-90), readyAt: at(-60) })];

  it.each([
    ['the execution\'s Plan', {}],
    ['a lane\'s plan step', { lane: { name: 'md-0', budget: 10_000 } }],
  ])('appends MachineCreated and MachineReady of a machine Ready since the last write on a create-only step (%s)', (_name, cursor) => {
    // Act
    const d = decidePlanStep({ cluster: base, machines: records, now: new Date(at(40)), settings: DEFAULT_SETTINGS, cursor: { execution: 'x', iteration: 1, historyEvents: 0, ...cursor } });
    // Assess
    expect(d.output.plan.intents.every((i) => i.kind === 'CreateMachine')).toBe(true);
    expect(d.status).toBeDefined();
    expect(d.events.filter((e) => e.machine?.startsWith('demo-md-0')).map((e) => `${e.type} ${e.machine}`)).toEqual(['MachineCreated demo-md-0-1', 'MachineReady demo-md-0-1']);
  });

  it('looks back only to the last status write (older readiness is already in the log)', () => {
    const d = decidePlanStep({ cluster: { ...base, status: { ...base.status, lastUpdated: at(36) } }, machines: records, now: new Date(at(40)), settings: DEFAULT_SETTINGS, cursor: { execution: 'x', iteration: 1, historyEvents: 0 } });
    expect(d.events.filter((e) => e.type === 'MachineReady')).toEqual([]);
  });
});

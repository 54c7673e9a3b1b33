/**
 * The demo's core, end to end on the in-process local stack with fast machines: create, one-line upgrade, replayed
 * guarantees, cleanup.
 */
import { demoClusterYaml, runDemo } from '../../cli/demo.js';
import { sink } from './helpers.js';

describe('runDemo', () => {
  it('upgrades 3 control-plane and 3 worker machines and reports that every guarantee held', async () => {
    // Prepare
    const out = sink();
    // Act
    const summary = await runDemo({ out, env: {}, bootMs: 200, drainMsPerPod: 10, pollMs: 50, timeoutSeconds: 60 });
    // Assess
    const text = out.text();
    expect(summary.failures).toEqual([]);
    expect(summary.ok).toBe(true);
    expect(summary.upgradeCompleted).toBe(true);
    expect(summary.replay?.replaced).toHaveLength(6);
    expect(summary.replay?.waves).toBe(6);
    expect(summary.replay?.checks.map((c) => [c.rule, c.ok])).toEqual([['MaxSurge', true], ['MaxUnavailable', true], ['Quorum', true], ['ControlPlaneFirst', true], ['EtcdMembership', true]]);
    expect(summary.replay?.ratio).toBeGreaterThanOrEqual(1);
    expect(summary.cleanup).toEqual({ ok: true, machinesLeft: [] });
    expect(text).toContain('-  version: v1.18.8');
    expect(text).toContain('+  version: v1.19.1');
    expect(text).toMatch(/demo-cp-1 +cordoned, draining[\s\S]*demo-cp-1 +deleted[\s\S]*demo-md-0-1 +cordoned, draining/);
    expect(text).toMatch(/lower bound +6 waves ×/);
    expect(text).toContain('every guarantee held');
    expect(text).not.toContain('\u001b[');
  }, 90_000);
});

describe('demoClusterYaml', () => {
  it('differs between the two commits in exactly one line', () => {
    const before = demoClusterYaml('demo', 'v1.18.8').split('\n');
    const after = demoClusterYaml('demo', 'v1.19.1').split('\n');
    const changed = before.map((line, i) => [line, after[i]]).filter(([a, b]) => a !== b);
    expect(changed).toEqual([['  version: v1.18.8', '  version: v1.19.1']]);
  });
});

/**
 * NodeMonitor: a silent agent keeps its last reported health for the grace period, then reads Ready=Unknown.
 */
import type { NodeStatus } from '../../../../functions/domain/provider.js';
import { NodeMonitor } from '../../../../providers/local/node-monitor.js';

const GRACE_MS = 40_000;
const READY: NodeStatus = { ready: true, cordoned: true, pods: 3 };
const UNKNOWN: NodeStatus = { ready: false, readyStatus: 'Unknown', cordoned: true, pods: 3 };

describe('NodeMonitor', () => {
  it.each<[string, (m: NodeMonitor) => void, number, NodeStatus | undefined]>([
    ['last reported health within the grace period', (m) => m.reported('k', READY, 0), GRACE_MS - 1, READY],
    ['Ready=Unknown with the last cordon and pods once the grace period has passed', (m) => m.reported('k', READY, 0), GRACE_MS, UNKNOWN],
    ['no information when it never answered, within the grace of its first silent look', (m) => m.silent('k', 0), GRACE_MS - 1, undefined],
    ['Ready=Unknown when it never answered, once the grace of its first silent look passed', (m) => m.silent('k', 0), GRACE_MS, { ready: false, readyStatus: 'Unknown', cordoned: false, pods: 0 }],
    ['no node when it last answered that its node is not registered', (m) => m.reported('k', undefined, 0), GRACE_MS * 2, undefined],
    ['a fresh grace period after it was forgotten', (m) => (m.reported('k', READY, 0), m.forget('k')), GRACE_MS * 2, undefined],
  ])('gives a silent agent %s', (_case, history, nowMs, expected) => {
    // Prepare
    const monitor = new NodeMonitor(GRACE_MS);
    history(monitor);

    // Act
    const node = monitor.silent('k', nowMs);

    // Assess
    expect(node).toEqual(expected);
  });

  it('counts the grace period from the last answer, not the first', () => {
    const monitor = new NodeMonitor(GRACE_MS);
    monitor.reported('k', READY, 0);
    monitor.reported('k', { ...READY, cordoned: false }, 30_000);
    expect({ before: monitor.isUnknown('k', 30_000 + GRACE_MS - 1), after: monitor.isUnknown('k', 30_000 + GRACE_MS) }).toEqual({ before: false, after: true });
  });
});

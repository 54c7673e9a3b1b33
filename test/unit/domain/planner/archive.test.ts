/** Archiving Deleted machine records: retention, the per-pool ordinal high-water mark, names never reused. */
import { archivableMachines, nextOrdinal } from '../../../../functions/domain/planner/machines.js';
import { machine, T0 } from './fixtures.js';

const HOUR = 3600;
const deletedAgo = (seconds: number) => ({ phase: 'Deleted' as const, deletedAt: new Date(T0.getTime() - seconds * 1000).toISOString() });

describe('archivableMachines', () => {
  it('archives Deleted records past the retention, keeping each pool’s highest ordinal', () => {
    const records = [
      machine('md-0', 1, deletedAgo(3 * HOUR)),
      machine('md-0', 2, deletedAgo(2 * HOUR)),
      machine('md-0', 3, deletedAgo(2 * HOUR)), // the pool's highest ordinal: kept
      machine('control-plane', 1, deletedAgo(5 * HOUR)),
      machine('control-plane', 2),
    ];
    expect(archivableMachines(records, T0, HOUR)).toEqual(['demo-md-0-1', 'demo-md-0-2', 'demo-cp-1']);
  });

  it('keeps records deleted within the retention, and every record that is not Deleted', () => {
    const records = [
      machine('md-0', 1, deletedAgo(HOUR - 1)),
      machine('md-0', 2, { phase: 'Failed', failedAt: new Date(T0.getTime() - 10 * HOUR * 1000).toISOString() }),
      machine('md-0', 3, { phase: 'Draining' }),
      machine('md-0', 4),
    ];
    expect(archivableMachines(records, T0, HOUR)).toEqual([]);
  });

  it('never makes nextOrdinal hand out a name that was used before', () => {
    const records = [machine('md-0', 1, deletedAgo(9 * HOUR)), machine('md-0', 2, deletedAgo(9 * HOUR)), machine('md-0', 3, deletedAgo(9 * HOUR))];
    const archived = new Set(archivableMachines(records, T0, HOUR));
    const kept = records.filter((m) => !archived.has(m.name));
    expect(kept.map((m) => m.ordinal)).toEqual([3]);
    expect(nextOrdinal(kept, 'md-0')).toBe(nextOrdinal(records, 'md-0'));
  });
});

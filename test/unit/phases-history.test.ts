import { capWave, HISTORY_HANDOVER, intentEvents, WAVE_BUDGET } from '../../functions/domain/reconcile/history.js';

const create = { kind: 'CreateMachine' as const };
const retire = { kind: 'RetireMachine' as const };

describe('capWave', () => {
  it('keeps a wave whose worst case fits the budget whole', () => {
    const { wave, events } = capWave([create, retire, create]);
    expect(wave).toHaveLength(3);
    expect(events).toBe(intentEvents(create) * 2 + intentEvents(retire));
  });

  it('caps a 1,000-machine wave so that its worst case fits a fresh execution', () => {
    const { wave, events } = capWave(Array.from({ length: 1000 }, () => create));
    expect(wave.length).toBeLessThan(1000);
    expect(wave.length).toBe(Math.floor(WAVE_BUDGET / intentEvents(create)));
    expect(events).toBeLessThanOrEqual(WAVE_BUDGET);
    expect(events + WAVE_BUDGET).toBeLessThanOrEqual(HISTORY_HANDOVER);
  });

  it('always keeps at least one intent, whatever the budget', () => {
    expect(capWave([retire], 1).wave).toEqual([retire]);
  });

  it('keeps an empty wave empty', () => {
    expect(capWave([])).toEqual({ wave: [], events: 0 });
  });
});

import { parseGoDuration, toCapstanDuration } from '../../../../functions/domain/capi/index.js';

describe('parseGoDuration', () => {
  it.each([
    { text: '0', expected: 0 },
    { text: '300s', expected: 300 },
    { text: '10m0s', expected: 600 },
    { text: '1h30m', expected: 5400 },
    { text: '1.5h', expected: 5400 },
    { text: '2500ms', expected: 3 },
    { text: '100us', expected: 1 },
    { text: '0.1s', expected: 1 },
    { text: '1m0.3s', expected: 61 },
    { text: '', expected: undefined },
    { text: '-5s', expected: undefined },
    { text: '5', expected: undefined },
    { text: '5d', expected: undefined },
    { text: 'soon', expected: undefined },
  ])('reads "$text" as $expected seconds', ({ text, expected }) => {
    // Act
    const seconds = parseGoDuration(text);
    // Assess
    expect(seconds).toBe(expected);
  });
});

describe('toCapstanDuration', () => {
  it.each([
    { value: '300s' as unknown, expected: '5m' },
    { value: '90m', expected: '1h30m' },
    { value: 45, expected: '45s' },
    { value: 3605, expected: '1h5s' },
    { value: -1, expected: undefined },
    { value: 1.5, expected: undefined },
    { value: true, expected: undefined },
  ])('maps $value to $expected', ({ value, expected }) => {
    // Act
    const duration = toCapstanDuration(value);
    // Assess
    expect(duration).toBe(expected);
  });
});

import { cidrProblem, cidrsOverlap, formatCidr, parseCidr } from '../../../../functions/domain/spec/cidr.js';

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', 10 * 2 ** 24, 8],
    ['192.168.0.0/16', 192 * 2 ** 24 + 168 * 2 ** 16, 16],
    ['0.0.0.0/0', 0, 0],
    ['255.255.255.255/32', 2 ** 32 - 1, 32],
  ])('parses %s', (text, base, prefix) => {
    expect(parseCidr(text)).toEqual({ base, prefix });
    expect(formatCidr({ base, prefix })).toBe(text);
  });

  it.each([
    ['no prefix', '10.0.0.0', 'like 10.0.0.0/16'],
    ['three octets', '10.0.0/8', 'like 10.0.0.0/16'],
    ['an octet of 256', '10.256.0.0/16', 'octets 0..255'],
    ['a leading zero', '10.01.0.0/16', 'no leading zeros'],
    ['a prefix of 33', '10.0.0.0/33', 'prefix length of 0..32'],
    ['host bits', '10.0.1.0/16', 'did you mean 10.0.0.0/16?'],
    ['surrounding spaces', ' 10.0.0.0/8', 'like 10.0.0.0/16'],
  ])('fails when the block has %s', (_name, text, problem) => {
    expect(parseCidr(text)).toBeUndefined();
    expect(cidrProblem(text)).toContain(problem);
  });
});

describe('cidrsOverlap', () => {
  it.each([
    ['10.0.0.0/8', '10.96.0.0/12', true],
    ['10.96.0.0/12', '10.0.0.0/8', true],
    ['10.0.0.0/16', '10.0.0.0/16', true],
    ['10.0.0.0/16', '10.1.0.0/16', false],
    ['192.168.0.0/16', '10.96.0.0/12', false],
    ['10.96.0.0/12', '10.112.0.0/12', false],
    ['0.0.0.0/0', '172.16.0.0/12', true],
  ])('%s and %s overlap: %s', (a, b, overlap) => {
    expect(cidrsOverlap(parseCidr(a)!, parseCidr(b)!)).toBe(overlap);
  });
});

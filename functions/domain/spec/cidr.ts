/**
 * IPv4 CIDR blocks: parsing in the strict form Kubernetes expects, and overlap checks.
 *
 * Kubernetes (kubeadm `--pod-network-cidr`, `--service-cidr`) and EC2 reject a block whose address has host bits
 * set (`10.0.0.1/16`), so we do too: a user sees the mistake at the API instead of at bootstrap.
 */

/** A parsed IPv4 block: the network address as an unsigned 32-bit integer and its prefix length. */
export interface Ipv4Cidr {
  readonly base: number;
  readonly prefix: number;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const OCTET = /^(?:0|[1-9]\d{0,2})$/;

/** Why a string is not a valid CIDR, or undefined when it is one. The reason completes "must be …". */
export function cidrProblem(text: string): string | undefined {
  const m = CIDR.exec(text);
  if (!m) return 'an IPv4 CIDR block like 10.0.0.0/16';
  const octets = m.slice(1, 5) as string[];
  if (octets.some((o) => !OCTET.test(o) || Number(o) > 255)) return 'an IPv4 CIDR block with octets 0..255 and no leading zeros';
  const prefix = Number(m[5]);
  if (prefix > 32) return 'an IPv4 CIDR block with a prefix length of 0..32';
  const address = octets.reduce((acc, o) => acc * 256 + Number(o), 0);
  if (address % 2 ** (32 - prefix) !== 0) {
    return `an IPv4 CIDR block without host bits set (did you mean ${formatCidr({ base: address - (address % 2 ** (32 - prefix)), prefix })}?)`;
  }
  return undefined;
}

/** Parses `a.b.c.d/n`; undefined for anything `cidrProblem` rejects. */
export function parseCidr(text: string): Ipv4Cidr | undefined {
  if (cidrProblem(text) !== undefined) return undefined;
  const m = CIDR.exec(text) as RegExpExecArray;
  const base = (m.slice(1, 5) as string[]).reduce((acc, o) => acc * 256 + Number(o), 0);
  return { base, prefix: Number(m[5]) };
}

/** The canonical text of a block. */
export function formatCidr(cidr: Ipv4Cidr): string {
  const b = cidr.base;
  return `${Math.floor(b / 2 ** 24) % 256}.${Math.floor(b / 2 ** 16) % 256}.${Math.floor(b / 2 ** 8) % 256}.${b % 256}/${cidr.prefix}`;
}

/** Number of addresses in a block. */
export function cidrSize(cidr: Ipv4Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

/** True when the two blocks share at least one address (one contains the other, since blocks are aligned). */
export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
}

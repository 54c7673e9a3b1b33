/**
 * The loopback guard: in local mode and in every test, a TCP connection to anything but 127.0.0.0/8, ::1 or
 * `localhost` throws `NetworkBlockedError` before a packet leaves. This is what makes "no AWS call unless explicitly
 * opted in" a property of the process, not a convention (CAPSTAN_ENABLE_AWS=1 skips installing it).
 */
import net from 'node:net';
import tls from 'node:tls';

export class NetworkBlockedError extends Error {
  constructor(readonly host: string) {
    super(`network access to ${host} is blocked: local mode only talks to loopback (set CAPSTAN_ENABLE_AWS=1 to allow AWS)`);
    this.name = 'NetworkBlockedError';
  }
}

/** True for loopback hosts: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined || host === '') return true; // net defaults to localhost
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || h === '::ffff:127.0.0.1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

function targetHost(args: unknown[]): string | undefined {
  const [first, second] = args;
  if (typeof first === 'object' && first !== null && !Array.isArray(first)) {
    const o = first as { host?: string; path?: string; port?: unknown };
    if (o.path !== undefined && o.port === undefined) return 'localhost'; // unix socket
    return o.host ?? 'localhost';
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return 'localhost'; // unix socket path
  return typeof second === 'string' ? second : 'localhost';
}

let installed = false;

/** Installs the guard once per process. */
export function installLoopbackGuard(): void {
  if (installed) return;
  installed = true;
  const originalConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const normalized = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
    const host = targetHost(normalized);
    if (!isLoopbackHost(host)) throw new NetworkBlockedError(String(host));
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  const originalTlsConnect = tls.connect;
  (tls as { connect: typeof tls.connect }).connect = function guardedTlsConnect(...args: unknown[]) {
    const host = targetHost(args);
    if (!isLoopbackHost(host)) throw new NetworkBlockedError(String(host));
    return (originalTlsConnect as (...a: unknown[]) => tls.TLSSocket)(...args);
  } as typeof tls.connect;
}

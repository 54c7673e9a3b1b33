/**
 * Loopback HTTP calls from the local provider to a machine agent (the local stand-in for the Kubernetes API of
 * the workload cluster: node status, cordon, eviction).
 *
 * Note: every request uses a fresh connection (`agent: false`) so no keep-alive socket outlives a test or a Lambda
 * invocation, and a short timeout so a hung agent looks like an unreachable node, not a hung workflow.
 */
import http from 'node:http';

/** What an agent's `/healthz` (and every POST) answers. */
export interface AgentView {
  readonly registered: boolean;
  readonly ready: boolean;
  readonly cordoned: boolean;
  readonly pods: number;
  readonly draining: boolean;
  readonly blockedBy: readonly { readonly pod: string; readonly reason: string }[];
  /** Set by `/drain` when the dieDuringDrain fault makes the agent exit right after answering. */
  readonly dying?: boolean;
}

/** The agent could not be reached or answered garbage. */
export class AgentUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentUnreachableError';
  }
}

/** Calls one agent route on 127.0.0.1:`port`. */
export function callAgent(port: number, method: 'GET' | 'POST', route: string, body?: unknown, timeoutMs = 2000): Promise<AgentView> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: route,
        method,
        agent: false,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let raw = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (raw += c));
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300) {
            reject(new AgentUnreachableError(`agent ${method} ${route} answered ${res.statusCode}`));
            return;
          }
          try {
            resolve(JSON.parse(raw) as AgentView);
          } catch {
            reject(new AgentUnreachableError(`agent ${method} ${route} answered non-JSON`));
          }
        });
        res.on('error', (e) => reject(new AgentUnreachableError(e.message)));
      },
    );
    req.on('timeout', () => req.destroy(new AgentUnreachableError(`agent ${method} ${route} timed out after ${timeoutMs} ms`)));
    req.on('error', (e) => reject(e instanceof AgentUnreachableError ? e : new AgentUnreachableError(e.message)));
    req.end(payload);
  });
}

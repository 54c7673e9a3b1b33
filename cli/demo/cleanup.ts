/**
 * The demo's last step: delete the cluster and wait until no machine (and, in-process, no machine process) is left.
 *
 * Its own file because it is the one step that must run however the story ended (../demo.ts calls it from
 * `finally`), and it is the demo's proof that nothing leaks.
 */
import { ApiError, type ApiClient } from '../client.js';
import type { Teller } from './teller.js';

/** The outcome of the cleanup. */
export interface DemoCleanup {
  readonly ok: boolean;
  /** Machines still there at the deadline (or the error that stopped the delete). */
  readonly machinesLeft: readonly string[];
}

/** The part of the in-process local stack the cleanup reads: its provider's machine processes. */
export interface CleanupStack {
  readonly provider: { listMachines: (scope: any, filter: any) => Promise<any[]> };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Deletes cluster `name` and polls until the API no longer knows it and, with an in-process `stack`, no machine
 * process of it is left running.
 * @param deadline epoch milliseconds after which the machines still there are reported as left behind
 */
export async function cleanUp(tell: Teller, client: ApiClient, name: string, stack: CleanupStack | undefined, deadline: number, pollMs: number): Promise<DemoCleanup> {
  tell.title(`cleanup: DELETE /v1/clusters/${name}, wait until no machine process is left`);
  try {
    await client.request('DELETE', `/v1/clusters/${name}`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) return { ok: false, machinesLeft: [String((error as Error).message)] };
  }
  let left: string[] = [];
  for (;;) {
    let gone = false;
    try {
      left = ((await client.request('GET', `/v1/clusters/${name}/machines`)).body.items as any[]).map((m) => m.name);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      gone = true;
      left = [];
    }
    if (gone && stack) {
      const processes = await stack.provider.listMachines({ provider: 'local', account: 'local', region: 'local' }, { cluster: name });
      left = processes.filter((m) => m.state !== 'terminated').map((m) => m.name);
    }
    if (gone && !left.length) {
      tell.line(tell.paint('green', `  cluster ${name} deleted; no machine ${stack ? 'process ' : ''}left`));
      return { ok: true, machinesLeft: [] };
    }
    if (Date.now() > deadline) return { ok: false, machinesLeft: left };
    await sleep(pollMs);
  }
}

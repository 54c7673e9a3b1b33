/**
 * The local provider's view of a cluster's REAL etcd (P10, P11): every control-plane machine agent runs an etcd 3.4
 * member and describes it in `<machine dir>/etcd.json`; this module talks to the members through etcd's v3 JSON
 * gateway on their client URLs (https://etcd.io/docs/v3.4/dev-guide/api_grpc_gateway/), the same RPCs `etcdctl`
 * sends: MemberList, Status, MoveLeader (`/v3/maintenance/transfer-leadership`, served by the leader only),
 * MemberRemove (https://etcd.io/docs/v3.4/op-guide/runtime-configuration/#remove-a-member).
 *
 * Note: ids are uint64. The gateway serves them as decimal strings; we hand them out as hex, as `etcdctl` prints them.
 */
import http from 'node:http';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { describeMember, etcdLeaderCandidate, etcdRemovalRefusal } from '../../functions/domain/etcd.js';
import { ProviderUnavailableError } from '../../functions/domain/errors.js';
import type { EtcdMember, EtcdMemberRemoval } from '../../functions/domain/provider.js';
import { isEtcdOf } from './etcd-process.js';
import { listSubdirs } from './machine-dir.js';

/** What a machine agent writes to `etcd.json` (see machine-agent.mjs). */
export interface LocalEtcdInfo {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly state: 'adding' | 'starting' | 'started' | 'stopped' | 'failed';
  readonly pid?: number;
  readonly error?: string;
}

/** An etcd member as the gateway serves it. */
interface GatewayMember {
  readonly ID: string;
  readonly name?: string;
  readonly peerURLs?: readonly string[];
  readonly clientURLs?: readonly string[];
  readonly isLearner?: boolean;
}

/** Timeout of one gateway call: a member that does not answer within it counts as unhealthy. */
const CALL_TIMEOUT_MS = 1500;
/** How long a removal waits out etcd's "unhealthy cluster" answer (its health interval is 5 s). */
const UNHEALTHY_WAIT_MS = 8000;

const hex = (decimal: string) => BigInt(decimal).toString(16);
const decimal = (hexId: string) => BigInt(`0x${hexId}`).toString();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** POSTs to the v3 JSON gateway; rejects with etcd's own message (e.g. `etcdserver: member not found`). */
export function etcdGateway<T>(clientUrl: string, route: string, body: unknown = {}, timeoutMs = CALL_TIMEOUT_MS): Promise<T> {
  return new Promise((resolve, reject) => {
    const url = new URL(route, clientUrl);
    const payload = JSON.stringify(body);
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false, timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let raw = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (raw += c));
        res.on('end', () => {
          try {
            const parsed = JSON.parse(raw) as { error?: string; message?: string };
            if (res.statusCode !== 200 || parsed.error) reject(new Error(parsed.error ?? parsed.message ?? `HTTP ${res.statusCode}`));
            else resolve(parsed as T);
          } catch {
            reject(new Error(`etcd ${route}: non-JSON answer (HTTP ${res.statusCode})`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`etcd ${route} at ${clientUrl}: timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The etcd.json of every machine directory of the cluster uid, by machine name. */
export async function readEtcdInfos(clusterDir: string): Promise<Map<string, LocalEtcdInfo>> {
  const out = new Map<string, LocalEtcdInfo>();
  for (const name of await listSubdirs(clusterDir)) {
    try {
      out.set(name, JSON.parse(await fs.readFile(path.join(clusterDir, name, 'etcd.json'), 'utf8')) as LocalEtcdInfo);
    } catch {
      /* a worker, or a control-plane machine that has not picked its ports yet */
    }
  }
  return out;
}

/** One cluster's etcd, reached through the members its machine directories describe. */
export class LocalEtcd {
  constructor(private readonly clusterDir: string) {}

  /** Members with health and leadership (P10); [] when no machine describes a member. */
  async members(): Promise<EtcdMember[]> {
    return (await this.observe()).members;
  }

  private async observe(): Promise<{ members: EtcdMember[]; clientUrls: Map<string, string> }> {
    const infos = await readEtcdInfos(this.clusterDir);
    if (infos.size === 0) return { members: [], clientUrls: new Map() };
    // Only members whose etcd process runs can answer; a dead machine's etcd.json is no endpoint.
    const endpoints = [...infos]
      .filter(([machine, i]) => (i.state === 'started' || i.state === 'starting') && i.pid !== undefined && isEtcdOf(i.pid, path.join(this.clusterDir, machine)))
      .map(([, i]) => i.clientUrl);
    let listed: GatewayMember[] | undefined;
    let lastError: unknown;
    for (const url of endpoints) {
      try {
        listed = (await etcdGateway<{ members?: GatewayMember[] }>(url, '/v3/cluster/member/list')).members ?? [];
        break;
      } catch (error) {
        lastError = error;
      }
    }
    if (!listed) {
      // Every member we know of stopped: nothing of this cluster's etcd is left to answer.
      if (endpoints.length === 0) return { members: [], clientUrls: new Map() };
      throw new ProviderUnavailableError(`local etcd: no member answers (${endpoints.join(', ')}): ${(lastError as Error)?.message ?? 'no endpoint'}`);
    }
    const byPeer = new Map([...infos].map(([machine, info]) => [info.peerUrl, machine]));
    const statuses = await Promise.all(
      listed.map(async (m) => {
        const url = m.clientURLs?.[0];
        if (!url) return undefined;
        return etcdGateway<{ leader?: string }>(url, '/v3/maintenance/status').catch(() => undefined);
      }),
    );
    const leader = statuses.find((s) => s?.leader && s.leader !== '0')?.leader;
    const clientUrls = new Map<string, string>();
    const members = listed.map((m, i): EtcdMember => {
      const machine = (m.peerURLs ?? []).map((u) => byPeer.get(u)).find((n) => n !== undefined);
      const id = hex(m.ID);
      if (m.clientURLs?.[0]) clientUrls.set(id, m.clientURLs[0]);
      return {
        id,
        name: m.name ?? '',
        peerUrls: [...(m.peerURLs ?? [])],
        learner: m.isLearner === true,
        leader: leader !== undefined && leader === m.ID,
        // Healthy: it answers Status on its client URL and knows a leader (etcdctl endpoint health asks through consensus).
        healthy: statuses[i]?.leader !== undefined && statuses[i]?.leader !== '0',
        ...(machine !== undefined && machine !== m.name ? { machine } : {}),
      };
    });
    return { members, clientUrls };
  }

  /** Leadership off the machine's member if it leads, then member remove (P11). */
  async removeMachineMember(machine: string): Promise<EtcdMemberRemoval> {
    const { members } = await this.observe();
    const target = members.find((m) => m.name === machine || m.machine === machine);
    if (!target) return { removed: false, leadershipMoved: false, members: members.map(describeMember) };
    return this.removeMember(target.id);
  }

  /** Removes the member `id` (hex) with the quorum check of functions/domain/etcd.ts; absent = success. */
  async removeMember(id: string): Promise<EtcdMemberRemoval> {
    let { members, clientUrls } = await this.observe();
    const target = members.find((m) => m.id === id);
    if (!target) return { removed: false, leadershipMoved: false, members: members.map(describeMember) };
    const refusal = etcdRemovalRefusal(members, id);
    if (refusal) throw new ProviderUnavailableError(`local etcd: refusing to remove a member: ${refusal}`);
    let leadershipMoved = false;
    if (target.leader) {
      const next = etcdLeaderCandidate(members, id);
      const from = clientUrls.get(id);
      if (next && from) {
        // MoveLeader must be sent to the leader itself ("etcdserver: not leader" otherwise).
        await etcdGateway(from, '/v3/maintenance/transfer-leadership', { targetID: decimal(next.id) }, 5000).catch((error: Error) => {
          throw new ProviderUnavailableError(`local etcd: move-leader ${target.name} → ${next.name} failed: ${error.message}`);
        });
        leadershipMoved = true;
        for (let i = 0; i < 40 && (await this.observe()).members.find((m) => m.id === id)?.leader; i++) await sleep(50);
        ({ members, clientUrls } = await this.observe());
      }
    }
    const via = members.filter((m) => m.id !== id && m.healthy).map((m) => clientUrls.get(m.id)).filter((u): u is string => u !== undefined);
    if (via.length === 0) throw new ProviderUnavailableError(`local etcd: no healthy member other than ${describeMember(target)} to remove it through`);
    let removed = false;
    let lastError: Error | undefined;
    // etcd's own guard (--strict-reconfig-check, on by default) answers "unhealthy cluster" while a voting member has
    // been connected for less than its 5 s health interval (etcdserver/server.go, mayRemoveMember): a member that
    // just joined. Wait that out here rather than fail the step.
    const deadline = performance.now() + UNHEALTHY_WAIT_MS;
    retry: for (;;) {
      for (const url of via) {
        try {
          await etcdGateway(url, '/v3/cluster/member/remove', { ID: decimal(id) }, 5000);
          removed = true;
          break retry;
        } catch (error) {
          lastError = error as Error;
          if (/member not found/.test(lastError.message)) break retry; // removed by a concurrent or earlier attempt
          if (/unhealthy cluster/.test(lastError.message)) break;
        }
      }
      if (!/unhealthy cluster/.test(lastError?.message ?? '') || performance.now() > deadline) break;
      await sleep(250);
    }
    if (!removed && lastError && !/member not found/.test(lastError.message)) {
      throw new ProviderUnavailableError(`local etcd: member remove ${describeMember(target)} failed: ${lastError.message}`);
    }
    const after = (await this.observe()).members;
    return { removed, leadershipMoved, members: after.map(describeMember) };
  }
}

/**
 * The local stand-in for Kubernetes' node lifecycle controller: remembers when each machine agent last answered,
 * so that a hung agent (a SIGSTOPped process: it accepts connections and never answers) turns Ready=Unknown once
 * the node-monitor grace period has passed, instead of vanishing from the node list.
 *
 * Timeline of one hung machine (grace G):
 *   last answer ──────────── silent, last known health ────────────▶ +G ── Ready=Unknown ──▶ … answers again: its own health
 *   (no answer seen yet, e.g. after a restart: the grace counts from the first silent look; no information until then)
 *
 * Note: kept in memory of one provider instance, as the node controller keeps its probe timestamps; a restarted
 * control plane grants every silent node a fresh grace period.
 */
import type { NodeStatus } from '../../functions/domain/provider.js';

/** Entries kept at most (oldest dropped first): machines that went without `forget`. */
const MAX_ENTRIES = 10_000;

interface Heard {
  /** When the agent last answered, or when it was first seen silent. */
  readonly atMs: number;
  /** What it last reported; undefined when it never answered this monitor or had no registered node. */
  readonly node: NodeStatus | undefined;
  /** It answered that its node is not registered (a silent one then stays without a node). */
  readonly unregistered: boolean;
}

/** Last reports of machine agents by key (cluster uid, machine, pid). */
export class NodeMonitor {
  private readonly heard = new Map<string, Heard>();

  constructor(readonly graceMs: number) {}

  /** Records an answer of the agent. */
  reported(key: string, node: NodeStatus | undefined, nowMs: number): void {
    this.remember(key, { atMs: nowMs, node, unregistered: node === undefined });
  }

  private remember(key: string, heard: Heard): void {
    this.heard.delete(key);
    this.heard.set(key, heard);
    if (this.heard.size > MAX_ENTRIES) this.heard.delete(this.heard.keys().next().value!);
  }

  /**
   * The node of an agent that did not answer: its last reported health within the grace period (undefined when
   * nothing was reported yet), then Ready=Unknown with the last known cordon and pods. A node last reported as not
   * registered stays without a node.
   */
  silent(key: string, nowMs: number): NodeStatus | undefined {
    let last = this.heard.get(key);
    if (!last) {
      last = { atMs: nowMs, node: undefined, unregistered: false };
      this.remember(key, last);
    }
    if (last.unregistered || nowMs - last.atMs < this.graceMs) return last.node;
    return { ready: false, readyStatus: 'Unknown', cordoned: last.node?.cordoned ?? false, pods: last.node?.pods ?? 0 };
  }

  /** Whether the agent has been silent for the grace period (its node is Ready=Unknown). */
  isUnknown(key: string, nowMs: number): boolean {
    return this.silent(key, nowMs)?.readyStatus === 'Unknown';
  }

  /** Drops what is known of a machine that is gone. */
  forget(key: string): void {
    this.heard.delete(key);
  }
}

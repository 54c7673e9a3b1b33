/** Quorum sampling of a local cluster's real etcd, for the integration suites that change its control plane. */
import { etcdQuorum } from '../../functions/domain/etcd.js';
import type { ClusterRef } from '../../functions/domain/provider.js';
import type { LocalProvider } from '../../providers/local/local-provider.js';

/** Samples the cluster's etcd until stopped: the lowest margin seen and every moment below quorum. */
export function sampleQuorum(provider: LocalProvider, ref: ClusterRef) {
  const belowQuorum: string[] = [];
  let samples = 0;
  let unanswered = 0;
  let maxVoting = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const members = await provider.listEtcdMembers(ref);
        const voting = members.filter((m) => !m.learner);
        const healthy = voting.filter((m) => m.healthy).length;
        samples++;
        maxVoting = Math.max(maxVoting, voting.length);
        if (voting.length > 0 && healthy < etcdQuorum(voting.length)) {
          belowQuorum.push(`${healthy}/${voting.length} healthy: ${members.map((m) => `${m.name || '?'}${m.healthy ? '' : '(down)'}`).join(',')}`);
        }
      } catch {
        unanswered++;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { belowQuorum, samples, unanswered, maxVoting };
    },
  };
}

/**
 * Failure-domain placement, as Cluster API's `util/failuredomains` does it: new machines go where the fewest
 * up-to-date machines are, machines to remove come from where the most eligible machines are.
 */

/** Anything placed in a failure domain (a machine, a planned machine). */
export interface FailureDomainMember {
  readonly name: string;
  readonly failureDomain?: string;
}

interface Aggregation {
  readonly id: string;
  readonly index: number;
  readonly priority: number;
  readonly all: number;
}

function countByFailureDomain(failureDomains: readonly string[], all: readonly FailureDomainMember[], priority: readonly FailureDomainMember[]): Aggregation[] {
  return failureDomains.map((id, index) => ({
    id,
    index,
    priority: priority.filter((m) => m.failureDomain === id).length,
    all: all.filter((m) => m.failureDomain === id).length,
  }));
}

/**
 * The failure domain for a new machine (`failuredomains.PickFewest`): fewest up-to-date machines, then fewest
 * machines overall. Undefined when there are no failure domains.
 * Note: Cluster API breaks remaining ties by map order (random); Capstan takes the first in list order so a re-plan
 * after a crash places the machine in the same domain.
 */
export function pickFewestFailureDomain(failureDomains: readonly string[], allMachines: readonly FailureDomainMember[], upToDateMachines: readonly FailureDomainMember[]): string | undefined {
  const sorted = countByFailureDomain(failureDomains, allMachines, upToDateMachines).sort(
    (a, b) => a.priority - b.priority || a.all - b.all || a.index - b.index,
  );
  return sorted[0]?.id;
}

/**
 * The failure domain to remove a machine from (`failuredomains.PickMost`): most eligible machines, then most
 * machines overall; undefined when no listed domain holds an eligible machine. Ties go to the first in list order.
 */
export function pickMostFailureDomain(failureDomains: readonly string[], allMachines: readonly FailureDomainMember[], eligibleMachines: readonly FailureDomainMember[]): string | undefined {
  const sorted = countByFailureDomain(failureDomains, allMachines, eligibleMachines).sort(
    (a, b) => b.priority - a.priority || b.all - a.all || a.index - b.index,
  );
  const top = sorted[0];
  return top && top.priority > 0 ? top.id : undefined;
}

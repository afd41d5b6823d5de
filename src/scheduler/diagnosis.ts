// Counting reasons across hosts, the way kube-scheduler's FitError does: each host adds
// one to every reason of the status that stopped it. That only adds up because reasons
// are constants.

import type { FilterCode, FilterStatus } from './framework.js';

export class ReasonCounter {
  // Filters return shared constant statuses, so hosts are counted per status (a run of
  // hosts stopped by the same one costs an increment) and spread into reasons only when
  // the counts are read: a decision over 1,000 hosts rejects most of them.
  readonly #byStatus = new Map<FilterStatus, number>();
  #last: FilterStatus | undefined;
  #lastCount = 0;
  #counts: Map<string, number> | undefined;
  #hosts = 0;
  #unresolvable = 0;
  #errors = 0;

  /** `hosts` hosts stopped by the same status. */
  add(status: FilterStatus, hosts = 1): void {
    this.#hosts += hosts;
    if (status.code === 'UnschedulableAndUnresolvable') this.#unresolvable += hosts;
    else if (status.code === 'Error') this.#errors += hosts;
    if (status === this.#last) {
      this.#lastCount += hosts;
      return;
    }
    this.#flush();
    this.#last = status;
    this.#lastCount = hosts;
    this.#counts = undefined;
  }

  #flush(): void {
    if (this.#last === undefined) return;
    this.#byStatus.set(this.#last, (this.#byStatus.get(this.#last) ?? 0) + this.#lastCount);
    this.#last = undefined;
    this.#lastCount = 0;
  }

  /** Hosts per reason: each host adds one to every reason of the status that stopped it. */
  get counts(): ReadonlyMap<string, number> {
    if (this.#counts) return this.#counts;
    this.#flush();
    const counts = new Map<string, number>();
    for (const [status, hosts] of this.#byStatus) {
      for (const reason of status.reasons) counts.set(reason, (counts.get(reason) ?? 0) + hosts);
    }
    this.#counts = counts;
    return counts;
  }

  /** The code for the whole decision when nothing fit: the controller picks its retry by it. */
  get code(): FilterCode {
    if (this.#errors > 0) return 'Error';
    return this.#hosts > 0 && this.#unresolvable === this.#hosts ? 'UnschedulableAndUnresolvable' : 'Unschedulable';
  }

  get filteredHosts(): number {
    return this.#hosts;
  }
}

/** "5 Insufficient cpu, 4 host(s) in maintenance": by count, highest first, then by reason. */
export function formatReasons(counts: ReadonlyMap<string, number>): string {
  return [...counts]
    .sort(([ra, ca], [rb, cb]) => cb - ca || (ra < rb ? -1 : ra > rb ? 1 : 0))
    .map(([reason, count]) => `${count} ${reason}`)
    .join(', ');
}

/** "0/12 hosts fit: 5 Insufficient cpu, 4 host(s) in maintenance, 3 over tenant quota". */
export function unschedulableMessage(totalHosts: number, counts: ReadonlyMap<string, number>): string {
  const reasons = formatReasons(counts);
  return reasons === '' ? `0/${totalHosts} hosts fit` : `0/${totalHosts} hosts fit: ${reasons}`;
}

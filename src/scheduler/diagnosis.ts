// Counting reasons across hosts, the way kube-scheduler's FitError does: each host adds
// one to every reason of the status that stopped it. That only adds up because reasons
// are constants.

import type { FilterCode, FilterStatus } from './framework.js';

export class ReasonCounter {
  readonly counts = new Map<string, number>();
  #hosts = 0;
  #unresolvable = 0;
  #errors = 0;

  add(status: FilterStatus): void {
    this.#hosts++;
    if (status.code === 'UnschedulableAndUnresolvable') this.#unresolvable++;
    else if (status.code === 'Error') this.#errors++;
    for (const reason of status.reasons) this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
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

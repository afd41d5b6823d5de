// Only a Ready host takes new VMs. The phase is observed state, so waiting on other VMs
// cannot change it: every refusal here is unresolvable until the host itself changes.

import { unresolvable, type FilterStatus, type Plugin } from '../framework.js';
import { Reason } from '../reasons.js';
import type { HostPhase } from '../types.js';

const byPhase: Record<HostPhase, FilterStatus | null> = {
  Ready: null,
  Maintenance: unresolvable(Reason.InMaintenance),
  Offline: unresolvable(Reason.Offline),
  Error: unresolvable(Reason.NotReady),
  Unknown: unresolvable(Reason.NotReady),
};

const notReady = unresolvable(Reason.NotReady);

function phaseStatus(phase: HostPhase): FilterStatus | null {
  // A phase this build does not know is treated as not ready rather than as Ready.
  const status = byPhase[phase];
  return status === undefined ? notReady : status;
}

export const hostPhase: Plugin = {
  name: 'HostPhase',
  filter(_ctx, _req, host) {
    return phaseStatus(host.phase);
  },
  filterAll(ctx, _req, candidates, n, rejected) {
    const { phase, hostPhases } = ctx.vectors;
    const statuses = hostPhases.map(phaseStatus);
    if (statuses.every((s) => s === null)) return n;
    let kept = 0;
    for (let k = 0; k < n; k++) {
      const i = candidates[k]!;
      const status = statuses[phase[i]!]!;
      if (status === null) candidates[kept++] = i;
      else rejected.add(status);
    }
    return kept;
  },
};

// spec.placement.regions / datacenters / racks: allow-lists, each empty meaning anywhere.
// Every list the host misses is reported, so the diagnosis shows which one is too narrow.

import { unresolvable, type Plugin } from '../framework.js';
import { Reason } from '../reasons.js';

function outside(allowed: readonly string[] | undefined, value: string): boolean {
  return allowed !== undefined && allowed.length > 0 && !allowed.includes(value);
}

export const topology: Plugin = {
  name: 'Topology',
  filter(_ctx, req, host) {
    const reasons: string[] = [];
    if (outside(req.regions, host.region)) reasons.push(Reason.OutsideRegions);
    if (outside(req.datacenters, host.datacenter)) reasons.push(Reason.OutsideDatacenters);
    if (outside(req.racks, host.rack)) reasons.push(Reason.OutsideRacks);
    return reasons.length === 0 ? null : unresolvable(...reasons);
  },
};

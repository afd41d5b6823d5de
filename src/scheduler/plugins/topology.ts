// spec.placement.regions / datacenters / racks: allow-lists, each empty meaning anywhere.
// Every list the host misses is reported, so the diagnosis shows which one is too narrow.

import { keepWhere, unresolvable, type FilterStatus, type Plugin } from '../framework.js';
import type { HostInfo, PlacementRequest } from '../types.js';
import { Reason } from '../reasons.js';

function outside(allowed: readonly string[] | undefined, value: string): boolean {
  return allowed !== undefined && allowed.length > 0 && !allowed.includes(value);
}

// Every combination of missed lists, built once (index: a bit per list).
const byMissed: FilterStatus[] = Array.from({ length: 8 }, (_, mask) =>
  unresolvable(
    ...[
      mask & 1 ? Reason.OutsideRegions : '',
      mask & 2 ? Reason.OutsideDatacenters : '',
      mask & 4 ? Reason.OutsideRacks : '',
    ].filter((r) => r !== ''),
  ),
);

function topologyStatus(req: PlacementRequest, host: HostInfo): FilterStatus | null {
  const missed =
    (outside(req.regions, host.region) ? 1 : 0) |
    (outside(req.datacenters, host.datacenter) ? 2 : 0) |
    (outside(req.racks, host.rack) ? 4 : 0);
  return missed === 0 ? null : byMissed[missed]!;
}

const unrestricted = (list: readonly string[] | undefined) => list === undefined || list.length === 0;

export const topology: Plugin = {
  name: 'Topology',
  filter(_ctx, req, host) {
    return topologyStatus(req, host);
  },
  filterAll(ctx, req, candidates, n, rejected) {
    if (unrestricted(req.regions) && unrestricted(req.datacenters) && unrestricted(req.racks)) return n;
    const hosts = ctx.hosts;
    return keepWhere(candidates, n, rejected, (i) => topologyStatus(req, hosts[i]!));
  },
};

// VMs sharing a spreadKey avoid sharing a host, a rack or a datacenter. The refusal is
// resolvable: it lifts when the VM already there goes away.

import { keepWhere, unschedulable, type Plugin, type SpreadSets } from '../framework.js';
import type { HostInfo, PlacementRequest, SpreadAcross } from '../types.js';
import { Reason } from '../reasons.js';

const wouldBreak = unschedulable(Reason.WouldBreakSpread);

export const spread: Plugin = {
  name: 'Spread',
  filter(ctx, req, host) {
    if (req.spreadAcross === undefined || req.spreadKey === undefined) return null;
    const used = ctx.spread(req.spreadKey);
    if (!used) return null;
    return takenBy(used, req, placeOf(req.spreadAcross, host)) ? wouldBreak : null;
  },
  filterAll(ctx, req, candidates, n, rejected) {
    if (req.spreadAcross === undefined || req.spreadKey === undefined) return n;
    const used = ctx.spread(req.spreadKey);
    if (!used) return n;
    const hosts = ctx.hosts;
    const domain = req.spreadAcross;
    return keepWhere(candidates, n, rejected, (i) => (takenBy(used, req, placeOf(domain, hosts[i]!)) ? wouldBreak : null));
  },
};

/** Per domain: the host's field naming its place, spreadOwn's field, and the members' set. */
const DOMAIN = {
  Host: { place: 'name', own: 'host', used: 'hosts' },
  Rack: { place: 'rack', own: 'rack', used: 'racks' },
  Datacenter: { place: 'datacenter', own: 'datacenter', used: 'datacenters' },
} as const satisfies Record<SpreadAcross, { place: keyof HostInfo; own: string; used: keyof SpreadSets }>;

function placeOf(domain: SpreadAcross, host: HostInfo): string {
  return host[DOMAIN[domain].place];
}

/** Another member of the key is at `place` (the moving VM's own place alone does not count). */
function takenBy(used: SpreadSets, req: PlacementRequest, place: string): boolean {
  const d = DOMAIN[req.spreadAcross!];
  return place !== req.spreadOwn?.[d.own] && used[d.used].has(place);
}

// VMs sharing a spreadKey avoid sharing a rack (or a datacenter). The refusal is
// resolvable: it lifts when the VM already there goes away.

import { keepWhere, unschedulable, type Plugin, type SpreadSets } from '../framework.js';
import type { PlacementRequest } from '../types.js';
import { Reason } from '../reasons.js';

const wouldBreak = unschedulable(Reason.WouldBreakSpread);

export const spread: Plugin = {
  name: 'Spread',
  filter(ctx, req, host) {
    if (req.spreadAcross === undefined || req.spreadKey === undefined) return null;
    const used = ctx.spread(req.spreadKey);
    if (!used) return null;
    const place = req.spreadAcross === 'Rack' ? host.rack : host.datacenter;
    return takenBy(used, req, place) ? wouldBreak : null;
  },
  filterAll(ctx, req, candidates, n, rejected) {
    if (req.spreadAcross === undefined || req.spreadKey === undefined) return n;
    const used = ctx.spread(req.spreadKey);
    if (!used) return n;
    const hosts = ctx.hosts;
    const place = req.spreadAcross === 'Rack' ? (i: number) => hosts[i]!.rack : (i: number) => hosts[i]!.datacenter;
    return keepWhere(candidates, n, rejected, (i) => (takenBy(used, req, place(i)) ? wouldBreak : null));
  },
};

/** Another member of the key is at `place` (the moving VM's own place alone does not count). */
function takenBy(used: SpreadSets, req: PlacementRequest, place: string): boolean {
  const own = req.spreadAcross === 'Rack' ? req.spreadOwn?.rack : req.spreadOwn?.datacenter;
  return place !== own && (req.spreadAcross === 'Rack' ? used.racks : used.datacenters).has(place);
}

// VMs sharing a spreadKey avoid sharing a rack (or a datacenter). The refusal is
// resolvable: it lifts when the VM already there goes away.

import { keepWhere, unschedulable, type Plugin } from '../framework.js';
import { Reason } from '../reasons.js';

const wouldBreak = unschedulable(Reason.WouldBreakSpread);

export const spread: Plugin = {
  name: 'Spread',
  filter(ctx, req, host) {
    if (req.spreadAcross === undefined || req.spreadKey === undefined) return null;
    const used = ctx.spread(req.spreadKey);
    if (!used) return null;
    const taken = req.spreadAcross === 'Rack' ? used.racks.has(host.rack) : used.datacenters.has(host.datacenter);
    return taken ? wouldBreak : null;
  },
  filterAll(ctx, req, candidates, n, rejected) {
    if (req.spreadAcross === undefined || req.spreadKey === undefined) return n;
    const used = ctx.spread(req.spreadKey);
    if (!used) return n;
    const hosts = ctx.hosts;
    const taken = req.spreadAcross === 'Rack' ? used.racks : used.datacenters;
    const place = req.spreadAcross === 'Rack' ? (i: number) => hosts[i]!.rack : (i: number) => hosts[i]!.datacenter;
    return keepWhere(candidates, n, rejected, (i) => (taken.has(place(i)) ? wouldBreak : null));
  },
};

// VMs sharing a spreadKey avoid sharing a rack (or a datacenter). The refusal is
// resolvable: it lifts when the VM already there goes away.

import { unschedulable, type Plugin } from '../framework.js';
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
};

// A VM names its BaremetalGroup. Only a pinned VM may omit it: then the pinned host's own
// group applies (its quota and strategy), so any host passes here.

import { unresolvable, type Plugin } from '../framework.js';
import { Reason } from '../reasons.js';

const notInGroup = unresolvable(Reason.NotInGroup);

export const groupMembership: Plugin = {
  name: 'GroupMembership',
  filter(_ctx, req, host) {
    if (req.group === undefined) return req.pinnedHost !== undefined ? null : notInGroup;
    return host.group === req.group ? null : notInGroup;
  },
  filterAll(ctx, req, candidates, n, rejected) {
    if (req.group === undefined && req.pinnedHost !== undefined) return n;
    // A group no host is in matches no index (-1 is "no group").
    const wanted = req.group === undefined ? -2 : ctx.vectors.groupNames.indexOf(req.group);
    const { group, groupSize } = ctx.vectors;
    if (wanted >= 0 && groupSize[wanted] === group.length) return n;
    let kept = 0;
    for (let k = 0; k < n; k++) {
      const i = candidates[k]!;
      if (wanted >= 0 && group[i] === wanted) candidates[kept++] = i;
      else rejected.add(notInGroup);
    }
    return kept;
  },
};

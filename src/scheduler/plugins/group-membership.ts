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
};

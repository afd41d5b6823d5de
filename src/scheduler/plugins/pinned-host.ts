// A VM pinned to a baremetal may only go there; the other filters still apply to that host.

import { unresolvable, type Plugin } from '../framework.js';
import { Reason } from '../reasons.js';

const notPinned = unresolvable(Reason.NotPinnedHost);

export const pinnedHost: Plugin = {
  name: 'PinnedHost',
  filter(_ctx, req, host) {
    return req.pinnedHost === undefined || req.pinnedHost === host.name ? null : notPinned;
  },
};

// A VM pinned to a baremetal may only go there; the other filters still apply to that host.

import { keepWhere, unresolvable, type Plugin } from '../framework.js';
import { Reason } from '../reasons.js';

const notPinned = unresolvable(Reason.NotPinnedHost);

export const pinnedHost: Plugin = {
  name: 'PinnedHost',
  filter(_ctx, req, host) {
    return req.pinnedHost === undefined || req.pinnedHost === host.name ? null : notPinned;
  },
  filterAll(ctx, req, candidates, n, rejected) {
    const pinned = req.pinnedHost;
    if (pinned === undefined) return n;
    const hosts = ctx.hosts;
    return keepWhere(candidates, n, rejected, (i) => (hosts[i]!.name === pinned ? null : notPinned));
  },
};

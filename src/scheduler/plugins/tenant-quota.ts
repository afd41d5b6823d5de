// The tenant's TenantQuota in the host's group. No quota there means the tenant cannot use
// the group at all (API.md); a host without a group has no quota to charge, so it is
// refused the same way, even when pinned.

import { unresolvable, unschedulable, type Plugin } from '../framework.js';
import { Reason } from '../reasons.js';

const noQuota = unresolvable(Reason.NoTenantQuota);
const overQuota = unschedulable(Reason.OverTenantQuota);
// A request larger than the whole limit will not fit however many VMs are deleted.
const neverWithinQuota = unresolvable(Reason.OverTenantQuota);

const within = 0;
const over = 1;
const never = 2;

/** A missing limit, or a resource not asked for, never binds. */
function check(want: number, used: number, limit: number | undefined): number {
  if (limit === undefined || want <= 0) return within;
  if (want > limit) return never;
  return used + want > limit ? over : within;
}

export const tenantQuota: Plugin = {
  name: 'TenantQuota',
  filter(ctx, req, host) {
    if (host.group === undefined) return noQuota;
    const quota = ctx.quota(req.tenant, host.group);
    if (!quota) return noQuota;
    const { limits, used } = quota;
    const want = req.resources;
    const worst = Math.max(
      check(want.cpu, used.cpu, limits.cpu),
      check(want.memory, used.memory, limits.memory),
      check(want.storage, used.storage, limits.storage),
      check(want.gpu, used.gpu, limits.gpu),
    );
    return worst === within ? null : worst === over ? overQuota : neverWithinQuota;
  },
};

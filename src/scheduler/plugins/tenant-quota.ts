// The tenant's TenantQuota in the host's group. No quota there means the tenant cannot use
// the group at all (API.md); a host without a group has no quota to charge, so it is
// refused the same way, even when pinned.

import { unresolvable, unschedulable, type ClusterView, type FilterStatus, type Plugin } from '../framework.js';
import type { PlacementRequest } from '../types.js';
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
    return host.group === undefined ? noQuota : quotaStatus(ctx, req, host.group);
  },
  // The answer depends on the host's group only: worked out once per group per decision.
  filterAll(ctx, req, candidates, n, rejected) {
    const { group, groupNames, groupSize } = ctx.vectors;
    if (groupSize.length === 1 && groupSize[0] === group.length) {
      // Every host in one group: one answer for all.
      const status = quotaStatus(ctx, req, groupNames[0]!);
      if (status === null) return n;
      rejected.add(status, n);
      return 0;
    }
    const byGroup: (FilterStatus | null | undefined)[] = new Array(groupNames.length);
    let kept = 0;
    for (let k = 0; k < n; k++) {
      const i = candidates[k]!;
      const g = group[i]!;
      let status = g < 0 ? noQuota : byGroup[g];
      if (status === undefined) status = byGroup[g] = quotaStatus(ctx, req, groupNames[g]!);
      if (status === null) candidates[kept++] = i;
      else rejected.add(status);
    }
    return kept;
  },
};

function quotaStatus(ctx: ClusterView, req: PlacementRequest, group: string): FilterStatus | null {
  const quota = ctx.quota(req.tenant, group);
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
}

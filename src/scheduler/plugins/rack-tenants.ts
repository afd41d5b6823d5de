// A rack may be reserved for some tenants (Rack.spec.allowedTenants); empty means everyone.

import { unresolvable, type Plugin } from '../framework.js';
import { Reason } from '../reasons.js';

const notAllowed = unresolvable(Reason.TenantNotAllowed);

function allows(allowed: readonly string[] | undefined, tenant: string): boolean {
  return allowed === undefined || allowed.length === 0 || allowed.includes(tenant);
}

export const rackTenants: Plugin = {
  name: 'RackTenants',
  filter(_ctx, req, host) {
    return allows(host.allowedTenants, req.tenant) ? null : notAllowed;
  },
  filterAll(ctx, req, candidates, n, rejected) {
    const hosts = ctx.hosts;
    const { restricted, restrictedCount } = ctx.vectors;
    if (restrictedCount === 0) return n;
    let kept = 0;
    for (let k = 0; k < n; k++) {
      const i = candidates[k]!;
      if (restricted[i] === 0 || allows(hosts[i]!.allowedTenants, req.tenant)) candidates[kept++] = i;
      else rejected.add(notAllowed);
    }
    return kept;
  },
};

// A rack may be reserved for some tenants (Rack.spec.allowedTenants); empty means everyone.

import { unresolvable, type Plugin } from '../framework.js';
import { Reason } from '../reasons.js';

const notAllowed = unresolvable(Reason.TenantNotAllowed);

export const rackTenants: Plugin = {
  name: 'RackTenants',
  filter(_ctx, req, host) {
    const allowed = host.allowedTenants;
    if (allowed === undefined || allowed.length === 0) return null;
    return allowed.includes(req.tenant) ? null : notAllowed;
  },
};

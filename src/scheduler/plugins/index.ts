// The default profile. Filters run in this order and a host stops at its first failing
// plugin, so its reasons in the diagnosis are that plugin's: cheap and unresolvable checks
// come first, and quota before capacity so that a tenant over quota is told so even when
// the hosts are also full.

import type { Plugin } from '../framework.js';
import { gpu } from './gpu.js';
import { groupMembership } from './group-membership.js';
import { hostPhase } from './host-phase.js';
import { pinnedHost } from './pinned-host.js';
import { rackTenants } from './rack-tenants.js';
import { resourceAllocation } from './resource-allocation.js';
import { resourcesFit } from './resources-fit.js';
import { spread } from './spread.js';
import { tenantQuota } from './tenant-quota.js';
import { topology } from './topology.js';

export const defaultPlugins: readonly Plugin[] = Object.freeze([
  pinnedHost,
  groupMembership,
  hostPhase,
  rackTenants,
  topology,
  spread,
  tenantQuota,
  resourcesFit,
  gpu,
  resourceAllocation,
]);

export {
  gpu,
  groupMembership,
  hostPhase,
  pinnedHost,
  rackTenants,
  resourceAllocation,
  resourcesFit,
  spread,
  tenantQuota,
  topology,
};

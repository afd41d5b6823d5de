// The plugin contract, after kube-scheduler's framework: a plugin has a name and one method
// per extension point. Filters say "not here" with countable reasons; scorers rank the hosts
// that are left. Plugins read only what they are given, so the same plugin works on the
// caller's snapshot and on a batch's working copy.

import type { GroupInfo, HostInfo, PlacementRequest, QuotaInfo, Resources } from './types.js';

/**
 * Unschedulable: not here now, but freeing resources could help (retry when VMs go away).
 * UnschedulableAndUnresolvable: not here until the spec or the inventory changes.
 * Error: something is broken; the decision must not be trusted.
 */
export type FilterCode = 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Error';

export interface FilterStatus {
  readonly code: FilterCode;
  readonly reasons: readonly string[];
}

/** The lookups plugins need beyond the host itself. */
export interface ClusterView {
  /** The host's group, or undefined when the host has none or the group is not known. */
  groupOf(host: HostInfo): GroupInfo | undefined;
  /** capacity x the group's overcommit, computed once per host rather than per decision. */
  allocatableOf(host: HostInfo): Readonly<Resources>;
  quota(tenant: string, group: string): QuotaInfo | undefined;
  /** Racks and datacenters already used by VMs sharing the spread key. */
  spread(key: string): SpreadSets | undefined;
}

export interface SpreadSets {
  readonly racks: ReadonlySet<string>;
  readonly datacenters: ReadonlySet<string>;
}

export interface Plugin {
  readonly name: string;
  /** null means the host passes. */
  filter?(ctx: ClusterView, req: PlacementRequest, host: HostInfo): FilterStatus | null;
  /** 0 (worst) to 100 (best); only called for hosts that passed every filter. */
  score?(ctx: ClusterView, req: PlacementRequest, host: HostInfo): number;
}

export const maxScore = 100;

export function unschedulable(...reasons: string[]): FilterStatus {
  return Object.freeze({ code: 'Unschedulable', reasons: Object.freeze(reasons) });
}

export function unresolvable(...reasons: string[]): FilterStatus {
  return Object.freeze({ code: 'UnschedulableAndUnresolvable', reasons: Object.freeze(reasons) });
}

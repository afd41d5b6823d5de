// The plugin contract, after kube-scheduler's framework: a plugin has a name and one method
// per extension point. Filters say "not here" with countable reasons; scorers rank the hosts
// that are left. Plugins read only what they are given, so the same plugin works on the
// caller's snapshot and on a batch's working copy.

import type { ReasonCounter } from './diagnosis.js';
import type { GroupInfo, HostInfo, HostPhase, PlacementRequest, QuotaInfo, Resources } from './types.js';

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
  /** The hosts, indexed as in the vectors. */
  readonly hosts: readonly HostInfo[];
  readonly vectors: HostVectors;
}

/**
 * Per-host figures as typed arrays, index i for hosts[i], kept up to date by assume() and
 * release(): what a decision reads for every host, without a property lookup per host.
 */
export interface HostVectors {
  /** capacity x the group's overcommit (gpus: capacity). */
  readonly allocatableCpu: Float64Array;
  readonly allocatableMemory: Float64Array;
  readonly allocatableStorage: Float64Array;
  readonly gpuCapacity: Float64Array;
  readonly allocatedCpu: Float64Array;
  readonly allocatedMemory: Float64Array;
  readonly allocatedStorage: Float64Array;
  readonly allocatedGpu: Float64Array;
  /** Index into groupNames; -1 for a host without a group. */
  readonly group: Int32Array;
  readonly groupNames: readonly string[];
  /** The groups named in groupNames, undefined where the snapshot does not have it. */
  readonly groups: readonly (GroupInfo | undefined)[];
  /** Hosts per group index: a filter that finds every host in one group can decide once. */
  readonly groupSize: Int32Array;
  /** The host's position in name order: ties go to the lowest. */
  readonly nameRank: Int32Array;
  /** Index into hostPhases, the phases in the order they were first seen. */
  readonly phase: Uint8Array;
  readonly hostPhases: readonly HostPhase[];
  /** 1 where the host's rack admits only some tenants (allowedTenants not empty). */
  readonly restricted: Uint8Array;
  readonly restrictedCount: number;
}

/**
 * The candidates of one decision: host indexes, compacted in place by each filter. A filter
 * keeps the hosts that pass at the front and returns how many there are; every host it
 * drops is counted once, under the status that dropped it.
 */
export type FilterAll = (ctx: ClusterView, req: PlacementRequest, candidates: Int32Array, n: number, rejected: ReasonCounter) => number;

/** Adds a 0..100 score for each of the first n candidates to scores[k] (k: candidate position). */
export type ScoreAll = (ctx: ClusterView, req: PlacementRequest, candidates: Int32Array, n: number, scores: Float64Array) => void;

export interface SpreadSets {
  readonly hosts: ReadonlySet<string>;
  readonly racks: ReadonlySet<string>;
  readonly datacenters: ReadonlySet<string>;
}

export interface Plugin {
  readonly name: string;
  /** null means the host passes. */
  filter?(ctx: ClusterView, req: PlacementRequest, host: HostInfo): FilterStatus | null;
  /** 0 (worst) to 100 (best); only called for hosts that passed every filter. */
  score?(ctx: ClusterView, req: PlacementRequest, host: HostInfo): number;
  /**
   * The same filter over all candidates of a decision at once, reading the vectors: one call
   * per decision instead of one per host. It must decide exactly as filter() does, which
   * the property test in schedule-many.test.ts checks.
   */
  filterAll?: FilterAll;
  /** The same score over all candidates at once; must equal score() for each. */
  scoreAll?: ScoreAll;
}

export const maxScore = 100;

export function unschedulable(...reasons: string[]): FilterStatus {
  return Object.freeze({ code: 'Unschedulable', reasons: Object.freeze(reasons) });
}

/**
 * Compacts the candidates through a per-host test: the shared loop of the filterAll forms
 * of filters that are seldom active. `test` returns null to keep the host. (The filters
 * that run on every decision loop by themselves: a call through this shared loop cannot be
 * inlined.)
 */
export function keepWhere(
  candidates: Int32Array,
  n: number,
  rejected: ReasonCounter,
  test: (i: number) => FilterStatus | null,
): number {
  let kept = 0;
  for (let k = 0; k < n; k++) {
    const i = candidates[k]!;
    const status = test(i);
    if (status === null) candidates[kept++] = i;
    else rejected.add(status);
  }
  return kept;
}

export function unresolvable(...reasons: string[]): FilterStatus {
  return Object.freeze({ code: 'UnschedulableAndUnresolvable', reasons: Object.freeze(reasons) });
}

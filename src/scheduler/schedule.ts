// One scheduling decision is a pure function of a snapshot and a request: filter every
// host, score the survivors, take the best (ties to the lowest name, so replays agree).
// A batch runs the same decision over a working copy and assumes each placement before the
// next, so a batch can never over-commit a host or a quota.

import { ReasonCounter, formatReasons, unschedulableMessage } from './diagnosis.js';
import type { FilterCode, FilterStatus, Plugin } from './framework.js';
import { defaultPlugins } from './plugins/index.js';
import { strategyFor } from './plugins/resource-allocation.js';
import type { HostInfo, PlacementRequest, Snapshot, Strategy } from './types.js';
import { WorkingSnapshot } from './working-snapshot.js';

export interface Explanation {
  readonly strategy: Strategy;
  readonly feasibleHosts: number;
  readonly totalHosts: number;
  /** Reasons of the hosts that were filtered out, counted as in a diagnosis. */
  readonly filtered: ReadonlyMap<string, number>;
  readonly message: string;
}

export interface Diagnosis {
  /** Unschedulable: retry when capacity or quota frees up; UnschedulableAndUnresolvable:
   *  only a spec or inventory change helps; Error: a filter failed to decide. */
  readonly code: FilterCode;
  readonly counts: ReadonlyMap<string, number>;
  readonly message: string;
}

export type ScheduleResult =
  | { readonly ok: true; readonly host: string; readonly score: number; readonly explanation: Explanation }
  | { readonly ok: false; readonly diagnosis: Diagnosis };

function asWorking(snapshot: Snapshot | WorkingSnapshot): WorkingSnapshot {
  return snapshot instanceof WorkingSnapshot ? snapshot : new WorkingSnapshot(snapshot);
}

/**
 * Picks a host for the request. Never changes the snapshot: a plain Snapshot is read
 * through a private copy, and a WorkingSnapshot is only read.
 */
export function schedule(
  snapshot: Snapshot | WorkingSnapshot,
  req: PlacementRequest,
  plugins: readonly Plugin[] = defaultPlugins,
): ScheduleResult {
  const view = asWorking(snapshot);
  const filters = plugins.filter((p) => p.filter !== undefined);
  const scorers = plugins.filter((p) => p.score !== undefined);
  const rejected = new ReasonCounter();

  let best: HostInfo | undefined;
  let bestScore = -Infinity;
  let feasible = 0;

  for (const host of view.hosts) {
    let status: FilterStatus | null = null;
    for (const plugin of filters) {
      status = plugin.filter!(view, req, host);
      if (status !== null) break;
    }
    if (status !== null) {
      rejected.add(status);
      continue;
    }
    feasible++;
    let score = 0;
    for (const plugin of scorers) score += plugin.score!(view, req, host);
    if (scorers.length > 0) score /= scorers.length;
    if (score > bestScore || (score === bestScore && best !== undefined && host.name < best.name)) {
      best = host;
      bestScore = score;
    }
  }

  const total = view.hosts.length;
  if (best === undefined || rejected.code === 'Error') {
    return {
      ok: false,
      diagnosis: { code: rejected.code, counts: rejected.counts, message: unschedulableMessage(total, rejected.counts) },
    };
  }

  const strategy = strategyFor(req, view.groupOf(best));
  const filteredText = rejected.counts.size > 0 ? `; filtered: ${formatReasons(rejected.counts)}` : '';
  return {
    ok: true,
    host: best.name,
    score: bestScore,
    explanation: {
      strategy,
      feasibleHosts: feasible,
      totalHosts: total,
      filtered: rejected.counts,
      message:
        `${best.name} chosen by ${strategy} with score ${bestScore.toFixed(1)}; ` +
        `${feasible}/${total} hosts fit${filteredText}`,
    },
  };
}

/**
 * Places the requests in order. Each placement is assumed into the working copy before the
 * next decision, so by construction no host goes over allocatable and no tenant over quota
 * across the batch. A WorkingSnapshot passed in is that working copy and is updated; a
 * plain Snapshot is copied once and left alone.
 */
export function scheduleMany(
  snapshot: Snapshot | WorkingSnapshot,
  requests: Iterable<PlacementRequest>,
  plugins: readonly Plugin[] = defaultPlugins,
): ScheduleResult[] {
  const working = asWorking(snapshot);
  const results: ScheduleResult[] = [];
  for (const req of requests) {
    const result = schedule(working, req, plugins);
    if (result.ok) working.assume(req, result.host);
    results.push(result);
  }
  return results;
}

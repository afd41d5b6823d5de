// One scheduling decision is a pure function of a snapshot and a request: filter every
// host, score the survivors, take the best (ties to the lowest name, so replays agree).
// A batch runs the same decision over a working copy and assumes each placement before the
// next, so a batch can never over-commit a host or a quota.

import { ReasonCounter, formatReasons, unschedulableMessage } from './diagnosis.js';
import { keepWhere, type FilterCode, type Plugin } from './framework.js';
import { defaultPlugins } from './plugins/index.js';
import { strategyFor } from './plugins/resource-allocation.js';
import type { PlacementRequest, Snapshot, Strategy } from './types.js';
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
 *
 * The candidates are host indexes that each filter compacts in turn, so a host is judged
 * by the next filter only if it passed the previous ones, and counted under the first one
 * it failed. Plugins with a vector form (filterAll, scoreAll) run once per decision over
 * the typed arrays; any other plugin is called per candidate host.
 */
export function schedule(
  snapshot: Snapshot | WorkingSnapshot,
  req: PlacementRequest,
  plugins: readonly Plugin[] = defaultPlugins,
): ScheduleResult {
  const view = asWorking(snapshot);
  const hosts = view.hosts;
  const total = hosts.length;
  const { candidates, scores } = view.scratch;
  const rejected = new ReasonCounter();

  for (let i = 0; i < total; i++) candidates[i] = i;
  let n = total;
  let scorers = 0;
  for (const plugin of plugins) {
    if (plugin.score !== undefined || plugin.scoreAll !== undefined) scorers++;
    if (n === 0) continue;
    if (plugin.filterAll !== undefined) n = plugin.filterAll(view, req, candidates, n, rejected);
    else if (plugin.filter !== undefined) {
      const filter = plugin.filter;
      n = keepWhere(candidates, n, rejected, (i) => filter(view, req, hosts[i]!));
    }
  }

  if (n === 0 || rejected.code === 'Error') {
    return {
      ok: false,
      diagnosis: { code: rejected.code, counts: rejected.counts, message: unschedulableMessage(total, rejected.counts) },
    };
  }

  scores.fill(0, 0, n);
  for (const plugin of plugins) {
    if (plugin.scoreAll !== undefined) plugin.scoreAll(view, req, candidates, n, scores);
    else if (plugin.score !== undefined) {
      for (let k = 0; k < n; k++) scores[k] += plugin.score(view, req, hosts[candidates[k]!]!);
    }
  }
  // The mean of the scorers (divided per host, as the sum would round ties differently).
  const divisor = scorers > 0 ? scorers : 1;
  const rank = view.vectors.nameRank;
  let best = candidates[0]!;
  let bestScore = scores[0]! / divisor;
  for (let k = 1; k < n; k++) {
    const score = scores[k]! / divisor;
    const i = candidates[k]!;
    if (score > bestScore || (score === bestScore && rank[i]! < rank[best]!)) {
      best = i;
      bestScore = score;
    }
  }
  const chosen = hosts[best]!;
  const feasible = n;
  const strategy = strategyFor(req, view.groupOf(chosen));
  let message: string | undefined;
  return {
    ok: true,
    host: chosen.name,
    score: bestScore,
    explanation: {
      strategy,
      feasibleHosts: feasible,
      totalHosts: total,
      get filtered() {
        return rejected.counts;
      },
      // Written out when read: a batch that only wants the hosts does not sort reasons
      // and format numbers for every decision.
      get message() {
        if (message === undefined) {
          const filteredText = rejected.counts.size > 0 ? `; filtered: ${formatReasons(rejected.counts)}` : '';
          message = `${chosen.name} chosen by ${strategy} with score ${bestScore.toFixed(1)}; ${feasible}/${total} hosts fit${filteredText}`;
        }
        return message;
      },
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

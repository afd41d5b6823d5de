// The fewest identical hosts that could hold a set of demands if VMs could be cut to any
// size: ceil(total / host capacity) per resource, the largest of those. Binpack's host
// count is judged against it in the benchmark.

import { sumResources } from './resources.js';
import { resourceNames, type Resources } from './types.js';

export function lowerBoundHosts(demands: Iterable<Readonly<Resources>>, hostCapacity: Readonly<Resources>): number {
  const total = sumResources(demands);
  let bound = 0;
  for (const r of resourceNames) {
    if (total[r] <= 0) continue;
    // Demand for something no host has can never be met.
    if (hostCapacity[r] <= 0) return Infinity;
    bound = Math.max(bound, Math.ceil(total[r] / hostCapacity[r]));
  }
  return bound;
}

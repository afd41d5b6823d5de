// Hosts selectable by free capacity ("at least 16 free cores"): a field selector has only =
// and !=, so the controller keeps labels instead. Their value is the free amount rounded down
// to a power of two (0, 1, 2, 4, 8, 16, ...), so a label changes only when a host crosses a
// power of two, not with every VM placed, and a label selector with > answers exactly for
// power-of-two thresholds: `kubectl get bm -l 'free.virtflow.io/cpu>15'` lists the hosts with
// at least 16 free cores (docs/operations.md).
import type { Resources } from '../../scheduler/types.js';

export const FREE_CAPACITY_LABELS = {
  cpu: 'free.virtflow.io/cpu',
  memoryGi: 'free.virtflow.io/memory-gi',
} as const;

const GI = 2 ** 30;

/** The largest power of two not above n (0 for less than 1). */
export function powerOfTwoBucket(n: number): number {
  if (!(n >= 1)) return 0;
  return 2 ** Math.floor(Math.log2(Math.floor(n)));
}

/** The free-capacity labels for what can still be placed on a host (after overcommit). */
export function freeCapacityLabels(free: Resources): Record<string, string> {
  return {
    [FREE_CAPACITY_LABELS.cpu]: String(powerOfTwoBucket(free.cpu)),
    [FREE_CAPACITY_LABELS.memoryGi]: String(powerOfTwoBucket(free.memory / GI)),
  };
}

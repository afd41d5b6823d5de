// A VM fits when, for every resource it asks for, allocated + request <= allocatable, where
// allocatable = capacity x the group's overcommit ratio. Every short resource is reported,
// as kube-scheduler's NodeResourcesFit does.

import { unresolvable, unschedulable, type FilterStatus, type Plugin } from '../framework.js';
import { Reason } from '../reasons.js';

const cpuShort = 1;
const memoryShort = 2;
const storageShort = 4;

// Every combination is built once: this filter rejects most hosts of a busy inventory and
// must not allocate for each of them.
function statusesFor(make: (...reasons: string[]) => FilterStatus): FilterStatus[] {
  return Array.from({ length: 8 }, (_, mask) =>
    make(
      ...[
        mask & cpuShort ? Reason.InsufficientCpu : '',
        mask & memoryShort ? Reason.InsufficientMemory : '',
        mask & storageShort ? Reason.InsufficientStorage : '',
      ].filter((r) => r !== ''),
    ),
  );
}
const resolvable = statusesFor(unschedulable);
const neverFits = statusesFor(unresolvable);

export const resourcesFit: Plugin = {
  name: 'ResourcesFit',
  filter(ctx, req, host) {
    const alloc = ctx.allocatableOf(host);
    const want = req.resources;
    const used = host.allocated;
    // Resources not asked for are not checked, so an over-full host still takes a VM
    // that needs none of what it lacks.
    let short = 0;
    if (want.cpu > 0 && used.cpu + want.cpu > alloc.cpu) short |= cpuShort;
    if (want.memory > 0 && used.memory + want.memory > alloc.memory) short |= memoryShort;
    if (want.storage > 0 && used.storage + want.storage > alloc.storage) short |= storageShort;
    if (short === 0) return null;
    const larger = want.cpu > alloc.cpu || want.memory > alloc.memory || want.storage > alloc.storage;
    return (larger ? neverFits : resolvable)[short]!;
  },
  // The same test over the vectors, written out rather than through filter(): it runs for
  // every candidate of every decision.
  filterAll(ctx, req, candidates, n, rejected) {
    const { allocatedCpu, allocatedMemory, allocatedStorage, allocatableCpu, allocatableMemory, allocatableStorage } = ctx.vectors;
    const { cpu, memory, storage } = req.resources;
    let kept = 0;
    for (let k = 0; k < n; k++) {
      const i = candidates[k]!;
      let short = 0;
      if (cpu > 0 && allocatedCpu[i]! + cpu > allocatableCpu[i]!) short |= cpuShort;
      if (memory > 0 && allocatedMemory[i]! + memory > allocatableMemory[i]!) short |= memoryShort;
      if (storage > 0 && allocatedStorage[i]! + storage > allocatableStorage[i]!) short |= storageShort;
      if (short === 0) {
        candidates[kept++] = i;
        continue;
      }
      const larger = cpu > allocatableCpu[i]! || memory > allocatableMemory[i]! || storage > allocatableStorage[i]!;
      rejected.add((larger ? neverFits : resolvable)[short]!);
    }
    return kept;
  },
};

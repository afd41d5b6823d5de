// Ranks feasible hosts by how full they would be after placement: Binpack prefers the
// fullest (fewer hosts in use, whole hosts left free), Spread the emptiest (less blast
// radius, more headroom). The strategy comes from the VM, else from the host's group.

import { maxScore, type Plugin } from '../framework.js';
import { usedFractionAfter } from '../resources.js';
import { defaultStrategy, type Strategy } from '../types.js';

export function strategyFor(req: { strategy?: Strategy }, group: { strategy: Strategy } | undefined): Strategy {
  return req.strategy ?? group?.strategy ?? defaultStrategy;
}

export const resourceAllocation: Plugin = {
  name: 'ResourceAllocation',
  score(ctx, req, host) {
    const group = ctx.groupOf(host);
    const used = usedFractionAfter(host.allocated, req.resources, ctx.allocatableOf(host));
    return strategyFor(req, group) === 'Binpack' ? used * maxScore : (1 - used) * maxScore;
  },
  // usedFractionAfter over the vectors, written out (no call per host), with the strategy
  // worked out once per group.
  scoreAll(ctx, req, candidates, n, scores) {
    const top = maxScore;
    const v = ctx.vectors;
    const { allocatedCpu, allocatedMemory, allocatedStorage, allocatableCpu, allocatableMemory, allocatableStorage, group } = v;
    const binpack = v.groups.map((group) => strategyFor(req, group) === 'Binpack');
    const binpackWithoutGroup = strategyFor(req, undefined) === 'Binpack';
    const { cpu, memory, storage } = req.resources;
    for (let k = 0; k < n; k++) {
      const i = candidates[k]!;
      let sum = 0;
      let counted = 0;
      const aCpu = allocatableCpu[i]!;
      const aMemory = allocatableMemory[i]!;
      const aStorage = allocatableStorage[i]!;
      if (aCpu > 0) {
        const f = (allocatedCpu[i]! + cpu) / aCpu;
        sum += f < 0 ? 0 : f > 1 ? 1 : f;
        counted++;
      }
      if (aMemory > 0) {
        const f = (allocatedMemory[i]! + memory) / aMemory;
        sum += f < 0 ? 0 : f > 1 ? 1 : f;
        counted++;
      }
      if (aStorage > 0) {
        const f = (allocatedStorage[i]! + storage) / aStorage;
        sum += f < 0 ? 0 : f > 1 ? 1 : f;
        counted++;
      }
      const used = counted === 0 ? 1 : sum / counted;
      const g = group[i]!;
      scores[k] += (g < 0 ? binpackWithoutGroup : binpack[g]!) ? used * top : (1 - used) * top;
    }
  },
};

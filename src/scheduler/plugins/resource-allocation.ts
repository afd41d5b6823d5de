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
};

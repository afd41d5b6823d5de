// GPUs are whole devices passed through to one VM: never overcommitted, and a host with
// fewer than requested in total can never take the VM.

import { keepWhere, unresolvable, unschedulable, type FilterStatus, type Plugin } from '../framework.js';
import { Reason } from '../reasons.js';

const gpusInUse = unschedulable(Reason.InsufficientGpu);
const tooFewGpus = unresolvable(Reason.InsufficientGpu);

function gpuStatus(want: number, capacity: number, allocated: number): FilterStatus | null {
  if (want > capacity) return tooFewGpus;
  return allocated + want <= capacity ? null : gpusInUse;
}

export const gpu: Plugin = {
  name: 'Gpu',
  filter(_ctx, req, host) {
    const want = req.resources.gpu;
    if (want <= 0) return null;
    return gpuStatus(want, host.capacity.gpu, host.allocated.gpu);
  },
  filterAll(ctx, req, candidates, n, rejected) {
    const want = req.resources.gpu;
    if (want <= 0) return n;
    const { gpuCapacity, allocatedGpu } = ctx.vectors;
    return keepWhere(candidates, n, rejected, (i) => gpuStatus(want, gpuCapacity[i]!, allocatedGpu[i]!));
  },
};

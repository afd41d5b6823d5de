// GPUs are whole devices passed through to one VM: never overcommitted, and a host with
// fewer than requested in total can never take the VM.

import { unresolvable, unschedulable, type Plugin } from '../framework.js';
import { Reason } from '../reasons.js';

const gpusInUse = unschedulable(Reason.InsufficientGpu);
const tooFewGpus = unresolvable(Reason.InsufficientGpu);

export const gpu: Plugin = {
  name: 'Gpu',
  filter(_ctx, req, host) {
    const want = req.resources.gpu;
    if (want <= 0) return null;
    if (want > host.capacity.gpu) return tooFewGpus;
    return host.allocated.gpu + want <= host.capacity.gpu ? null : gpusInUse;
  },
};

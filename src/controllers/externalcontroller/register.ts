// The ExternalController controller: probes each service and keeps the ServiceAccount it
// reports back as.
import { probeExternalController } from '../../providers/http-provider.js';
import type { Registration } from '../shared/registration.js';
import { externalControllerReconciler } from './reconciler.js';

export function registerExternalControllers({ manager, informers: listers, ctx, options, identities, extraCa }: Registration): void {
  manager.controller('externalcontroller').for(listers.externalControllers)
    .complete(externalControllerReconciler(ctx, (xc) => probeExternalController(xc, { extraCa }), { intervalMs: options.probeIntervalMs, identities }));
}

// The cluster controllers: bastions seen from the VM side (./bastions.ts), and the clusters
// themselves, built through the K8s Cluster Service of their ExternalController.
import type { ExternalController } from '../../kinds/externalcontroller.js';
import type { InformerEvent } from '../../runtime/informer.js';
import { selectedChanged, specChanged } from '../../runtime/predicates.js';
import { httpClusterServiceFor } from '../../providers/cluster-service.js';
import type { Registration } from '../shared/registration.js';
import { key, keysOf } from '../shared/watches.js';
import { bastionReconciler } from './bastions.js';
import { k8sClusterReconciler } from './reconciler.js';

export function registerK8sClusters({ manager, informers: listers, ctx, options, credentials }: Registration): void {
  // A VM wakes for its own changes and for every cluster that names it, before and after a change.
  // Of the VM itself only what this controller keeps matters: the status writes of the VM's
  // lifecycle would otherwise wake it a dozen times per VM.
  manager.controller('virtualmachine-bastions').for(listers.vms, { predicates: [selectedChanged((vm) => [vm.metadata.labels, vm.status?.bastionFor])] })
    .watches(listers.clusters, (c) => (c.spec.bastions ?? []).map((name) => ({ namespace: c.metadata.namespace, name })))
    .complete(bastionReconciler(ctx));

  const serviceFor =
    options.clusterServiceFor ?? ((xc: ExternalController) => httpClusterServiceFor(xc, { token: credentials.readerFor(xc) }));
  // A service that became unreachable (or reachable again) is news to every cluster it serves.
  const reachabilityChanged = (e: InformerEvent<ExternalController>) => specChanged(e) || e.previous?.status?.reachable !== e.object.status?.reachable;
  manager.controller('k8scluster').for(listers.clusters).withWorkers(8)
    .watches(listers.vms, (vm) => [...(vm.spec.cluster ? [vm.spec.cluster] : []), ...(vm.status?.bastionFor ?? [])].flatMap((c) => key(c, vm.metadata.namespace)))
    .watches(listers.nodePools, (p) => key(p.spec.cluster, p.metadata.namespace))
    .watches(listers.serviceMeshes, (m) => keysOf(listers.clusters.byIndex('byMesh', m.metadata.name!)))
    .watches(listers.externalControllers, () => keysOf(listers.clusters.list()), { predicates: [reachabilityChanged] })
    .watches(listers.specifications, () => keysOf(listers.clusters.list()), { predicates: [specChanged] })
    .complete(k8sClusterReconciler(ctx, { serviceFor, pollMs: options.clusterPollMs, resyncMs: options.resyncMs }));
}

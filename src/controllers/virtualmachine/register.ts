// The VM controller, and the placer's assume cache that it and the drain share.
import type { ExternalController } from '../../kinds/externalcontroller.js';
import type { VirtualMachineProvider } from '../../providers/external-client.js';
import type { Informer } from '../../runtime/informer.js';
import { specChanged } from '../../runtime/predicates.js';
import { httpProviderFor } from '../../providers/http-provider.js';
import { tenantNamespace } from '../../kinds/tenant.js';
import { withCallbackIdentity } from '../externalcontroller/identity.js';
import type { Informers, Registration } from '../shared/registration.js';
import { keysOf } from '../shared/watches.js';
import { Placer } from './placer.js';
import { virtualMachineReconciler } from './reconciler.js';

/**
 * The placer, fed by the informers before any controller starts, so that its assume cache
 * has seen a VM event before any reconcile it causes.
 */
export function watchedPlacer(listers: Informers): Placer {
  const placer = new Placer(listers);
  listers.vms.subscribe((e) => {
    const k = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
    placer.observeVm(k, e.type === 'deleted' ? undefined : e.object, e.type === 'deleted' ? e.object : e.previous);
  });
  // The snapshot is built from these objects' specs; their status is the controllers' own
  // bookkeeping (every placement rewrites a host's, its group's and its quota's), and
  // rebuilding the snapshot for each of those writes made placement O(hosts + VMs) per VM.
  for (const inf of [listers.hosts, listers.groups, listers.quotas, listers.racks, listers.datacenters, listers.tenants] as Informer<any>[]) {
    inf.subscribe((e) => {
      if (specChanged(e)) placer.invalidate();
    });
  }
  return placer;
}

export function registerVirtualMachines({ manager, informers: listers, ctx, options, placer, identities, credentials, extraCa }: Registration): void {
  const httpProvider = (xc: ExternalController) =>
    withCallbackIdentity(
      (callbackToken) =>
        httpProviderFor(xc, { callback: callbackToken ? { ...options.callback, token: callbackToken } : options.callback, token: credentials.readerFor(xc), extraCa }),
      () => identities.token(xc),
    );
  // One provider per version of each ExternalController: building one per reconcile joined
  // the system's root certificates into a new CA string every time.
  const providers = new Map<string, { version: string; provider: VirtualMachineProvider }>();
  const providerFor =
    options.providerFor ??
    ((xc: ExternalController) => {
      const version = `${xc.metadata.uid}/${xc.metadata.resourceVersion}`;
      const made = providers.get(xc.metadata.name!);
      if (made?.version === version) return made.provider;
      const provider = httpProvider(xc);
      providers.set(xc.metadata.name!, { version, provider });
      return provider;
    });
  const reconciler = virtualMachineReconciler(ctx, placer, { providerFor, resyncMs: options.resyncMs, providerRetryMs: options.providerRetryMs });
  // Every version of a VM, not only those a reconcile sees: reports delivered out of order are
  // told from new ones by the furthest state seen (machine-ledger.ts).
  listers.vms.subscribe((e) => {
    if (e.type === 'added' || e.type === 'updated') reconciler.noteVm(e.object);
  });
  const waitingVms = () => [...listers.vms.byIndex('byPhase', 'Unschedulable'), ...listers.vms.byIndex('byPhase', 'Pending')];
  const onSpec = { predicates: [specChanged] };
  manager.controller('virtualmachine').for(listers.vms).withWorkers(options.vmWorkers ?? 8)
    .watches(listers.externalControllers, () => keysOf(listers.vms.list().filter((v) => v.status?.placement?.baremetal && v.status?.phase !== 'Running')))
    // What a VM names, appearing or changing (a flavor's status counts its VMs: mapping those
    // writes to every VM of the flavor re-ran thousands of VMs per placement).
    .watches(listers.specifications, (s) => keysOf(listers.vms.byIndex('bySpecification', s.metadata.name!)), onSpec)
    .watches(listers.images, (i) => keysOf(listers.vms.byIndex('byImage', i.metadata.name!)), onSpec)
    .watches(listers.clusters, (c) => keysOf(listers.vms.byIndex('byCluster', `${c.metadata.namespace}/${c.metadata.name}`)), onSpec)
    // What wakes the VMs that wait to be placed: capacity released (a placed VM gone) and
    // inventory or quota changed, by spec only: mapping every status write of every host,
    // group, quota and tenant to every waiting VM made each placement cost O(waiting VMs) in
    // queue work and re-ran the scheduler for all of them.
    .watches(listers.vms, () => keysOf(listers.vms.byIndex('byPhase', 'Unschedulable')), {
      predicates: [(e) => e.type === 'deleted' && e.object.status?.placement?.baremetal !== undefined],
    })
    .watches(listers.hosts, (b) => keysOf([...waitingVms(), ...listers.vms.byIndex('byPinnedHost', b.metadata.name!)]), onSpec)
    .watches(listers.groups, () => keysOf(waitingVms()), onSpec)
    .watches(listers.quotas, () => keysOf(waitingVms()), onSpec)
    .watches(listers.racks, () => keysOf(waitingVms()), onSpec)
    .watches(listers.datacenters, () => keysOf(waitingVms()), onSpec)
    .watches(listers.tenants, (t) => keysOf(listers.vms.list(tenantNamespace(t))), onSpec)
    .complete(reconciler);
}

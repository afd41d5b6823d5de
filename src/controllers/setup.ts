// Wires VirtFlow's controllers into a runtime Manager: one shared informer per kind (with the
// indexes the reconcilers read), the watches that say which keys a change concerns, and the
// placement assume cache fed by VM events.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { KubeObject } from '../machinery/object.js';
import type { ExternalController } from '../kinds/externalcontroller.js';
import type { VirtualMachine } from '../kinds/virtualmachine.js';
import type { CallbackTarget } from '../providers/http-provider.js';
import { httpProviderFor, probeExternalController } from '../providers/http-provider.js';
import type { VirtualMachineProvider } from '../providers/external-client.js';
import type { Informer } from '../runtime/informer.js';
import { keyOf, type ObjectKey } from '../runtime/keys.js';
import { Manager, type InformerDefaults, type LeaderElectionConfig } from '../runtime/manager.js';
import type { ResourceType } from '../runtime/resource.js';
import {
  assignmentReconciler,
  imageReconciler,
  maintainerGroupReconciler,
  maintainerReconciler,
  serviceMeshReconciler,
  specificationReconciler,
  zoneReconciler,
} from './catalog/reconcilers.js';
import { externalControllerReconciler } from './externalcontroller/reconciler.js';
import {
  baremetalGroupReconciler,
  baremetalReconciler,
  datacenterReconciler,
  rackReconciler,
} from './inventory/reconcilers.js';
import { tenantOfNamespace } from './inventory/accounting.js';
import { k8sClusterReconciler } from './k8scluster/reconciler.js';
import type { ControllerContext } from './shared/context.js';
import { indexes, type IndexFunctions, type Listers } from './shared/listers.js';
import { Kinds } from './shared/resources-of-kinds.js';
import { tenantQuotaReconciler } from './tenancy/quota.js';
import { tenantReconciler } from './tenancy/tenant.js';
import { Placer } from './virtualmachine/placer.js';
import { virtualMachineReconciler } from './virtualmachine/reconciler.js';

export interface ControllerSetupOptions {
  kubeConfig: KubeConfig;
  leaderElection?: LeaderElectionConfig | false;
  /** Where external controllers report VM status, with a status-only token. */
  callback?: CallbackTarget;
  /** Replaces the HTTP provider (tests). */
  providerFor?: (controller: ExternalController) => VirtualMachineProvider;
  vmWorkers?: number;
  resyncMs?: number;
  providerRetryMs?: number;
  probeIntervalMs?: number;
  informerDefaults?: InformerDefaults;
  registry?: Registry;
  log?: Logger;
}

export interface VirtflowControllers {
  manager: Manager;
  listers: Listers;
  placer: Placer;
}

const key = (name: string | undefined, namespace?: string): ObjectKey[] => (name ? [namespace ? { namespace, name } : { name }] : []);
const keysOf = (objs: KubeObject[]): ObjectKey[] => objs.map((o) => keyOf(o));

export function setupControllers(opts: ControllerSetupOptions): VirtflowControllers {
  const manager = new Manager({
    kubeConfig: opts.kubeConfig,
    fieldManager: 'virtflow-controller',
    leaderElection: opts.leaderElection ?? { namespace: 'virtflow-system', name: 'virtflow-controller' },
    informerDefaults: opts.informerDefaults,
    registry: opts.registry,
    log: opts.log,
  });
  const informer = <T extends KubeObject>(resource: ResourceType, fns: IndexFunctions<T> = {}): Informer<T> => {
    const inf = manager.informer<T>(resource);
    for (const [name, fn] of Object.entries(fns)) inf.addIndexer(name, fn);
    return inf;
  };
  const listers = {
    datacenters: informer(Kinds.Datacenter),
    racks: informer(Kinds.Rack, indexes.racks),
    groups: informer(Kinds.BaremetalGroup),
    hosts: informer(Kinds.Baremetal, indexes.hosts),
    tenants: informer(Kinds.Tenant, indexes.tenants),
    quotas: informer(Kinds.TenantQuota, indexes.quotas),
    specifications: informer(Kinds.VirtualMachineSpecification),
    images: informer(Kinds.VirtualMachineImage),
    vms: informer(Kinds.VirtualMachine, indexes.vms),
    clusters: informer(Kinds.K8sCluster, indexes.clusters),
    externalControllers: informer(Kinds.ExternalController),
    zones: informer(Kinds.Zone, indexes.zones),
    serviceMeshes: informer(Kinds.ServiceMesh),
    maintainers: informer(Kinds.Maintainer),
    maintainerGroups: informer(Kinds.MaintainerGroup, indexes.maintainerGroups),
    assignments: informer(Kinds.MaintainerAssignment, indexes.assignments),
  } satisfies Listers;
  const recorder = manager.eventRecorder('virtflow-controller');
  const ctx: ControllerContext = {
    listers,
    client: manager.client,
    events: { record: (obj, type, reason, message) => void recorder.event(obj, type, reason, message) },
    now: () => new Date(),
  };

  const placer = new Placer(listers);
  listers.vms.subscribe((e) => {
    const k = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
    placer.observeVm(k, e.type === 'deleted' ? undefined : e.object, e.type === 'deleted' ? e.object : e.previous);
  });
  for (const inf of [listers.hosts, listers.groups, listers.quotas, listers.racks, listers.datacenters, listers.tenants] as Informer<any>[]) {
    inf.subscribe(() => placer.invalidate());
  }

  const hostsOfDatacenter = (dc: KubeObject) =>
    listers.racks.byIndex('byDatacenter', dc.metadata.name!).flatMap((r) => listers.hosts.byIndex('byRack', r.metadata.name!));
  const waitingVms = () => [...listers.vms.byIndex('byPhase', 'Unschedulable'), ...listers.vms.byIndex('byPhase', 'Pending')];
  const quotasOfTenantNamespace = (namespace: string | undefined) => {
    const tenant = namespace ? tenantOfNamespace(namespace, listers) : undefined;
    return tenant ? listers.quotas.byIndex('byTenant', tenant) : [];
  };
  const vmHostGroup = (vm: VirtualMachine) => {
    const host = vm.status?.placement?.baremetal ? listers.hosts.get(vm.status.placement.baremetal) : undefined;
    return host?.spec.group ?? vm.spec.group;
  };

  manager.controller('datacenter').for(listers.datacenters)
    .watches(listers.racks, (r) => key(r.spec.datacenter))
    .watches(listers.hosts, (b) => key(listers.racks.get(b.spec.rack)?.spec.datacenter))
    .complete(datacenterReconciler(ctx));
  manager.controller('rack').for(listers.racks)
    .watches(listers.hosts, (b) => key(b.spec.rack))
    .watches(listers.datacenters, (dc) => keysOf(listers.racks.byIndex('byDatacenter', dc.metadata.name!)))
    .complete(rackReconciler(ctx));
  manager.controller('baremetal').for(listers.hosts).withWorkers(2)
    .watches(listers.vms, (vm) => key(vm.status?.placement?.baremetal))
    .watches(listers.racks, (r) => keysOf(listers.hosts.byIndex('byRack', r.metadata.name!)))
    .watches(listers.datacenters, (dc) => keysOf(hostsOfDatacenter(dc)))
    .watches(listers.groups, (g) => keysOf(listers.hosts.byIndex('byGroup', g.metadata.name!)))
    .complete(baremetalReconciler(ctx));
  manager.controller('baremetalgroup').for(listers.groups)
    .watches(listers.hosts, (b) => key(b.spec.group))
    .watches(listers.vms, (vm) => key(vmHostGroup(vm)))
    .watches(listers.quotas, (q) => key(q.spec.group))
    .watches(listers.racks, (r) => listers.hosts.byIndex('byRack', r.metadata.name!).flatMap((h) => key(h.spec.group)))
    .complete(baremetalGroupReconciler(ctx));
  manager.controller('tenant').for(listers.tenants)
    .watches(listers.vms, (vm) => key(tenantOfNamespace(vm.metadata.namespace!, listers)))
    .watches(listers.clusters, (c) => key(tenantOfNamespace(c.metadata.namespace!, listers)))
    .complete(tenantReconciler(ctx));
  manager.controller('tenantquota').for(listers.quotas).withWorkers(2)
    .watches(listers.vms, (vm) => keysOf(quotasOfTenantNamespace(vm.metadata.namespace)))
    .watches(listers.hosts, (b) => (b.spec.group ? keysOf(listers.quotas.byIndex('byGroup', b.spec.group)) : []))
    .watches(listers.groups, (g) => keysOf(listers.quotas.byIndex('byGroup', g.metadata.name!)))
    .watches(listers.tenants, (t) => keysOf(listers.quotas.byIndex('byTenant', t.metadata.name!)))
    .complete(tenantQuotaReconciler(ctx));
  manager.controller('virtualmachinespecification').for(listers.specifications)
    .watches(listers.vms, (vm) => key(vm.spec.specification))
    .complete(specificationReconciler(ctx));
  manager.controller('virtualmachineimage').for(listers.images).complete(imageReconciler(ctx));
  manager.controller('zone').for(listers.zones)
    .watches(listers.racks, (r) => keysOf(listers.zones.byIndex('byRack', r.metadata.name!)))
    .watches(listers.hosts, (b) => keysOf(listers.zones.byIndex('byRack', b.spec.rack)))
    .complete(zoneReconciler(ctx));
  manager.controller('servicemesh').for(listers.serviceMeshes)
    .watches(listers.clusters, (c) => (c.spec.serviceMeshes ?? []).map((m) => ({ name: m.mesh })))
    .complete(serviceMeshReconciler(ctx));
  manager.controller('maintainer').for(listers.maintainers)
    .watches(listers.maintainerGroups, (g) => [g.spec.manager, ...(g.spec.members ?? [])].map((name) => ({ name })))
    .watches(listers.assignments, (a) => (a.spec.maintainers ?? []).map((name) => ({ name })))
    .complete(maintainerReconciler(ctx));
  manager.controller('maintainergroup').for(listers.maintainerGroups)
    .watches(listers.maintainers, (m) => keysOf(listers.maintainerGroups.byIndex('byMember', m.metadata.name!)))
    .watches(listers.assignments, (a) => (a.spec.groups ?? []).map((name) => ({ name })))
    .complete(maintainerGroupReconciler(ctx));
  manager.controller('maintainerassignment').for(listers.assignments)
    .watches(listers.maintainers, (m) => keysOf(listers.assignments.byIndex('byMaintainer', m.metadata.name!)))
    .watches(listers.maintainerGroups, (g) => keysOf(listers.assignments.byIndex('byGroup', g.metadata.name!)))
    .complete(assignmentReconciler(ctx));
  manager.controller('k8scluster').for(listers.clusters)
    .watches(listers.vms, (vm) => (vm.spec.cluster ? key(vm.spec.cluster, vm.metadata.namespace) : []))
    .watches(listers.serviceMeshes, (m) => keysOf(listers.clusters.byIndex('byMesh', m.metadata.name!)))
    .watches(listers.specifications, () => keysOf(listers.clusters.list()))
    .complete(k8sClusterReconciler(ctx));
  manager.controller('externalcontroller').for(listers.externalControllers)
    .complete(externalControllerReconciler(ctx, (xc) => probeExternalController(xc), { intervalMs: opts.probeIntervalMs }));

  const providerFor = opts.providerFor ?? ((xc: ExternalController) => httpProviderFor(xc, { callback: opts.callback }));
  manager.controller('virtualmachine').for(listers.vms).withWorkers(opts.vmWorkers ?? 8)
    // Released capacity (a VM gone) and changed inventory wake the VMs that wait for it.
    .watches(listers.vms, (vm) => (vm.metadata.deletionTimestamp ? keysOf(listers.vms.byIndex('byPhase', 'Unschedulable')) : []))
    .watches(listers.specifications, (s) => keysOf(listers.vms.byIndex('bySpecification', s.metadata.name!)))
    .watches(listers.images, (i) => keysOf(listers.vms.byIndex('byImage', i.metadata.name!)))
    .watches(listers.hosts, (b) => keysOf([...waitingVms(), ...listers.vms.byIndex('byPinnedHost', b.metadata.name!)]))
    .watches(listers.groups, () => keysOf(waitingVms()))
    .watches(listers.quotas, () => keysOf(waitingVms()))
    .watches(listers.tenants, (t) => keysOf(listers.vms.list(t.spec?.namespace || t.metadata.name)))
    .watches(listers.clusters, (c) => keysOf(listers.vms.byIndex('byCluster', `${c.metadata.namespace}/${c.metadata.name}`)))
    .watches(listers.externalControllers, () => keysOf(listers.vms.list().filter((v) => v.status?.placement?.baremetal && v.status?.phase !== 'Running')))
    .complete(virtualMachineReconciler(ctx, placer, { providerFor, resyncMs: opts.resyncMs, providerRetryMs: opts.providerRetryMs }));

  return { manager, listers, placer };
}

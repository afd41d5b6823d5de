// Wires VirtFlow's controllers into a runtime Manager: one shared informer per kind (with the
// indexes the reconcilers read), the watches that say which keys a change concerns, and the
// placement assume cache fed by VM events.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { KubeObject } from '../machinery/object.js';
import type { Baremetal } from '../kinds/baremetal.js';
import type { ExternalController } from '../kinds/externalcontroller.js';
import type { MaintainerGroup } from '../kinds/maintainergroup.js';
import type { VirtualMachine } from '../kinds/virtualmachine.js';
import type { CallbackTarget } from '../providers/http-provider.js';
import { httpProviderFor, probeExternalController } from '../providers/http-provider.js';
import { credentialsReader } from '../providers/credentials.js';
import { kubeconfigCa } from '../providers/transport-policy.js';
import type { VirtualMachineProvider } from '../providers/external-client.js';
import { httpClusterServiceFor, type K8sClusterService } from '../providers/cluster-service.js';
import type { Informer, InformerEvent } from '../runtime/informer.js';
import { keyOf, keyString, type ObjectKey } from '../runtime/keys.js';
import type { Controller } from '../runtime/controller.js';
import { Manager, type InformerDefaults, type LeaderElectionConfig } from '../runtime/manager.js';
import type { ResourceType } from '../runtime/resource.js';
import {
  assignmentReconciler,
  imageReconciler,
  maintainerGroupReconciler,
  maintainerReconciler,
  serviceMeshReconciler,
  zoneReconciler,
} from './catalog/reconcilers.js';
import { specificationReconciler } from './catalog/specification.js';
import { ExternalControllerIdentities, withCallbackIdentity } from './externalcontroller/identity.js';
import { externalControllerReconciler } from './externalcontroller/reconciler.js';
import {
  baremetalGroupReconciler,
  baremetalReconciler,
  datacenterReconciler,
  rackReconciler,
} from './inventory/reconcilers.js';
import { tenantOfNamespace } from './shared/accounting.js';
import { migrationTarget, reservedHosts } from './drain/reservation.js';
import { drainReconciler } from './drain/drain.js';
import { startBastionController } from './k8scluster/bastions.js';
import { k8sClusterReconciler } from './k8scluster/reconciler.js';
import { startMaintainedControllers } from './ownership/maintainers.js';
import type { ControllerContext } from './shared/context.js';
import { indexes, type IndexFunctions, type Listers } from './shared/listers.js';
import { Kinds } from './shared/resources-of-kinds.js';
import { tenantQuotaReconciler } from './tenancy/quota.js';
import { tenantReconciler } from './tenancy/tenant.js';
import { Placer } from './virtualmachine/placer.js';
import { virtualMachineReconciler } from './virtualmachine/reconciler.js';
import { tenantNamespace } from '../kinds/tenant.js';

export interface ControllerSetupOptions {
  kubeConfig: KubeConfig;
  leaderElection?: LeaderElectionConfig | false;
  /** Where external controllers report VM status, with a status-only token. */
  callback?: CallbackTarget;
  /**
   * A CA trusted, besides the system roots, for external controllers without a caBundle;
   * default: the CA of kubeConfig's cluster (VirtFlow's own under `virtflow up`).
   */
  trustedCa?: string;
  /** Replaces the HTTP provider (tests). */
  providerFor?: (controller: ExternalController) => VirtualMachineProvider;
  vmWorkers?: number;
  /** Replaces the HTTP client of the K8s Cluster Service (tests). */
  clusterServiceFor?: (controller: ExternalController) => K8sClusterService;
  /** How often a cluster with work in flight observes the K8s Cluster Service (default 1000 ms). */
  clusterPollMs?: number;
  /**
   * Derived status (hosts' and groups' allocations, quotas' usage, counts) is recomputed at
   * most this often per object (default 1000 ms; 0: on every change).
   */
  statusIntervalMs?: number;
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

/** The Lease the controllers campaign for, unless told another. */
export const CONTROLLER_LEASE = { namespace: 'virtflow-system', name: 'virtflow-controller' } as const;

const key = (name: string | undefined, namespace?: string): ObjectKey[] => (name ? [namespace ? { namespace, name } : { name }] : []);
const keysOf = (objs: KubeObject[]): ObjectKey[] => objs.map((o) => keyOf(o));
const membersOf = (g: MaintainerGroup | undefined): string[] => (g ? [g.spec.manager, ...(g.spec.members ?? [])] : []);

export function setupControllers(opts: ControllerSetupOptions): VirtflowControllers {
  const manager = new Manager({
    kubeConfig: opts.kubeConfig,
    fieldManager: 'virtflow-controller',
    leaderElection: opts.leaderElection ?? CONTROLLER_LEASE,
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
    nodePools: informer(Kinds.K8sNodePool, indexes.nodePools),
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
    statusIntervalMs: opts.statusIntervalMs ?? 1000,
  };

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

  // The inventory's status is derived: from specs (a host's rack, capacity and state; a
  // group's overcommit; a quota's limits) and from where VMs are placed. Status writes of
  // one kind never change another's figures, so the watches between them wake only on spec
  // changes and placement changes (watchWhen): mapped for every status write, each
  // placement woke every host of the group and every quota of the group, again and again.
  const datacenterController = manager.controller('datacenter').for(listers.datacenters).complete(datacenterReconciler(ctx));
  watchWhen(listers.racks, specChanged, (r) => key(r.spec.datacenter), datacenterController);
  watchWhen(listers.hosts, specChanged, (b) => key(listers.racks.get(b.spec.rack)?.spec.datacenter), datacenterController);

  const rackController = manager.controller('rack').for(listers.racks).complete(rackReconciler(ctx));
  watchWhen(listers.hosts, specChanged, (b) => key(b.spec.rack), rackController);
  watchWhen(listers.datacenters, specChanged, (dc) => keysOf(listers.racks.byIndex('byDatacenter', dc.metadata.name!)), rackController);

  const hostController = manager.controller('baremetal').for(listers.hosts).withWorkers(2).complete(baremetalReconciler(ctx));
  watchWhen(listers.vms, placementChanged, (vm) => reservedHosts(vm).map((name) => ({ name })), hostController);
  watchWhen(listers.racks, specChanged, (r) => keysOf(listers.hosts.byIndex('byRack', r.metadata.name!)), hostController);
  watchWhen(listers.hosts, specChanged, (b) => keysOf(listers.hosts.byIndex('byRack', b.spec.rack)), hostController);
  watchWhen(listers.datacenters, specChanged, (dc) => keysOf(hostsOfDatacenter(dc)), hostController);
  watchWhen(listers.groups, specChanged, (g) => keysOf(listers.hosts.byIndex('byGroup', g.metadata.name!)), hostController);

  const groupsOf = (hosts: Baremetal[]) => [...new Set(hosts.map((h) => h.spec.group).filter((g): g is string => !!g))].map((name) => ({ name }));
  const groupController = manager.controller('baremetalgroup').for(listers.groups).complete(baremetalGroupReconciler(ctx));
  watchWhen(listers.hosts, specChanged, (b) => key(b.spec.group), groupController);
  watchWhen(listers.vms, placementChanged, (vm) => {
    // A VM being moved also counts in its target host's group.
    const target = migrationTarget(vm);
    const groups = [vmHostGroup(vm), target ? listers.hosts.get(target)?.spec.group : undefined];
    return [...new Set(groups)].flatMap((g) => key(g));
  }, groupController);
  watchWhen(listers.quotas, specChanged, (q) => key(q.spec.group), groupController);
  watchWhen(listers.racks, specChanged, (r) => groupsOf(listers.hosts.byIndex('byRack', r.metadata.name!)), groupController);
  watchWhen(listers.datacenters, specChanged, (dc) => groupsOf(hostsOfDatacenter(dc)), groupController);

  const tenantController = manager.controller('tenant').for(listers.tenants)
    .watches(listers.clusters, (c) => key(tenantOfNamespace(c.metadata.namespace!, listers)))
    .complete(tenantReconciler(ctx));
  // A tenant counts its VMs (and waits for them when deleted): only a VM added or gone
  // changes that, not the many status writes of each VM's life.
  watchWhen(listers.vms, (e) => e.type === 'added' || e.type === 'deleted', (vm) => key(tenantOfNamespace(vm.metadata.namespace!, listers)), tenantController);
  // A tenant's subjects may read its quotas by name (src/controllers/tenancy/access.ts).
  watchWhen(listers.quotas, (e) => e.type !== 'updated' || e.previous?.spec.tenant !== e.object.spec.tenant, (q) => key(q.spec.tenant), tenantController);

  // A quota's percent limits follow its group's capacity (its hosts' specs and locations).
  const quotasOfGroups = (groups: ObjectKey[]) => groups.flatMap((g) => keysOf(listers.quotas.byIndex('byGroup', g.name)));
  const quotaController = manager.controller('tenantquota').for(listers.quotas).withWorkers(2).complete(tenantQuotaReconciler(ctx));
  watchWhen(listers.vms, placementChanged, (vm) => keysOf(quotasOfTenantNamespace(vm.metadata.namespace)), quotaController);
  watchWhen(listers.hosts, specChanged, (b) => (b.spec.group ? keysOf(listers.quotas.byIndex('byGroup', b.spec.group)) : []), quotaController);
  watchWhen(listers.groups, specChanged, (g) => keysOf(listers.quotas.byIndex('byGroup', g.metadata.name!)), quotaController);
  watchWhen(listers.tenants, specChanged, (t) => keysOf(listers.quotas.byIndex('byTenant', t.metadata.name!)), quotaController);
  watchWhen(listers.racks, specChanged, (r) => quotasOfGroups(groupsOf(listers.hosts.byIndex('byRack', r.metadata.name!))), quotaController);
  watchWhen(listers.datacenters, specChanged, (dc) => quotasOfGroups(groupsOf(hostsOfDatacenter(dc))), quotaController);

  // A flavor counts the VMs that use it.
  const specificationController = manager.controller('virtualmachinespecification').for(listers.specifications).complete(specificationReconciler(ctx));
  watchWhen(
    listers.vms,
    (e) => e.type === 'added' || e.type === 'deleted' || (e.type === 'updated' && e.previous?.spec.specification !== e.object.spec.specification),
    (vm) => key(vm.spec.specification),
    specificationController,
  );
  manager.controller('virtualmachineimage').for(listers.images).complete(imageReconciler(ctx));
  const zoneController = manager.controller('zone').for(listers.zones).complete(zoneReconciler(ctx));
  watchWhen(listers.racks, specChanged, (r) => keysOf(listers.zones.byIndex('byRack', r.metadata.name!)), zoneController);
  watchWhen(listers.hosts, specChanged, (b) => keysOf(listers.zones.byIndex('byRack', b.spec.rack)), zoneController);
  manager.controller('servicemesh').for(listers.serviceMeshes)
    .watches(listers.clusters, (c) => (c.spec.serviceMeshes ?? []).map((m) => ({ name: m.mesh })))
    .complete(serviceMeshReconciler(ctx));
  manager.controller('maintainer').for(listers.maintainers)
    .watches(listers.maintainerGroups, (g) => membersOf(g).map((name) => ({ name })))
    .watches(listers.assignments, (a) => [...(a.spec.maintainers ?? []), ...(a.spec.groups ?? []).flatMap((g) => membersOf(listers.maintainerGroups.get(g)))].map((name) => ({ name })))
    .complete(maintainerReconciler(ctx));
  startMaintainedControllers(manager, ctx);
  startBastionController(manager, ctx);
  manager.controller('maintainergroup').for(listers.maintainerGroups)
    .watches(listers.maintainers, (m) => keysOf(listers.maintainerGroups.byIndex('byMember', m.metadata.name!)))
    .watches(listers.assignments, (a) => (a.spec.groups ?? []).map((name) => ({ name })))
    .complete(maintainerGroupReconciler(ctx));
  manager.controller('maintainerassignment').for(listers.assignments)
    .watches(listers.maintainers, (m) => keysOf(listers.assignments.byIndex('byMaintainer', m.metadata.name!)))
    .watches(listers.maintainerGroups, (g) => keysOf(listers.assignments.byIndex('byGroup', g.metadata.name!)))
    .complete(assignmentReconciler(ctx));
  const clusterServiceFor =
    opts.clusterServiceFor ?? ((xc: ExternalController) => httpClusterServiceFor(xc, { token: credentialsReader(ctx.client, xc) }));
  const clusterController = manager.controller('k8scluster').for(listers.clusters).withWorkers(8)
    .watches(listers.vms, (vm) => [...(vm.spec.cluster ? [vm.spec.cluster] : []), ...(vm.status?.bastionFor ?? [])].flatMap((c) => key(c, vm.metadata.namespace)))
    .watches(listers.nodePools, (p) => key(p.spec.cluster, p.metadata.namespace))
    .watches(listers.serviceMeshes, (m) => keysOf(listers.clusters.byIndex('byMesh', m.metadata.name!)))
    .complete(k8sClusterReconciler(ctx, { serviceFor: clusterServiceFor, pollMs: opts.clusterPollMs, resyncMs: opts.resyncMs }));
  // A service that became unreachable (or reachable again) is news to every cluster it serves.
  const reachabilityChanged = (e: InformerEvent<ExternalController>) => specChanged(e) || e.previous?.status?.reachable !== e.object.status?.reachable;
  watchWhen(listers.externalControllers, reachabilityChanged, () => keysOf(listers.clusters.list()), clusterController);
  watchWhen(listers.specifications, specChanged, () => keysOf(listers.clusters.list()), clusterController);
  const extraCa = opts.trustedCa ?? kubeconfigCa(opts.kubeConfig);
  // Each ExternalController reports back as its own ServiceAccount (docs/security.md).
  const identities = new ExternalControllerIdentities(ctx.client);
  manager.controller('externalcontroller').for(listers.externalControllers)
    .complete(externalControllerReconciler(ctx, (xc) => probeExternalController(xc, { extraCa }), { intervalMs: opts.probeIntervalMs, identities }));

  const providerFor =
    opts.providerFor ??
    ((xc: ExternalController) =>
      withCallbackIdentity(
        (callbackToken) =>
          httpProviderFor(xc, { callback: callbackToken ? { ...opts.callback, token: callbackToken } : opts.callback, token: credentialsReader(ctx.client, xc), extraCa }),
        () => identities.token(xc),
      ));
  const vmController = manager.controller('virtualmachine').for(listers.vms).withWorkers(opts.vmWorkers ?? 8)
    .watches(listers.externalControllers, () => keysOf(listers.vms.list().filter((v) => v.status?.placement?.baremetal && v.status?.phase !== 'Running')))
    .complete(virtualMachineReconciler(ctx, placer, { providerFor, resyncMs: opts.resyncMs, providerRetryMs: opts.providerRetryMs }));
  // Drain of hosts in Maintenance: one worker, so per-host and per-tenant budgets are decided
  // one host at a time. Woken by the moves of the VMs on, from and to a host in Maintenance.
  const inMaintenance = (names: (string | undefined)[]) =>
    [...new Set(names)].filter((n): n is string => !!n && listers.hosts.get(n)?.spec.state === 'Maintenance').map((name) => ({ name }));
  const maintenanceHosts = () => keysOf(listers.hosts.list().filter((h) => h.spec.state === 'Maintenance'));
  const drainController = manager.controller('drain').for(listers.hosts).withWorkers(1)
    .watches(listers.vms, (vm) => inMaintenance([vm.status?.placement?.baremetal, vm.status?.migration?.source?.baremetal, vm.status?.migration?.target?.baremetal]))
    .watches(listers.tenants, () => maintenanceHosts())
    .watches(listers.quotas, () => maintenanceHosts())
    .watches(listers.externalControllers, () => maintenanceHosts())
    .complete(drainReconciler(ctx, placer, { resyncMs: Math.min(opts.resyncMs ?? 5000, 5000) }));
  // Room made elsewhere (a host back to Available, a new host) is what a Blocked drain waits for.
  watchWhen(listers.hosts, specChanged, () => maintenanceHosts(), drainController);

  // What a VM names, appearing or changing (a flavor's status counts its VMs: mapping those
  // writes to every VM of the flavor re-ran thousands of VMs per placement).
  watchWhen(listers.specifications, specChanged, (s) => keysOf(listers.vms.byIndex('bySpecification', s.metadata.name!)), vmController);
  watchWhen(listers.images, specChanged, (i) => keysOf(listers.vms.byIndex('byImage', i.metadata.name!)), vmController);
  watchWhen(listers.clusters, specChanged, (c) => keysOf(listers.vms.byIndex('byCluster', `${c.metadata.namespace}/${c.metadata.name}`)), vmController);

  // What wakes the VMs that wait to be placed: capacity released (a placed VM gone) and
  // inventory or quota changed. These watch the informers directly because only the event
  // says whether a spec changed: a map function sees one object, and mapping every status
  // write of every host, group, quota and tenant to every waiting VM made each placement
  // cost O(waiting VMs) in queue work and re-ran the scheduler for all of them.
  watchWhen(listers.vms, (e) => e.type === 'deleted' && e.object.status?.placement?.baremetal !== undefined, () => keysOf(listers.vms.byIndex('byPhase', 'Unschedulable')), vmController);
  watchWhen(listers.hosts, specChanged, (b) => keysOf([...waitingVms(), ...listers.vms.byIndex('byPinnedHost', b.metadata.name!)]), vmController);
  for (const inf of [listers.groups, listers.quotas, listers.racks, listers.datacenters] as Informer<any>[]) {
    watchWhen(inf, specChanged, () => keysOf(waitingVms()), vmController);
  }
  watchWhen(listers.tenants, specChanged, (t) => keysOf(listers.vms.list(tenantNamespace(t))), vmController);

  return { manager, listers, placer };
}

/**
 * Like the builder's watches(), for the events that pass `when` only: a map function sees
 * one object and cannot tell a spec change from a status write. Keys queued while this
 * process is not the leader wait in the queue; the controller starts with every key anyway.
 */
function watchWhen<T extends KubeObject>(
  informer: Informer<T>,
  when: (e: InformerEvent<T>) => boolean,
  map: (obj: T) => ObjectKey[],
  controller: Controller,
): void {
  informer.subscribe((e) => {
    if (!when(e)) return;
    // Both sides of an update, as the builder's watches do: a VM moved off a host, or a host
    // moved out of a group, concerns where it was as much as where it is.
    for (const obj of e.previous ? [e.object, e.previous] : [e.object]) {
      for (const k of map(obj)) controller.queue.add(keyString(k));
    }
  });
}

/**
 * Whether a VM event changes what is reserved where: a VM added or removed, or its host or
 * its reserved resources changed. Its lifecycle (phase, power, addresses) does not.
 */
export function placementChanged(e: InformerEvent<VirtualMachine>): boolean {
  if (e.type === 'added' || e.type === 'deleted') return true;
  if (e.type !== 'updated' || !e.previous) return false;
  const before = e.previous.status;
  const after = e.object.status;
  return (
    before?.placement?.baremetal !== after?.placement?.baremetal ||
    migrationTarget(e.previous) !== migrationTarget(e.object) ||
    JSON.stringify(before?.resources) !== JSON.stringify(after?.resources)
  );
}

/**
 * Whether an object was added or removed, or its spec (or deletion) changed: what can change
 * a placement decision or a reference. Status writes (the controllers' own bookkeeping) and
 * periodic resyncs never can.
 */
export function specChanged(e: InformerEvent<KubeObject & { spec?: unknown }>): boolean {
  if (e.type === 'added' || e.type === 'deleted') return true;
  if (e.type !== 'updated' || !e.previous) return false;
  const before = e.previous;
  const after = e.object;
  return (
    before.metadata.generation !== after.metadata.generation ||
    before.metadata.deletionTimestamp !== after.metadata.deletionTimestamp ||
    JSON.stringify(before.spec) !== JSON.stringify(after.spec)
  );
}

// Wires VirtFlow's controllers into a runtime Manager: one shared informer per kind (with the
// indexes the reconcilers read), the context the reconcilers share, and each controller
// folder's register.ts, which builds that folder's controllers and says which keys a change
// concerns.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { KubeObject } from '../machinery/object.js';
import type { ExternalController } from '../kinds/externalcontroller.js';
import type { CallbackTarget } from '../providers/http-provider.js';
import { ProviderCredentials } from '../providers/credentials.js';
import { kubeconfigCa } from '../providers/transport-policy.js';
import type { VirtualMachineProvider } from '../providers/external-client.js';
import type { K8sClusterService } from '../providers/cluster-service.js';
import type { Informer } from '../runtime/informer.js';
import { Manager, type InformerDefaults, type LeaderElectionConfig } from '../runtime/manager.js';
import type { ResourceType } from '../runtime/resource.js';
import { registerCatalog } from './catalog/register.js';
import { registerDrain } from './drain/register.js';
import { ExternalControllerIdentities } from './externalcontroller/identity.js';
import { registerExternalControllers } from './externalcontroller/register.js';
import { registerInventory } from './inventory/register.js';
import { registerK8sClusters } from './k8scluster/register.js';
import { registerOwnership } from './ownership/register.js';
import type { ControllerContext } from './shared/context.js';
import { indexes, type IndexFunctions, type Listers } from './shared/listers.js';
import type { Informers, Registration } from './shared/registration.js';
import { Kinds } from './shared/resources-of-kinds.js';
import { registerTenancy } from './tenancy/register.js';
import type { Placer } from './virtualmachine/placer.js';
import { registerVirtualMachines, watchedPlacer } from './virtualmachine/register.js';

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
  const informers: Informers = {
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
  };
  const recorder = manager.eventRecorder('virtflow-controller');
  const ctx: ControllerContext = {
    listers: informers,
    client: manager.client,
    events: { record: (obj, type, reason, message) => void recorder.event(obj, type, reason, message) },
    now: () => new Date(),
    statusIntervalMs: opts.statusIntervalMs ?? 1000,
  };
  const registration: Registration = {
    manager,
    informers,
    ctx,
    options: opts,
    placer: watchedPlacer(informers),
    identities: new ExternalControllerIdentities(ctx.client),
    credentials: new ProviderCredentials(ctx.client),
    extraCa: opts.trustedCa ?? kubeconfigCa(opts.kubeConfig),
  };
  // The placer subscribes to the informers here, ahead of every controller: its assume cache
  // sees each VM event before any reconcile that event causes. Controllers start in the
  // order registered.
  registerInventory(registration);
  registerTenancy(registration);
  registerCatalog(registration);
  registerOwnership(registration);
  registerK8sClusters(registration);
  registerExternalControllers(registration);
  registerVirtualMachines(registration);
  registerDrain(registration);
  return { manager, listers: informers, placer: registration.placer };
}

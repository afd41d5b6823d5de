// A K8sCluster, or a K8sNodePool created or scaled up, whose new nodes cannot be placed at
// all is refused before anything is built, with the scheduler's own counted reasons ("0/12
// hosts: 7 Insufficient cpu, ..."). The placements are tried with the same scheduler and
// snapshot the VM controller uses, over the server's cache. One that fits only in part is
// admitted: the cluster's NodesScheduled condition then says how many nodes are missing and
// why, and those nodes wait (holding no quota) for capacity.
import type { Admitter } from '../api/object-service.js';
import { buildSnapshot } from '../controllers/virtualmachine/placer.js';
import { indexes, memoryLister, type Listers } from '../controllers/shared/listers.js';
import { fromAmounts } from '../controllers/shared/resources.js';
import type { K8sCluster } from '../kinds/k8scluster.js';
import type { K8sNodePool } from '../kinds/k8snodepool.js';
import type { VirtualMachine } from '../kinds/virtualmachine.js';
import { controlPlaneSpread, nodeVm } from '../controllers/k8scluster/nodes.js';
import { controlPlaneTarget } from '../controllers/k8scluster/upgrade.js';
import { errors } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import { scheduleMany, type ScheduleResult } from '../scheduler/schedule.js';
import type { PlacementRequest, Snapshot } from '../scheduler/types.js';
import type { WatchCache } from '../store/watch-cache.js';
import { tenantOwningNamespace } from './tenancy.js';

// The kinds' documents as stored (validated on the way in).
const of = (cache: WatchCache, plural: string) => cache.list(`virtflow.io/${plural}`).map((e) => e.object as any);

/** The caches the scheduler's snapshot reads, from the API server's own cache. */
function snapshotListers(cache: WatchCache): Listers {
  const none = memoryLister<never>([]);
  return {
    datacenters: memoryLister(of(cache, 'datacenters')),
    racks: memoryLister(of(cache, 'racks'), indexes.racks),
    groups: memoryLister(of(cache, 'baremetalgroups')),
    hosts: memoryLister(of(cache, 'baremetals'), indexes.hosts),
    tenants: memoryLister(of(cache, 'tenants'), indexes.tenants),
    quotas: memoryLister(of(cache, 'tenantquotas'), indexes.quotas),
    specifications: memoryLister(of(cache, 'virtualmachinespecifications')),
    images: none,
    vms: memoryLister(of(cache, 'virtualmachines'), indexes.vms),
    clusters: none,
    nodePools: none,
    externalControllers: none,
    zones: none,
    serviceMeshes: none,
    maintainers: none,
    maintainerGroups: none,
    assignments: none,
  } as unknown as Listers;
}

interface NewNodes {
  what: string;
  count: number;
  specification?: string;
  group?: string;
  /** The placement the controller gives these nodes (strategy, the control plane's rack spread). */
  placement?: VirtualMachine['spec']['placement'];
}

function newNodes(info: { plural: string }, operation: string, object: KubeObject, oldObject: KubeObject | undefined, cache: WatchCache, listers: () => Listers): NewNodes[] {
  if (info.plural === 'k8sclusters') {
    const cluster = object as K8sCluster;
    if (cluster.spec?.import || cluster.metadata.deletionTimestamp) return [];
    const cp = cluster.spec?.controlPlane;
    const replicas = cp?.replicas ?? 3;
    // A control plane grown by an update (1 -> 3) is a scale-up too.
    const before = operation === 'UPDATE' ? ((oldObject as K8sCluster | undefined)?.spec?.controlPlane?.replicas ?? 3) : 0;
    if (replicas <= before || !cp?.group) return [];
    const vm = nodeVm({
      cluster,
      group: { kind: 'ControlPlane' },
      // The version the controller builds them at (after a rollback, the one the nodes run):
      // the spread key is per version.
      version: controlPlaneTarget(cluster, ((oldObject as K8sCluster | undefined) ?? cluster).status?.upgrade),
      specification: cp.specification ?? '',
      image: '',
      vmGroup: cp.group,
      spreadAcross: controlPlaneSpread(listers().hosts.byIndex('byGroup', cp.group), replicas),
    });
    return [{ what: 'control-plane', count: replicas - before, specification: cp.specification, group: cp.group, placement: vm.spec.placement }];
  }
  if (info.plural === 'k8snodepools') {
    const pool = object as K8sNodePool;
    const before = operation === 'UPDATE' ? ((oldObject as K8sNodePool | undefined)?.spec?.replicas ?? 1) : 0;
    const added = (pool.spec?.replicas ?? 1) - before;
    if (added <= 0 || pool.metadata.deletionTimestamp) return [];
    const cluster = cache.get('virtflow.io/k8sclusters', `virtflow.io/k8sclusters/${pool.metadata.namespace}/${pool.spec?.cluster}`)?.object as K8sCluster | undefined;
    if (!cluster || cluster.spec?.import) return [];
    const group = pool.spec.group ?? cluster.spec.controlPlane?.group;
    const vm = group
      ? nodeVm({ cluster, group: { kind: 'Worker', pool }, version: cluster.spec.version, specification: pool.spec.specification, image: '', vmGroup: group, spreadAcross: undefined })
      : undefined;
    return [{ what: 'worker', count: added, specification: pool.spec.specification, group, placement: vm?.spec.placement }];
  }
  return [];
}

export function clusterFitAdmitter(cache: WatchCache): Admitter {
  return {
    admit({ operation, info, object, oldObject, subresource }) {
      if (subresource === 'status' || info.group !== 'virtflow.io' || (operation !== 'CREATE' && operation !== 'UPDATE')) return;
      if (info.plural !== 'k8sclusters' && info.plural !== 'k8snodepools') return;
      // Built only for a change that adds nodes: most updates (metadata, scale-downs) add none.
      let built: Listers | undefined;
      const listers = () => (built ??= snapshotListers(cache));
      const wanted = newNodes(info, operation, object, oldObject, cache, listers);
      if (wanted.length === 0) return;
      const tenant = tenantOwningNamespace(cache, object.metadata.namespace ?? '');
      if (!tenant) return;
      const requests: PlacementRequest[] = [];
      for (const w of wanted) {
        // What is not there yet is the controller's to report (ReferencesResolved), not refused.
        const flavor = w.specification ? cache.get('virtflow.io/virtualmachinespecifications', `virtflow.io/virtualmachinespecifications//${w.specification}`)?.object : undefined;
        if (!flavor || !w.group) return;
        const resources = fromAmounts((flavor as KubeObject & { spec?: Record<string, unknown> }).spec);
        for (let i = 0; i < w.count; i++) {
          requests.push({
            vm: `${object.metadata.namespace}/${object.metadata.name}-${w.what}-${i + 1}`,
            tenant: tenant.metadata.name!,
            group: w.group,
            resources,
            strategy: w.placement?.strategy,
            spreadAcross: w.placement?.spreadAcross,
            spreadKey: w.placement?.spreadKey,
          });
        }
      }
      const snapshot = buildSnapshot(listers());
      const results = scheduleMany(snapshot, requests);
      const placed = results.filter((r) => r.ok).length;
      if (placed === 0) {
        const first = results.find((r) => !r.ok);
        const why = first && !first.ok ? first.diagnosis.message : 'no host fits';
        throw errors.forbidden(
          { group: info.group, resource: info.plural },
          object.metadata.name ?? '',
          `none of its ${requests.length} new ${wanted.map((w) => w.what).join(' and ')} node(s) can be placed in tenant ${tenant.metadata.name}'s quota and capacity: ${why}`,
        );
      }
      refuseUnspreadControlPlane(info, object, requests, results, snapshot);
    },
  };
}

/**
 * A control plane that must spread across racks (or hosts) and would be placed further without
 * the spread can never become whole as asked: refused now, naming the field, rather than left
 * Provisioning with a node that waits for a rack or host. (One held back by quota or capacity alone
 * is admitted in part and reported, as any other node.)
 */
function refuseUnspreadControlPlane(info: { group: string; plural: string }, object: KubeObject, requests: PlacementRequest[], results: ScheduleResult[], snapshot: Snapshot): void {
  // Only a cluster's own requests spread: its control plane's.
  const ofControlPlane = (r: PlacementRequest) => r.spreadAcross !== undefined;
  const cp = requests.map((r, i) => ({ r, result: results[i]! })).filter(({ r }) => ofControlPlane(r));
  if (cp.length === 0) return;
  const spread = cp.filter(({ result }) => result.ok).length;
  if (spread === cp.length) return;
  const plain = scheduleMany(snapshot, requests.map(({ spreadAcross: _a, spreadKey: _k, ...r }) => r)).filter((res, i) => res.ok && ofControlPlane(requests[i]!)).length;
  if (plain <= spread) return;
  const cluster = object as K8sCluster;
  const group = cluster.spec.controlPlane!.group!;
  const replicas = cluster.spec.controlPlane?.replicas ?? 3;
  const failed = cp.find(({ result }) => !result.ok)!.result;
  const domain = cp[0]!.r.spreadAcross === 'Host' ? 'host' : 'rack';
  const why = failed.ok ? '' : failed.diagnosis.message;
  throw errors.forbidden(
    { group: info.group, resource: info.plural },
    object.metadata.name ?? '',
    `spec.controlPlane.replicas: the ${replicas} control-plane nodes must each be on a different ${domain} of group ${group}, ` +
      `but only ${spread} of the ${cp.length} new ones can be placed so (${why}); make room on another ${domain} of the group, or lower spec.controlPlane.replicas`,
  );
}

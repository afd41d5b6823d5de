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
import { errors } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import { scheduleMany } from '../scheduler/schedule.js';
import type { PlacementRequest } from '../scheduler/types.js';
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
}

function newNodes(info: { plural: string }, operation: string, object: KubeObject, oldObject: KubeObject | undefined, cache: WatchCache): NewNodes[] {
  if (info.plural === 'k8sclusters' && operation === 'CREATE') {
    const cluster = object as K8sCluster;
    if (cluster.spec?.import) return [];
    const cp = cluster.spec?.controlPlane;
    return [{ what: 'control-plane', count: cp?.replicas ?? 3, specification: cp?.specification, group: cp?.group }];
  }
  if (info.plural === 'k8snodepools') {
    const pool = object as K8sNodePool;
    const before = operation === 'UPDATE' ? ((oldObject as K8sNodePool | undefined)?.spec?.replicas ?? 1) : 0;
    const added = (pool.spec?.replicas ?? 1) - before;
    if (added <= 0 || pool.metadata.deletionTimestamp) return [];
    const cluster = cache.get('virtflow.io/k8sclusters', `virtflow.io/k8sclusters/${pool.metadata.namespace}/${pool.spec?.cluster}`)?.object as K8sCluster | undefined;
    if (!cluster || cluster.spec?.import) return [];
    return [{ what: 'worker', count: added, specification: pool.spec.specification, group: pool.spec.group ?? cluster.spec.controlPlane?.group }];
  }
  return [];
}

export function clusterFitAdmitter(cache: WatchCache): Admitter {
  return {
    admit({ operation, info, object, oldObject, subresource }) {
      if (subresource === 'status' || info.group !== 'virtflow.io' || (operation !== 'CREATE' && operation !== 'UPDATE')) return;
      const wanted = newNodes(info, operation, object, oldObject, cache);
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
          });
        }
      }
      const results = scheduleMany(buildSnapshot(snapshotListers(cache)), requests);
      const placed = results.filter((r) => r.ok).length;
      if (placed > 0) return;
      const first = results.find((r) => !r.ok);
      const why = first && !first.ok ? first.diagnosis.message : 'no host fits';
      throw errors.forbidden(
        { group: info.group, resource: info.plural },
        object.metadata.name ?? '',
        `none of its ${requests.length} new ${wanted.map((w) => w.what).join(' and ')} node(s) can be placed in tenant ${tenant.metadata.name}'s quota and capacity: ${why}`,
      );
    },
  };
}

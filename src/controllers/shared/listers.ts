// What controllers read: indexed caches of each kind, filled by informers. Reconcilers only
// read through this interface, so the tests can hand them plain in-memory listers.
import type { Baremetal } from '../../kinds/baremetal.js';
import { reservedHosts } from '../drain/reservation.js';
import type { BaremetalGroup } from '../../kinds/baremetalgroup.js';
import type { Datacenter } from '../../kinds/datacenter.js';
import type { ExternalController } from '../../kinds/externalcontroller.js';
import type { K8sCluster } from '../../kinds/k8scluster.js';
import type { K8sNodePool } from '../../kinds/k8snodepool.js';
import type { Maintainer } from '../../kinds/maintainer.js';
import type { MaintainerAssignment } from '../../kinds/maintainerassignment.js';
import type { MaintainerGroup } from '../../kinds/maintainergroup.js';
import type { Rack } from '../../kinds/rack.js';
import type { ServiceMesh } from '../../kinds/servicemesh.js';
import type { Zone } from '../../kinds/zone.js';
import { assignmentTarget } from '../ownership/maintainers.js';
import { tenantNamespace, type Tenant } from '../../kinds/tenant.js';
import type { TenantQuota } from '../../kinds/tenantquota.js';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import type { VirtualMachineImage } from '../../kinds/virtualmachineimage.js';
import type { VirtualMachineSpecification } from '../../kinds/virtualmachinespecification.js';

export interface Lister<T> {
  /** By "name" or "namespace/name". */
  get(key: string): T | undefined;
  list(namespace?: string): T[];
  byIndex(index: string, value: string): T[];
}

export interface Listers {
  datacenters: Lister<Datacenter>;
  racks: Lister<Rack>;
  groups: Lister<BaremetalGroup>;
  hosts: Lister<Baremetal>;
  tenants: Lister<Tenant>;
  quotas: Lister<TenantQuota>;
  specifications: Lister<VirtualMachineSpecification>;
  images: Lister<VirtualMachineImage>;
  vms: Lister<VirtualMachine>;
  clusters: Lister<K8sCluster>;
  nodePools: Lister<K8sNodePool>;
  externalControllers: Lister<ExternalController>;
  zones: Lister<Zone>;
  serviceMeshes: Lister<ServiceMesh>;
  maintainers: Lister<Maintainer>;
  maintainerGroups: Lister<MaintainerGroup>;
  assignments: Lister<MaintainerAssignment>;
}

type Meta = { metadata: { name?: string; namespace?: string } };
export type IndexFunctions<T> = Record<string, (obj: T) => string[]>;

/** The indexes each kind's cache keeps; informers register the same functions. */
export const indexes = {
  racks: { byDatacenter: (r: Rack) => [r.spec?.datacenter ?? ''] } as IndexFunctions<Rack>,
  hosts: {
    byRack: (b: Baremetal) => [b.spec?.rack ?? ''],
    byGroup: (b: Baremetal) => (b.spec?.group ? [b.spec.group] : []),
  } as IndexFunctions<Baremetal>,
  quotas: {
    byTenant: (q: TenantQuota) => [q.spec?.tenant ?? ''],
    byGroup: (q: TenantQuota) => [q.spec?.group ?? ''],
  } as IndexFunctions<TenantQuota>,
  vms: {
    // Where a VM holds reservations: its host, and while it is moved, the target too.
    byHost: (v: VirtualMachine) => reservedHosts(v),
    bySpecification: (v: VirtualMachine) => [v.spec?.specification ?? ''],
    byImage: (v: VirtualMachine) => [v.spec?.image ?? ''],
    byGroup: (v: VirtualMachine) => (v.spec?.group ? [v.spec.group] : []),
    byPinnedHost: (v: VirtualMachine) => (v.spec?.baremetal ? [v.spec.baremetal] : []),
    byCluster: (v: VirtualMachine) => (v.spec?.cluster ? [`${v.metadata.namespace}/${v.spec.cluster}`] : []),
    byPhase: (v: VirtualMachine) => [v.status?.phase ?? 'Pending'],
    bySpreadKey: (v: VirtualMachine) => (v.spec?.placement?.spreadKey ? [v.spec.placement.spreadKey] : []),
  } as IndexFunctions<VirtualMachine>,
  clusters: {
    byMesh: (c: K8sCluster) => (c.spec?.serviceMeshes ?? []).map((m) => m.mesh),
  } as IndexFunctions<K8sCluster>,
  nodePools: {
    byCluster: (p: K8sNodePool) => (p.spec?.cluster ? [`${p.metadata.namespace}/${p.spec.cluster}`] : []),
  } as IndexFunctions<K8sNodePool>,
  maintainerGroups: {
    byMember: (g: MaintainerGroup) => [...new Set([g.spec?.manager ?? '', ...(g.spec?.members ?? [])])].filter(Boolean),
  } as IndexFunctions<MaintainerGroup>,
  assignments: {
    byMaintainer: (a: MaintainerAssignment) => a.spec?.maintainers ?? [],
    byGroup: (a: MaintainerAssignment) => a.spec?.groups ?? [],
    byResource: (a: MaintainerAssignment) => [assignmentTarget(a)],
  } as IndexFunctions<MaintainerAssignment>,
  zones: { byRack: (z: Zone) => z.spec?.racks ?? [] } as IndexFunctions<Zone>,
  tenants: { byNamespace: (t: Tenant) => [tenantNamespace(t)] } as IndexFunctions<Tenant>,
};

/** An in-memory lister, for tests and for snapshots. */
export function memoryLister<T extends Meta>(items: T[], indexFns: IndexFunctions<T> = {}): Lister<T> {
  const keyOf = (o: T) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name ?? '');
  const byKey = new Map(items.map((o) => [keyOf(o), o]));
  return {
    get: (key) => byKey.get(key),
    list: (namespace) => items.filter((o) => namespace === undefined || o.metadata.namespace === namespace),
    byIndex: (index, value) => {
      const fn = indexFns[index];
      if (!fn) throw new Error(`no index ${index}`);
      return items.filter((o) => fn(o).includes(value));
    },
  };
}

// Where a new VM would go and why: the same snapshot builder and pure scheduler the
// VirtualMachine controller runs (src/controllers/virtualmachine/placer.ts, src/scheduler),
// over fresh lists of the inventory. The server's dry run has validated and admitted the VM
// first; placement itself is the controller's step, so this is a preview, not a promise.
import type { Baremetal } from '../../src/kinds/baremetal.js';
import type { VirtualMachine } from '../../src/kinds/virtualmachine.js';
import type { VirtualMachineSpecification } from '../../src/kinds/virtualmachinespecification.js';
import type { KubeObject } from '../../src/machinery/object.js';
import { buildSnapshot, placementRequest } from '../../src/controllers/virtualmachine/placer.js';
import { indexes, type Lister, type Listers } from '../../src/controllers/shared/listers.js';
import { tenantOfNamespace } from '../../src/controllers/shared/accounting.js';
import { fromAmounts } from '../../src/controllers/shared/resources.js';
import { schedule, type ScheduleResult } from '../../src/scheduler/index.js';
import { hub } from './informer.js';
import { keyOf, R, type ResourceRef } from './resources.js';

function lister<T extends KubeObject>(items: T[], index: Record<string, (obj: T) => string[]> = {}): Lister<T> {
  const byKey = new Map(items.map((o) => [keyOf(o), o]));
  return {
    get: (key) => byKey.get(key),
    list: (namespace) => (namespace ? items.filter((o) => o.metadata.namespace === namespace) : items),
    byIndex: (name, value) => items.filter((o) => (index[name]?.(o) ?? []).includes(value)),
  };
}

export interface Preview {
  result: ScheduleResult;
  /** region/datacenter/rack of the chosen host. */
  where?: string;
}

export async function previewPlacement(vm: VirtualMachine): Promise<Preview> {
  const list = <T extends KubeObject>(ref: ResourceRef) => hub.listOnce<T>(ref);
  const [datacenters, racks, groups, hosts, tenants, quotas, specifications, vms] = await Promise.all([
    list(R.datacenters),
    list(R.racks),
    list(R.baremetalgroups),
    list<Baremetal>(R.baremetals),
    list(R.tenants),
    list(R.tenantquotas),
    list<VirtualMachineSpecification>(R.specifications),
    list<VirtualMachine>(R.virtualmachines),
  ]);
  const listers = {
    datacenters: lister(datacenters),
    racks: lister(racks, indexes.racks as never),
    groups: lister(groups),
    hosts: lister(hosts, indexes.hosts as never),
    tenants: lister(tenants, indexes.tenants as never),
    quotas: lister(quotas, indexes.quotas as never),
    specifications: lister(specifications),
    images: lister([]),
    vms: lister(vms, indexes.vms as never),
    clusters: lister([]),
    externalControllers: lister([]),
    zones: lister([]),
    serviceMeshes: lister([]),
    maintainers: lister([]),
    maintainerGroups: lister([]),
    assignments: lister([]),
  } as unknown as Listers;
  const flavor = listers.specifications.get(vm.spec.specification);
  const ns = vm.metadata.namespace!;
  const result = schedule(
    buildSnapshot(listers),
    placementRequest(`${ns}/${vm.metadata.name ?? ''}`, vm, fromAmounts(flavor?.spec as never), tenantOfNamespace(ns, listers) ?? ns),
  );
  if (!result.ok) return { result };
  const host = listers.hosts.get(result.host);
  const loc = host?.status?.location;
  return { result, where: [loc?.region, loc?.datacenter, host?.spec.rack, host?.spec.unit ? `U${host.spec.unit}` : undefined].filter(Boolean).join(' / ') };
}

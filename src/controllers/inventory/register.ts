// The inventory's controllers. Their status is derived: from specs (a host's rack, capacity
// and state; a group's overcommit; a quota's limits) and from where VMs are placed. Status
// writes of one kind never change another's figures, so the watches between them wake only
// on spec changes and placement changes: mapped for every status write, each placement woke
// every host of the group and every quota of the group, again and again.
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import { specChanged } from '../../runtime/predicates.js';
import { migrationTarget, reservedHosts } from '../drain/reservation.js';
import type { Registration } from '../shared/registration.js';
import { groupsOf, hostsOfDatacenter, key, keysOf, placementChanged } from '../shared/watches.js';
import { baremetalGroupReconciler, baremetalReconciler, datacenterReconciler, rackReconciler } from './reconcilers.js';

export function registerInventory({ manager, informers: listers, ctx }: Registration): void {
  const onSpec = { predicates: [specChanged] };
  const onPlacement = { predicates: [placementChanged] };

  manager.controller('datacenter').for(listers.datacenters)
    .watches(listers.racks, (r) => key(r.spec.datacenter), onSpec)
    .watches(listers.hosts, (b) => key(listers.racks.get(b.spec.rack)?.spec.datacenter), onSpec)
    .complete(datacenterReconciler(ctx));

  manager.controller('rack').for(listers.racks)
    .watches(listers.hosts, (b) => key(b.spec.rack), onSpec)
    .watches(listers.datacenters, (dc) => keysOf(listers.racks.byIndex('byDatacenter', dc.metadata.name!)), onSpec)
    .complete(rackReconciler(ctx));

  manager.controller('baremetal').for(listers.hosts).withWorkers(2)
    .watches(listers.vms, (vm) => reservedHosts(vm).map((name) => ({ name })), onPlacement)
    .watches(listers.racks, (r) => keysOf(listers.hosts.byIndex('byRack', r.metadata.name!)), onSpec)
    .watches(listers.hosts, (b) => keysOf(listers.hosts.byIndex('byRack', b.spec.rack)), onSpec)
    .watches(listers.datacenters, (dc) => keysOf(hostsOfDatacenter(listers, dc)), onSpec)
    .watches(listers.groups, (g) => keysOf(listers.hosts.byIndex('byGroup', g.metadata.name!)), onSpec)
    .complete(baremetalReconciler(ctx));

  const vmHostGroup = (vm: VirtualMachine) => {
    const host = vm.status?.placement?.baremetal ? listers.hosts.get(vm.status.placement.baremetal) : undefined;
    return host?.spec.group ?? vm.spec.group;
  };
  manager.controller('baremetalgroup').for(listers.groups)
    .watches(listers.hosts, (b) => key(b.spec.group), onSpec)
    .watches(listers.vms, (vm) => {
      // A VM being moved also counts in its target host's group.
      const target = migrationTarget(vm);
      const groups = [vmHostGroup(vm), target ? listers.hosts.get(target)?.spec.group : undefined];
      return [...new Set(groups)].flatMap((g) => key(g));
    }, onPlacement)
    .watches(listers.quotas, (q) => key(q.spec.group), onSpec)
    .watches(listers.racks, (r) => groupsOf(listers.hosts.byIndex('byRack', r.metadata.name!)), onSpec)
    .watches(listers.datacenters, (dc) => groupsOf(hostsOfDatacenter(listers, dc)), onSpec)
    .complete(baremetalGroupReconciler(ctx));
}

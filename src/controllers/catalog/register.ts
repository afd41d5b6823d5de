// The catalog's controllers: flavors and images, zones, service meshes, and the maintainers
// with their groups and assignments.
import type { MaintainerGroup } from '../../kinds/maintainergroup.js';
import { specChanged } from '../../runtime/predicates.js';
import type { Registration } from '../shared/registration.js';
import { key, keysOf } from '../shared/watches.js';
import {
  assignmentReconciler,
  imageReconciler,
  maintainerGroupReconciler,
  maintainerReconciler,
  serviceMeshReconciler,
  zoneReconciler,
} from './reconcilers.js';
import { specificationReconciler } from './specification.js';

const membersOf = (g: MaintainerGroup | undefined): string[] => (g ? [g.spec.manager, ...(g.spec.members ?? [])] : []);

export function registerCatalog({ manager, informers: listers, ctx }: Registration): void {
  // A flavor counts the VMs that use it.
  manager.controller('virtualmachinespecification').for(listers.specifications)
    .watches(listers.vms, (vm) => key(vm.spec.specification), {
      predicates: [(e) => e.type === 'added' || e.type === 'deleted' || (e.type === 'updated' && e.previous?.spec.specification !== e.object.spec.specification)],
    })
    .complete(specificationReconciler(ctx));
  manager.controller('virtualmachineimage').for(listers.images).complete(imageReconciler(ctx));
  manager.controller('zone').for(listers.zones)
    .watches(listers.racks, (r) => keysOf(listers.zones.byIndex('byRack', r.metadata.name!)), { predicates: [specChanged] })
    .watches(listers.hosts, (b) => keysOf(listers.zones.byIndex('byRack', b.spec.rack)), { predicates: [specChanged] })
    .complete(zoneReconciler(ctx));
  manager.controller('servicemesh').for(listers.serviceMeshes)
    .watches(listers.clusters, (c) => (c.spec.serviceMeshes ?? []).map((m) => ({ name: m.mesh })))
    .complete(serviceMeshReconciler(ctx));
  manager.controller('maintainer').for(listers.maintainers)
    .watches(listers.maintainerGroups, (g) => membersOf(g).map((name) => ({ name })))
    .watches(listers.assignments, (a) => [...(a.spec.maintainers ?? []), ...(a.spec.groups ?? []).flatMap((g) => membersOf(listers.maintainerGroups.get(g)))].map((name) => ({ name })))
    .complete(maintainerReconciler(ctx));
  manager.controller('maintainergroup').for(listers.maintainerGroups)
    .watches(listers.maintainers, (m) => keysOf(listers.maintainerGroups.byIndex('byMember', m.metadata.name!)))
    .watches(listers.assignments, (a) => (a.spec.groups ?? []).map((name) => ({ name })))
    .complete(maintainerGroupReconciler(ctx));
  manager.controller('maintainerassignment').for(listers.assignments)
    .watches(listers.maintainers, (m) => keysOf(listers.assignments.byIndex('byMaintainer', m.metadata.name!)))
    .watches(listers.maintainerGroups, (g) => keysOf(listers.assignments.byIndex('byGroup', g.metadata.name!)))
    .complete(assignmentReconciler(ctx));
}

// The controllers keeping the maintained kinds' maintainers (./maintainers.ts): each wakes for
// its own objects, for the assignments that name one (before and after a change), and for the
// groups those assignments list.
import type { MaintainerAssignment } from '../../kinds/maintainerassignment.js';
import type { MaintainerGroup } from '../../kinds/maintainergroup.js';
import type { Informer } from '../../runtime/informer.js';
import type { ResourceType } from '../../runtime/resource.js';
import { selectedChanged } from '../../runtime/predicates.js';
import type { Registration } from '../shared/registration.js';
import { Kinds } from '../shared/resources-of-kinds.js';
import { maintainedReconciler, type Maintained } from './maintainers.js';

export function registerOwnership({ manager, informers: listers, ctx }: Registration): void {
  const targets = (kind: string) => (a: MaintainerAssignment) => {
    const r = a.spec?.resource;
    if (r?.kind !== kind) return [];
    return [r.namespace ? { namespace: r.namespace, name: r.name } : { name: r.name }];
  };
  const viaGroup = (kind: string) => (g: MaintainerGroup) => listers.assignments.byIndex('byGroup', g.metadata.name!).flatMap(targets(kind));
  const maintained = (name: string, resource: ResourceType, informer: Informer<Maintained>) =>
    // Of the object itself only what this controller keeps matters (its labels and
    // status.maintainers), not the status writes of its lifecycle.
    manager.controller(name).for(informer, { predicates: [selectedChanged((o: Maintained) => [o.metadata.labels, o.status?.maintainers])] })
      .watches(listers.assignments, targets(resource.kind))
      .watches(listers.maintainerGroups, viaGroup(resource.kind))
      .complete(maintainedReconciler(ctx, resource, () => informer));
  maintained('baremetal-maintainers', Kinds.Baremetal, listers.hosts as Informer<any>);
  maintained('virtualmachine-maintainers', Kinds.VirtualMachine, listers.vms as Informer<any>);
  maintained('k8scluster-maintainers', Kinds.K8sCluster, listers.clusters as Informer<any>);
}

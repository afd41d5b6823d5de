// Status of the catalogue and ownership kinds: images, zones, service meshes, maintainers,
// groups and assignments (flavors: specification.ts). Each resolves what it names and counts
// what uses it.
import type { K8sCluster } from '../../kinds/k8scluster.js';
import { MAINTAINS_SHOWN } from '../../kinds/maintainer.js';
import type { MaintainerAssignment } from '../../kinds/maintainerassignment.js';
import { assignmentTarget } from '../ownership/maintainers.js';
import type { Reconciler } from '../../runtime/reconciler.js';
import { ready, referencesCondition, type ControllerContext } from '../shared/context.js';
import { Kinds } from '../shared/resources-of-kinds.js';
import { statusReconciler } from '../shared/status-reconciler.js';

export function imageReconciler(ctx: ControllerContext): Reconciler {
  return statusReconciler(ctx, Kinds.VirtualMachineImage, () => ctx.listers.images, (image) => {
    const deprecated = image.spec?.deprecated === true;
    return {
      fields: { phase: 'Ready' },
      conditions: [ready(true, deprecated ? 'Deprecated' : 'Available', deprecated ? 'The image is deprecated: existing VMs keep it, new VMs should use another.' : 'The image can be used by new VMs.')],
    };
  });
}

export function zoneReconciler(ctx: ControllerContext): Reconciler {
  return statusReconciler(ctx, Kinds.Zone, () => ctx.listers.zones, (zone) => {
    const names = zone.spec?.racks ?? [];
    const existing = names.filter((r) => ctx.listers.racks.get(r));
    const missing = names.filter((r) => !ctx.listers.racks.get(r)).map((r) => `Rack "${r}"`);
    const baremetals = existing.reduce((n, r) => n + ctx.listers.hosts.byIndex('byRack', r).length, 0);
    return {
      fields: { racks: existing.length, baremetals },
      conditions: [referencesCondition(missing), ready(missing.length === 0, missing.length ? 'MissingReferences' : 'Resolved', missing.length ? `Waiting for ${missing.join(', ')}.` : `${existing.length} rack(s), ${baremetals} host(s).`)],
    };
  });
}

export function serviceMeshReconciler(ctx: ControllerContext): Reconciler {
  return statusReconciler(ctx, Kinds.ServiceMesh, () => ctx.listers.serviceMeshes, (mesh) => {
    const clusters = ctx.listers.clusters.byIndex('byMesh', mesh.metadata.name!).map((c: K8sCluster) => ({
      name: c.metadata.name!,
      namespace: c.metadata.namespace!,
      role: c.spec.serviceMeshes?.find((m) => m.mesh === mesh.metadata.name)?.role ?? 'primary',
    }));
    clusters.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
    return {
      fields: { clusters },
      conditions: [ready((mesh.spec?.state ?? 'Active') === 'Active', mesh.spec?.state ?? 'Active', `${clusters.length} cluster(s) in the mesh.`)],
    };
  });
}

export function maintainerReconciler(ctx: ControllerContext): Reconciler {
  return statusReconciler(ctx, Kinds.Maintainer, () => ctx.listers.maintainers, (m) => {
    const name = m.metadata.name!;
    const groups = ctx.listers.maintainerGroups.byIndex('byMember', name).map((g) => g.metadata.name!).sort();
    const maintains = new Map<string, { kind: string; namespace?: string; name: string; role?: string; via?: string }>();
    const add = (a: MaintainerAssignment, via?: string) => {
      const key = assignmentTarget(a);
      // Assigned directly wins over through a group.
      if (maintains.has(key) && (via || !maintains.get(key)!.via)) return;
      const { kind, namespace, name: object } = a.spec.resource;
      maintains.set(key, { kind, ...(namespace ? { namespace } : {}), name: object, role: a.spec.role ?? 'Owner', ...(via ? { via } : {}) });
    };
    for (const a of ctx.listers.assignments.byIndex('byMaintainer', name)) add(a);
    for (const g of groups) for (const a of ctx.listers.assignments.byIndex('byGroup', g)) add(a, g);
    const sorted = [...maintains.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
    return {
      fields: { groups, assignments: sorted.length, maintains: sorted.slice(0, MAINTAINS_SHOWN) },
      conditions: [ready((m.spec?.state ?? 'Active') === 'Active', m.spec?.state ?? 'Active', `Member of ${groups.length} group(s); maintains ${sorted.length} object(s).`)],
    };
  });
}

export function maintainerGroupReconciler(ctx: ControllerContext): Reconciler {
  return statusReconciler(ctx, Kinds.MaintainerGroup, () => ctx.listers.maintainerGroups, (g) => {
    const people = [...new Set([g.spec.manager, ...(g.spec.members ?? [])])];
    const missing = people.filter((p) => !ctx.listers.maintainers.get(p)).map((p) => `Maintainer "${p}"`);
    const assignments = ctx.listers.assignments.byIndex('byGroup', g.metadata.name!).length;
    return {
      fields: { members: people.length - missing.length, assignments },
      conditions: [referencesCondition(missing), ready(missing.length === 0, missing.length ? 'MissingReferences' : 'Resolved', missing.length ? `Waiting for ${missing.join(', ')}.` : `${people.length} member(s), manager ${g.spec.manager}.`)],
    };
  });
}

/** The served kinds an assignment may name, by kind, with how to find one. */
function findAssigned(ctx: ControllerContext, kind: string, namespace: string | undefined, name: string): boolean {
  const key = namespace ? `${namespace}/${name}` : name;
  const byKind: Record<string, { get(k: string): unknown }> = {
    Datacenter: ctx.listers.datacenters,
    Rack: ctx.listers.racks,
    Zone: ctx.listers.zones,
    BaremetalGroup: ctx.listers.groups,
    Baremetal: ctx.listers.hosts,
    Tenant: ctx.listers.tenants,
    TenantQuota: ctx.listers.quotas,
    VirtualMachineSpecification: ctx.listers.specifications,
    VirtualMachineImage: ctx.listers.images,
    VirtualMachine: ctx.listers.vms,
    K8sCluster: ctx.listers.clusters,
    K8sNodePool: ctx.listers.nodePools,
    ServiceMesh: ctx.listers.serviceMeshes,
    ExternalController: ctx.listers.externalControllers,
  };
  const lister = byKind[kind];
  return lister ? lister.get(key) !== undefined : true;
}

export function assignmentReconciler(ctx: ControllerContext): Reconciler {
  return statusReconciler(ctx, Kinds.MaintainerAssignment, () => ctx.listers.assignments, (a) => {
    const { kind, namespace, name } = a.spec.resource;
    const missing: string[] = [];
    if (!findAssigned(ctx, kind, namespace, name)) missing.push(`${kind} "${namespace ? `${namespace}/` : ''}${name}"`);
    const people = new Set<string>(a.spec.maintainers ?? []);
    for (const g of a.spec.groups ?? []) {
      const group = ctx.listers.maintainerGroups.get(g);
      if (!group) {
        missing.push(`MaintainerGroup "${g}"`);
        continue;
      }
      people.add(group.spec.manager);
      for (const m of group.spec.members ?? []) people.add(m);
    }
    for (const m of a.spec.maintainers ?? []) if (!ctx.listers.maintainers.get(m)) missing.push(`Maintainer "${m}"`);
    return {
      fields: { maintainers: [...people].sort() },
      conditions: [referencesCondition(missing), ready(missing.length === 0, missing.length ? 'MissingReferences' : 'Resolved', missing.length ? `Waiting for ${missing.join(', ')}.` : `${people.size} maintainer(s).`)],
    };
  });
}

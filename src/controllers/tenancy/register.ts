// The tenancy controllers: tenants (their namespaces, access and VM counts) and quotas (their
// usage and percent limits).
import type { ObjectKey } from '../../runtime/keys.js';
import { specChanged } from '../../runtime/predicates.js';
import { tenantOfNamespace } from '../shared/accounting.js';
import type { Registration } from '../shared/registration.js';
import { groupsOf, hostsOfDatacenter, key, keysOf, placementChanged } from '../shared/watches.js';
import { tenantQuotaReconciler } from './quota.js';
import { tenantReconciler } from './tenant.js';

export function registerTenancy({ manager, informers: listers, ctx }: Registration): void {
  const onSpec = { predicates: [specChanged] };

  manager.controller('tenant').for(listers.tenants)
    .watches(listers.clusters, (c) => key(tenantOfNamespace(c.metadata.namespace!, listers)))
    // A tenant counts its VMs (and waits for them when deleted): only a VM added or gone
    // changes that, not the many status writes of each VM's life.
    .watches(listers.vms, (vm) => key(tenantOfNamespace(vm.metadata.namespace!, listers)), {
      predicates: [(e) => e.type === 'added' || e.type === 'deleted'],
    })
    // A tenant's subjects may read its quotas by name (src/controllers/tenancy/access.ts).
    .watches(listers.quotas, (q) => key(q.spec.tenant), {
      predicates: [(e) => e.type !== 'updated' || e.previous?.spec.tenant !== e.object.spec.tenant],
    })
    .complete(tenantReconciler(ctx));

  // A quota's percent limits follow its group's capacity (its hosts' specs and locations).
  const quotasOfTenantNamespace = (namespace: string | undefined) => {
    const tenant = namespace ? tenantOfNamespace(namespace, listers) : undefined;
    return tenant ? listers.quotas.byIndex('byTenant', tenant) : [];
  };
  const quotasOfGroups = (groups: ObjectKey[]) => groups.flatMap((g) => keysOf(listers.quotas.byIndex('byGroup', g.name)));
  manager.controller('tenantquota').for(listers.quotas).withWorkers(2)
    .watches(listers.vms, (vm) => keysOf(quotasOfTenantNamespace(vm.metadata.namespace)), { predicates: [placementChanged] })
    .watches(listers.hosts, (b) => (b.spec.group ? keysOf(listers.quotas.byIndex('byGroup', b.spec.group)) : []), onSpec)
    .watches(listers.groups, (g) => keysOf(listers.quotas.byIndex('byGroup', g.metadata.name!)), onSpec)
    .watches(listers.tenants, (t) => keysOf(listers.quotas.byIndex('byTenant', t.metadata.name!)), onSpec)
    .watches(listers.racks, (r) => quotasOfGroups(groupsOf(listers.hosts.byIndex('byRack', r.metadata.name!))), onSpec)
    .watches(listers.datacenters, (dc) => quotasOfGroups(groupsOf(hostsOfDatacenter(listers, dc))), onSpec)
    .complete(tenantQuotaReconciler(ctx));
}

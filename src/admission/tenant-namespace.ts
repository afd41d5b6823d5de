// A tenant's VMs and clusters live in its namespace (API.md). A VM created in a namespace no
// tenant owns would wait Pending forever, so it is refused with the namespaces that would do;
// a tenant being deleted takes no new VMs or clusters (as NamespaceLifecycle refuses content
// in a terminating namespace). Both read the Tenants the server holds: a tenant is cluster
// configuration an operator sets up first, unlike the references a controller resolves later.
import { ApiError } from '../machinery/errors.js';
import type { Admitter } from '../api/object-service.js';
import type { WatchCache } from '../store/watch-cache.js';
import type { Tenant } from '../kinds/tenant.js';
import { tenantNamespace } from '../kinds/tenant.js';
import { TENANT_RESOURCE, tenantOwningNamespace } from './tenancy.js';

const GUARDED = new Set(['virtualmachines', 'k8sclusters', 'k8snodepools']);

/** Lists at most this many tenant namespaces in a refusal. */
const SHOWN = 10;

export function tenantNamespaceAdmitter(cache: WatchCache, syncCache: () => Promise<unknown>): Admitter {
  return {
    admit({ operation, info, object, subresource }) {
      if (operation !== 'CREATE' || subresource || info.group !== 'virtflow.io' || !GUARDED.has(info.plural)) return;
      const namespace = object.metadata.namespace ?? '';
      const check = (tenant: Tenant | undefined) => {
        const name = object.metadata.name ?? '';
        const refuse = (message: string, type: string) =>
          new ApiError(403, 'Forbidden', `${info.plural}.${info.group} "${name}" is forbidden: ${message}`, {
            name,
            group: info.group,
            kind: info.plural,
            causes: [{ type, field: 'metadata.namespace', message }],
          });
        if (!tenant) {
          if (info.plural !== 'virtualmachines') return;
          throw refuse(`namespace "${namespace}" belongs to no tenant: ${tenantNamespaces(cache, namespace)}`, 'NamespaceWithoutTenant');
        }
        if (tenant.metadata.deletionTimestamp) {
          throw refuse(`tenant "${tenant.metadata.name}" is being deleted: it takes no new ${info.plural}`, 'TenantTerminating');
        }
      };
      const tenant = tenantOwningNamespace(cache, namespace);
      if (tenant) return check(tenant);
      // A tenant just created through another replica may not have reached this cache yet.
      return syncCache().then(() => check(tenantOwningNamespace(cache, namespace)));
    },
  };
}

function tenantNamespaces(cache: WatchCache, namespace: string): string {
  const namespaces = cache
    .list(TENANT_RESOURCE)
    .map((e) => tenantNamespace(e.object as unknown as Tenant))
    .sort();
  const create = `create a Tenant whose spec.namespace is "${namespace}"`;
  if (namespaces.length === 0) return `no tenant exists yet; ${create} first`;
  const shown = namespaces.slice(0, SHOWN).join(', ') + (namespaces.length > SHOWN ? `, and ${namespaces.length - SHOWN} more` : '');
  return `virtual machines go in a tenant's namespace (${shown}), or ${create}`;
}

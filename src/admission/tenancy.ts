// Which tenant owns a namespace, read from the server's cache of Tenants.
import type { ObjectCache } from '../store/cache.js';
import type { Tenant } from '../kinds/tenant.js';

export const TENANT_RESOURCE = 'virtflow.io/tenants';

/** A tenant's namespace: spec.namespace, or the tenant's own name when unset. */
export function tenantNamespace(tenant: Pick<Tenant, 'metadata' | 'spec'>): string {
  return tenant.spec?.namespace || tenant.metadata.name || '';
}

export function tenantOwningNamespace(cache: ObjectCache, namespace: string): Tenant | undefined {
  for (const entry of cache.list(TENANT_RESOURCE)) {
    const tenant = entry.object as unknown as Tenant;
    if (tenantNamespace(tenant) === namespace) return tenant;
  }
  return undefined;
}

// Which tenant owns a namespace, read from the server's cache of Tenants.
import type { WatchCache } from '../store/watch-cache.js';
import { tenantNamespace, type Tenant } from '../kinds/tenant.js';

export const TENANT_RESOURCE = 'virtflow.io/tenants';


export function tenantOwningNamespace(cache: WatchCache, namespace: string): Tenant | undefined {
  for (const entry of cache.list(TENANT_RESOURCE)) {
    const tenant = entry.object as unknown as Tenant;
    if (tenantNamespace(tenant) === namespace) return tenant;
  }
  return undefined;
}

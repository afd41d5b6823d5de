// Who may use a tenant, from its spec.admins and spec.viewers: RoleBindings in its namespace
// to the ClusterRoles virtflow:tenant-admin and virtflow:tenant-viewer, and one ClusterRole
// and ClusterRoleBinding per tenant for what lives outside the namespace — reading the
// tenant itself, its own TenantQuotas by name (they are cluster-scoped: a resourceNames rule
// lets `kubectl get tq <name>` and a list with fieldSelector=metadata.name=<name> through,
// never another tenant's), and the catalogue (flavors and images) it creates VMs from.
import { binding, clusterRole, ROLES } from '../../auth/default-roles.js';
import type { PolicyRule, Subject } from '../../auth/rbac-rules.js';
import type { Tenant, TenantSubject } from '../../kinds/tenant.js';
import { canonicalJson, type KubeObject } from '../../machinery/object.js';
import { isNotFound } from '../../runtime/client.js';
import { ClusterRoleBindings, ClusterRoles, RoleBindings, type ResourceType } from '../../runtime/resource.js';
import type { ControllerContext } from '../shared/context.js';

export const TENANT_ADMINS_BINDING = 'virtflow:tenant-admins';
export const TENANT_VIEWERS_BINDING = 'virtflow:tenant-viewers';

/** The name of a tenant's own ClusterRole and ClusterRoleBinding. */
export function tenantClusterAccessName(tenant: string): string {
  return `virtflow:tenant:${tenant}`;
}

function subjectsOf(list: TenantSubject[] | undefined, namespace: string): Subject[] {
  return (list ?? []).map((s) =>
    s.kind === 'ServiceAccount' ? { kind: s.kind, name: s.name, namespace: s.namespace || namespace } : { kind: s.kind, name: s.name },
  );
}

/** What a tenant's subjects may read outside its namespace. */
export function tenantClusterRules(tenant: string, quotas: string[]): PolicyRule[] {
  const rules: PolicyRule[] = [
    { apiGroups: ['virtflow.io'], resources: ['tenants'], verbs: ['get', 'list', 'watch'], resourceNames: [tenant] },
    { apiGroups: ['virtflow.io'], resources: ['virtualmachinespecifications', 'virtualmachineimages'], verbs: ['get', 'list', 'watch'] },
  ];
  // Never an empty resourceNames: that would mean every quota.
  if (quotas.length > 0) rules.push({ apiGroups: ['virtflow.io'], resources: ['tenantquotas'], verbs: ['get', 'list', 'watch'], resourceNames: [...quotas].sort() });
  return rules;
}

/** What was last made true per tenant, and when: a tenant reconciles on every VM added or gone. */
const applied = new WeakMap<ControllerContext, Map<string, { digest: string; at: number }>>();
/** How often access that has not changed is checked again anyway (someone may delete a binding). */
const RECHECK_MS = 60_000;

export async function reconcileTenantAccess(ctx: ControllerContext, tenant: Tenant, namespace: string): Promise<void> {
  const name = tenant.metadata.name!;
  const quotaNames = ctx.listers.quotas.byIndex('byTenant', name).map((q) => q.metadata.name!).sort();
  const digest = canonicalJson({ uid: tenant.metadata.uid, namespace, admins: tenant.spec?.admins ?? [], viewers: tenant.spec?.viewers ?? [], quotaNames });
  let seen = applied.get(ctx);
  if (!seen) applied.set(ctx, (seen = new Map()));
  const last = seen.get(name);
  const now = ctx.now().getTime();
  if (last && last.digest === digest && now - last.at < RECHECK_MS) return;
  await applyTenantAccess(ctx, tenant, namespace, quotaNames);
  seen.set(name, { digest, at: now });
}

async function applyTenantAccess(ctx: ControllerContext, tenant: Tenant, namespace: string, quotas: string[]): Promise<void> {
  const name = tenant.metadata.name!;
  const owner = { ownerReferences: [{ apiVersion: 'virtflow.io/v1alpha1', kind: 'Tenant', name, uid: tenant.metadata.uid!, controller: true }] };
  const admins = subjectsOf(tenant.spec?.admins, namespace);
  const viewers = subjectsOf(tenant.spec?.viewers, namespace);
  await ensure(ctx, RoleBindings, admins.length ? binding('RoleBinding', TENANT_ADMINS_BINDING, { kind: 'ClusterRole', name: ROLES.tenantAdmin }, admins, namespace, owner) : undefined, { namespace, name: TENANT_ADMINS_BINDING });
  await ensure(ctx, RoleBindings, viewers.length ? binding('RoleBinding', TENANT_VIEWERS_BINDING, { kind: 'ClusterRole', name: ROLES.tenantViewer }, viewers, namespace, owner) : undefined, { namespace, name: TENANT_VIEWERS_BINDING });
  const everyone = [...admins, ...viewers];
  const clusterName = tenantClusterAccessName(name);
  await ensure(ctx, ClusterRoles, everyone.length ? { ...clusterRole(clusterName, tenantClusterRules(name, quotas)), metadata: { ...clusterRole(clusterName, []).metadata, ...owner } } : undefined, { name: clusterName });
  await ensure(ctx, ClusterRoleBindings, everyone.length ? binding('ClusterRoleBinding', clusterName, { kind: 'ClusterRole', name: clusterName }, everyone, undefined, owner) : undefined, { name: clusterName });
}

/** Makes the object what is desired (or absent when nothing is): create, replace or delete. */
async function ensure(ctx: ControllerContext, type: ResourceType, desired: KubeObject | undefined, key: { namespace?: string; name: string }): Promise<void> {
  const current = await ctx.client.find<KubeObject>(type, key);
  if (!desired) {
    if (current) await ctx.client.delete(type, key).catch((err) => { if (!isNotFound(err)) throw err; });
    return;
  }
  if (!current) {
    await ctx.client.create(type, desired);
    return;
  }
  const fields = ['rules', 'roleRef', 'subjects'] as const;
  if (fields.every((f) => canonicalJson(current[f] ?? null) === canonicalJson(desired[f] ?? null))) return;
  // A binding's roleRef cannot change: a new one replaces it.
  if (current.roleRef && canonicalJson(current.roleRef) !== canonicalJson(desired.roleRef)) {
    await ctx.client.delete(type, key);
    await ctx.client.create(type, desired);
    return;
  }
  await ctx.client.replace(type, { ...current, ...Object.fromEntries(fields.filter((f) => desired[f] !== undefined).map((f) => [f, desired[f]])) });
}

// TenantQuota: limits resolved against the group's allocatable, what the tenant's VMs use in
// that group, what remains, and alerts when usage nears or passes a limit. The quota belongs
// to its tenant (an owner reference kept here), so it goes when the tenant goes.
import type { Tenant } from '../../kinds/tenant.js';
import type { TenantQuota } from '../../kinds/tenantquota.js';
import { getCondition, type Condition } from '../../machinery/conditions.js';
import { keyString } from '../../runtime/keys.js';
import type { Reconciler } from '../../runtime/reconciler.js';
import { quotaUsage } from '../shared/accounting.js';
import { ready, referencesCondition, type ControllerContext } from '../shared/context.js';
import { Kinds } from '../shared/resources-of-kinds.js';
import { formatBytes } from '../shared/resources.js';
import { statusReconciler } from '../shared/status-reconciler.js';
import { quotaAlerts } from './quota-alerts.js';

function amounts(r: Partial<Record<'cpu' | 'memory' | 'storage' | 'gpu', number>>) {
  const out: Record<string, unknown> = {};
  if (r.cpu !== undefined) out.cpu = r.cpu;
  if (r.memory !== undefined) out.memory = formatBytes(r.memory);
  if (r.storage !== undefined) out.storage = formatBytes(r.storage);
  if (r.gpu !== undefined) out.gpu = r.gpu;
  return out;
}

export function tenantQuotaReconciler(ctx: ControllerContext): Reconciler {
  const observe = statusReconciler(ctx, Kinds.TenantQuota, () => ctx.listers.quotas, (quota) => {
    const usage = quotaUsage(quota, ctx.listers);
    const cpu = usage.limits.cpu !== undefined ? `cpu ${usage.used.cpu}/${usage.limits.cpu}` : `cpu ${usage.used.cpu}`;
    const memory = usage.limits.memory !== undefined ? `memory ${formatBytes(usage.used.memory)}/${formatBytes(usage.limits.memory)}` : `memory ${formatBytes(usage.used.memory)}`;
    const alerts = quotaAlerts(quota, usage.limits, usage.used);
    for (const c of alerts.conditions) {
      const before = getCondition(quota.status?.conditions as Condition[] | undefined, c.type);
      if (c.status === 'True' && before?.status !== 'True') ctx.events.record(quota, 'Warning', c.reason, c.message);
    }
    const resolved = usage.missing.length === 0;
    const summaryReady = !resolved
      ? ready(false, 'MissingReferences', `Waiting for ${usage.missing.join(', ')}.`)
      : alerts.exceeded.length > 0
        ? ready(false, 'QuotaExceeded', `Quota exceeded: ${alerts.exceeded.join(', ')}.`)
        : alerts.near.length > 0
          ? ready(true, 'QuotaNearLimit', `Quota near its limit: ${alerts.near.join(', ')}.`)
          : ready(true, 'Resolved', `Quota resolved: ${cpu}, ${memory}.`);
    return {
      fields: {
        limits: amounts(usage.limits),
        used: amounts(usage.used),
        remaining: amounts(usage.remaining),
        virtualMachines: usage.virtualMachines,
        summary: `${cpu}, ${memory}`,
      },
      conditions: [referencesCondition(usage.missing), ...(resolved ? alerts.conditions : []), summaryReady],
    };
  });
  return {
    async reconcile(rc, key) {
      const quota = ctx.listers.quotas.get(keyString(key));
      // A metadata patch first; its own event brings the quota back for its status.
      if (quota && !quota.metadata.deletionTimestamp && (await adoptByTenant(ctx, quota))) return {};
      return observe.reconcile(rc, key);
    },
  };
}

/** Sets the quota's owner reference to its tenant, so deleting the tenant deletes it. True if patched. */
async function adoptByTenant(ctx: ControllerContext, quota: TenantQuota): Promise<boolean> {
  const tenant: Tenant | undefined = ctx.listers.tenants.get(quota.spec.tenant);
  if (!tenant?.metadata.uid || tenant.metadata.deletionTimestamp) return false;
  const refs = quota.metadata.ownerReferences ?? [];
  if (refs.some((r) => r.kind === 'Tenant' && r.uid === tenant.metadata.uid)) return false;
  const others = refs.filter((r) => !(r.kind === 'Tenant' && r.apiVersion?.startsWith('virtflow.io/')));
  await ctx.client.patch(Kinds.TenantQuota, { name: quota.metadata.name! }, 'merge', {
    metadata: {
      ownerReferences: [...others, { apiVersion: 'virtflow.io/v1alpha1', kind: 'Tenant', name: tenant.metadata.name!, uid: tenant.metadata.uid, blockOwnerDeletion: false }],
      resourceVersion: quota.metadata.resourceVersion,
    },
  });
  return true;
}

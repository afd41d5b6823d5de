// TenantQuota: limits resolved against the group's allocatable, what the tenant's VMs use in
// that group, and what remains.
import type { Reconciler } from '../../runtime/reconciler.js';
import { quotaUsage } from '../inventory/accounting.js';
import { ready, referencesCondition, type ControllerContext } from '../shared/context.js';
import { Kinds } from '../shared/resources-of-kinds.js';
import { formatBytes } from '../shared/resources.js';
import { statusReconciler } from '../shared/status-reconciler.js';

function amounts(r: Partial<Record<'cpu' | 'memory' | 'storage' | 'gpu', number>>) {
  const out: Record<string, unknown> = {};
  if (r.cpu !== undefined) out.cpu = r.cpu;
  if (r.memory !== undefined) out.memory = formatBytes(r.memory);
  if (r.storage !== undefined) out.storage = formatBytes(r.storage);
  if (r.gpu !== undefined) out.gpu = r.gpu;
  return out;
}

export function tenantQuotaReconciler(ctx: ControllerContext): Reconciler {
  return statusReconciler(ctx, Kinds.TenantQuota, () => ctx.listers.quotas, (quota) => {
    const usage = quotaUsage(quota, ctx.listers);
    const cpu = usage.limits.cpu !== undefined ? `cpu ${usage.used.cpu}/${usage.limits.cpu}` : `cpu ${usage.used.cpu}`;
    const memory = usage.limits.memory !== undefined ? `memory ${formatBytes(usage.used.memory)}/${formatBytes(usage.limits.memory)}` : `memory ${formatBytes(usage.used.memory)}`;
    return {
      fields: {
        limits: amounts(usage.limits),
        used: amounts(usage.used),
        remaining: amounts(usage.remaining),
        virtualMachines: usage.virtualMachines,
        summary: `${cpu}, ${memory}`,
      },
      conditions: [
        referencesCondition(usage.missing),
        ready(usage.missing.length === 0, usage.missing.length ? 'MissingReferences' : 'Resolved', usage.missing.length ? `Waiting for ${usage.missing.join(', ')}.` : `Quota resolved: ${cpu}, ${memory}.`),
      ],
    };
  });
}

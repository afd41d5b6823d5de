// Quota alerts (seed 001 §5 配額告警): a quota whose usage reaches its threshold (default 80%
// of a limit) is NearLimit; one whose usage is above a limit (it was lowered under what runs)
// is Exceeded. Both are conditions, and a Warning Event when one turns True.
import type { TenantQuota } from '../../kinds/tenantquota.js';
import type { Resources } from '../../scheduler/types.js';
import { formatBytes } from '../shared/resources.js';
import type { Cond } from '../shared/context.js';

export const DEFAULT_NEAR_LIMIT_PERCENT = 80;

export const quotaAlertReasons = {
  exceeded: 'QuotaExceeded',
  nearLimit: 'QuotaNearLimit',
  withinLimits: 'WithinLimits',
} as const;


export interface QuotaAlerts {
  exceeded: string[];
  near: string[];
  conditions: Cond[];
}

const show = (r: keyof Resources, n: number) => (r === 'memory' || r === 'storage' ? formatBytes(n) : String(n));

/** Which limits usage is over, and which it is near; as the two conditions. */
export function quotaAlerts(quota: TenantQuota, limits: Partial<Resources>, used: Resources): QuotaAlerts {
  const threshold = quota.spec.nearLimitPercent ?? DEFAULT_NEAR_LIMIT_PERCENT;
  const exceeded: string[] = [];
  const near: string[] = [];
  for (const [r, limit] of Object.entries(limits) as [keyof Resources, number][]) {
    const u = used[r];
    const percent = limit > 0 ? Math.round((u / limit) * 100) : u > 0 ? Infinity : 0;
    const what = `${r} ${show(r, u)} of ${show(r, limit)}${Number.isFinite(percent) ? ` (${percent}%)` : ''}`;
    if (u > limit) exceeded.push(what);
    else if (limit > 0 && u * 100 >= limit * threshold) near.push(what);
  }
  const conditions: Cond[] = [
    exceeded.length > 0
      ? { type: 'Exceeded', status: 'True', reason: quotaAlertReasons.exceeded, message: `Usage is above the limit: ${exceeded.join(', ')}. Running VMs keep running; new ones are refused until usage drops or the limit is raised.` }
      : { type: 'Exceeded', status: 'False', reason: quotaAlertReasons.withinLimits, message: 'Usage is within every limit.' },
    near.length > 0
      ? { type: 'NearLimit', status: 'True', reason: quotaAlertReasons.nearLimit, message: `Usage has reached ${threshold}% of the limit: ${near.join(', ')}.` }
      : { type: 'NearLimit', status: 'False', reason: quotaAlertReasons.withinLimits, message: `Usage is below ${threshold}% of every limit.` },
  ];
  return { exceeded, near, conditions };
}

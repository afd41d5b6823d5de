// status.conditions in the metav1.Condition shape, and the helpers of
// k8s.io/apimachinery/pkg/api/meta/conditions.go. lastTransitionTime moves only when the
// status flips, so `kubectl wait` and dashboards can tell how long a state has held.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  /** RFC 3339 with second precision, as metav1.Time serializes. */
  lastTransitionTime: string;
  /** CamelCase and constant, e.g. "CannotCreateVirtualMachine"; detail goes in message. */
  reason: string;
  message: string;
}

/** What a controller sets; the time is filled in unless the caller supplies one. */
export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string };

/** metav1.Time's form: "2024-05-01T12:00:00Z", without fractional seconds. */
export function formatConditionTime(now: Date | string): string {
  const date = typeof now === 'string' ? new Date(now) : now;
  if (Number.isNaN(date.getTime())) throw new Error(`invalid condition time: ${String(now)}`);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sameCondition(a: Condition, b: Condition): boolean {
  return (
    a.type === b.type &&
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.observedGeneration === b.observedGeneration &&
    a.lastTransitionTime === b.lastTransitionTime
  );
}

/**
 * Sets `update` in `conditions` (meta.SetStatusCondition) and returns the list. The input is
 * never changed; when nothing differs the same array is returned, so `result !== conditions`
 * tells a controller that status needs writing.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date | string,
): Condition[] {
  const list = conditions ?? [];
  const index = list.findIndex((c) => c.type === update.type);
  const existing = index >= 0 ? list[index] : undefined;
  const lastTransitionTime =
    existing && existing.status === update.status
      ? existing.lastTransitionTime
      : (update.lastTransitionTime ?? formatConditionTime(now));
  const next: Condition = {
    type: update.type,
    status: update.status,
    ...(update.observedGeneration !== undefined ? { observedGeneration: update.observedGeneration } : {}),
    lastTransitionTime,
    reason: update.reason,
    message: update.message,
  };
  if (!existing) return [...list, next];
  if (sameCondition(existing, next) && conditions) return conditions as Condition[];
  return list.map((c, i) => (i === index ? next : c));
}

/** The list without the condition of that type; the same array when there was none. */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  const list = (conditions ?? []) as Condition[];
  return list.some((c) => c.type === type) ? list.filter((c) => c.type !== type) : list;
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

export function isConditionFalse(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'False';
}

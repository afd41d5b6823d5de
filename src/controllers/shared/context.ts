// What every VirtFlow reconciler is given: the caches to read, a client to write, a place to
// record Events, and the clock.
import type { KubeObject } from '../../machinery/object.js';
import { setCondition, type Condition, type ConditionUpdate } from '../../machinery/conditions.js';
import type { ObjectClient } from '../../runtime/client.js';
import type { ResourceType } from '../../runtime/resource.js';
import type { Listers } from './listers.js';

export type EventType = 'Normal' | 'Warning';

export interface EventSink {
  /** Fire and forget: an Event that cannot be written must not fail a reconcile. */
  record(obj: KubeObject, type: EventType, reason: string, message: string): void;
}

export interface ControllerContext {
  listers: Listers;
  client: ObjectClient;
  events: EventSink;
  now: () => Date;
}

type WithStatus = KubeObject & { status?: Record<string, unknown> & { conditions?: Condition[] } };

/**
 * Builds the next status from the current one: the computed fields replace theirs, the
 * conditions are set one by one (keeping transition times), observedGeneration is stamped.
 */
export function nextStatus(
  obj: WithStatus,
  fields: Record<string, unknown>,
  conditions: Omit<ConditionUpdate, 'observedGeneration'>[],
  now: Date,
): Record<string, unknown> {
  const generation = obj.metadata.generation;
  let list = obj.status?.conditions;
  for (const c of conditions) list = setCondition(list, { ...c, observedGeneration: generation }, now);
  const status: Record<string, unknown> = { ...(obj.status ?? {}), ...fields };
  for (const [k, v] of Object.entries(fields)) if (v === undefined) delete status[k];
  if (list) status.conditions = list;
  if (generation !== undefined) status.observedGeneration = generation;
  return status;
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v,
  );
}

/**
 * Writes status through the status subresource when it differs. The write carries the cached
 * resourceVersion: a stale cache answers 409, and the queue retries on fresher data.
 */
export async function writeStatus(ctx: ControllerContext, resource: ResourceType, obj: WithStatus, status: Record<string, unknown>): Promise<boolean> {
  if (canonical(obj.status ?? {}) === canonical(status)) return false;
  await ctx.client.replaceStatus(resource, { ...obj, status });
  return true;
}

export const ready = (ok: boolean, reason: string, message: string): Omit<ConditionUpdate, 'observedGeneration'> => ({
  type: 'Ready',
  status: ok ? 'True' : 'False',
  reason,
  message,
});

/** ReferencesResolved: True, or False naming every missing object. */
export function referencesCondition(missing: string[]): Omit<ConditionUpdate, 'observedGeneration'> {
  return missing.length === 0
    ? { type: 'ReferencesResolved', status: 'True', reason: 'Resolved', message: 'Every referenced object exists.' }
    : { type: 'ReferencesResolved', status: 'False', reason: 'MissingReferences', message: `Waiting for ${missing.join(', ')} to exist.` };
}

// What every VirtFlow reconciler is given: the caches to read, a client to write, a place to
// record Events, and the clock.
import { canonicalJson, type KubeObject } from '../../machinery/object.js';
import { setCondition, type Condition, type ConditionUpdate } from '../../machinery/conditions.js';
import type { ObjectClient } from '../../runtime/client.js';
import type { ResourceType } from '../../runtime/resource.js';
import { ExpectedRetry } from '../../runtime/reconciler.js';
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
  /** Derived status (hosts, groups, quotas, ...) is recomputed at most this often per object. */
  statusIntervalMs?: number;
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


export function statusDiffers(obj: WithStatus, status: Record<string, unknown>): boolean {
  return canonicalJson(obj.status ?? {}) !== canonicalJson(status);
}

/**
 * Thrown by writeStatus, without a request, when the cached object is still the version that
 * this process's own last status write replaced: the write would only answer 409. The event
 * of that write is on its way and queues the object again, on fresher data.
 */
export class StaleCacheError extends ExpectedRetry {
  constructor(resource: ResourceType, key: string) {
    super(`cannot write status of ${resource.kind} ${key} yet: the cache has not seen this controller's last write`);
    this.name = 'StaleCacheError';
  }
}

export const isStaleCache = (err: unknown): err is StaleCacheError => err instanceof StaleCacheError;

/** Per client (one per manager): object -> the resourceVersion its last status write replaced. */
const lastWrites = new WeakMap<object, Map<string, string>>();

function writeKey(resource: ResourceType, obj: KubeObject): string {
  return `${resource.group}/${resource.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

/**
 * Writes status through the status subresource when it differs. The write carries the cached
 * resourceVersion: a stale cache answers 409, and the queue retries on fresher data. A
 * reconcile that runs again before the cache has seen this process's previous write (the
 * queue re-runs a key at once when it changed meanwhile) is told so without a request: see
 * StaleCacheError.
 */
export async function writeStatus(ctx: ControllerContext, resource: ResourceType, obj: WithStatus, status: Record<string, unknown>): Promise<boolean> {
  let written = lastWrites.get(ctx.client);
  if (!written) lastWrites.set(ctx.client, (written = new Map()));
  const key = writeKey(resource, obj);
  const cachedVersion = obj.metadata.resourceVersion;
  if (cachedVersion !== undefined && written.get(key) === cachedVersion) throw new StaleCacheError(resource, key);
  if (!statusDiffers(obj, status)) return false;
  await ctx.client.replaceStatus(resource, { ...obj, status });
  if (cachedVersion !== undefined) written.set(key, cachedVersion);
  return true;
}

/** Forgets the write bookkeeping of an object that is gone. */
export function forgetWrites(ctx: ControllerContext, resource: ResourceType, obj: KubeObject): void {
  lastWrites.get(ctx.client)?.delete(writeKey(resource, obj));
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

// What every VirtFlow reconciler is given: the caches to read, a client to write, a place to
// record Events, and the clock.
import type { KubeObject } from '../../machinery/object.js';
import { deepEqual } from '../../apply/json.js';
import { getCondition, setCondition, type Condition, type ConditionUpdate } from '../../machinery/conditions.js';
import type { ObjectClient } from '../../runtime/client.js';
import { keyOf, type ObjectKey } from '../../runtime/keys.js';
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

/** A condition as a reconcile states it: nextStatus stamps observedGeneration. */
export type Cond = Omit<ConditionUpdate, 'observedGeneration'>;

export interface EventSpec {
  type: EventType;
  reason: string;
  message: string;
}

/**
 * Builds the next status from the current one: the computed fields replace theirs, the
 * conditions are set one by one (keeping transition times), observedGeneration is stamped.
 */
export function nextStatus(
  obj: WithStatus,
  fields: Record<string, unknown>,
  conditions: Cond[],
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
  return !deepEqual(obj.status ?? {}, status);
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

function writeKey(resource: ResourceType, key: ObjectKey): string {
  return `${resource.group}/${resource.kind}/${key.namespace ?? ''}/${key.name}`;
}

/**
 * Is the cached object still the version that this process's own last status write replaced?
 * A write from it could only answer 409 (see StaleCacheError).
 */
export function cacheIsBehind(ctx: ControllerContext, resource: ResourceType, obj: KubeObject): boolean {
  const cachedVersion = obj.metadata.resourceVersion;
  return cachedVersion !== undefined && lastWrites.get(ctx.client)?.get(writeKey(resource, keyOf(obj))) === cachedVersion;
}

/** writeStatus, answering the object as written, or undefined when the status did not differ. */
async function replaceStatus<T extends WithStatus>(ctx: ControllerContext, resource: ResourceType, obj: T, status: Record<string, unknown>): Promise<T | undefined> {
  if (cacheIsBehind(ctx, resource, obj)) throw new StaleCacheError(resource, writeKey(resource, keyOf(obj)));
  if (!statusDiffers(obj, status)) return undefined;
  const written = await ctx.client.replaceStatus<T>(resource, { ...obj, status });
  const cachedVersion = obj.metadata.resourceVersion;
  if (cachedVersion !== undefined) {
    let versions = lastWrites.get(ctx.client);
    if (!versions) lastWrites.set(ctx.client, (versions = new Map()));
    versions.set(writeKey(resource, keyOf(obj)), cachedVersion);
  }
  return written;
}

/**
 * Writes status through the status subresource when it differs. The write carries the cached
 * resourceVersion: a stale cache answers 409, and the queue retries on fresher data. A
 * reconcile that runs again before the cache has seen this process's previous write (the
 * queue re-runs a key at once when it changed meanwhile) is told so without a request: see
 * StaleCacheError.
 */
export async function writeStatus(ctx: ControllerContext, resource: ResourceType, obj: WithStatus, status: Record<string, unknown>): Promise<boolean> {
  return (await replaceStatus(ctx, resource, obj, status)) !== undefined;
}

/**
 * The status write of a reconcile that reports progress: nextStatus, then writeStatus, then an
 * Event if the write happened: a Normal one always, a Warning one only when the reason of a
 * condition it sets changed, so a failure repeated by retries is one Event. Answers the object
 * as written (so the reconcile can go on with a fresh resourceVersion), or as it was when
 * nothing differed.
 */
export async function reportStatus<T extends KubeObject>(
  ctx: ControllerContext,
  resource: ResourceType,
  obj: T,
  fields: Record<string, unknown>,
  conditions: Cond[],
  event?: EventSpec,
): Promise<{ obj: T; wrote: boolean }> {
  // The kinds' generated status types are narrower than WithStatus, not different.
  const current = obj as unknown as WithStatus;
  const written = await replaceStatus(ctx, resource, current, nextStatus(current, fields, conditions, ctx.now()));
  if (!written) return { obj, wrote: false };
  if (event) {
    const changed = conditions.some((c) => getCondition(current.status?.conditions, c.type)?.reason !== c.reason);
    if (event.type === 'Normal' || changed) ctx.events.record(obj, event.type, event.reason, event.message);
  }
  return { obj: written as unknown as T, wrote: true };
}

/** Forgets the write bookkeeping of an object that is gone (the object, or its key). */
export function forgetWrites(ctx: ControllerContext, resource: ResourceType, obj: KubeObject | ObjectKey): void {
  lastWrites.get(ctx.client)?.delete(writeKey(resource, 'metadata' in obj ? keyOf(obj) : obj));
}

export const ready = (ok: boolean, reason: string, message: string): Cond => ({
  type: 'Ready',
  status: ok ? 'True' : 'False',
  reason,
  message,
});

/** ReferencesResolved: True, or False naming every missing object. */
export function referencesCondition(missing: string[]): Cond {
  return missing.length === 0
    ? { type: 'ReferencesResolved', status: 'True', reason: 'Resolved', message: 'Every referenced object exists.' }
    : { type: 'ReferencesResolved', status: 'False', reason: 'MissingReferences', message: `Waiting for ${missing.join(', ')} to exist.` };
}

// Garbage collection through ownerReferences, as kube-controller-manager's garbage collector
// does it, run inside the server (idempotent, so every replica may run it):
// - Background: once an owner is gone, dependents whose owners are all gone are deleted;
//   references to a gone owner are dropped from dependents that still have another owner.
// - Foreground: an owner carrying the foregroundDeletion finalizer has its dependents deleted
//   first; the finalizer goes once none remain.
// - Orphan: an owner carrying the orphan finalizer has its references removed from every
//   dependent, then the finalizer goes.
// An index of dependents by owner uid is kept up to date from the cache's events, so each
// event costs only the owners it concerns. A periodic sweep re-checks every indexed owner,
// which also catches owners that disappeared while no server was running. An owner is looked
// up by the coordinates of the reference (kind, namespace, name) and must have its uid; a
// reference to a kind the server does not serve (yet) is never taken as dangling.
import { ApiError } from '../machinery/errors.js';
import type { KubeObject, OwnerReference } from '../machinery/object.js';
import type { ResourceInfo } from '../machinery/resource.js';
import type { CacheEvent, CachedObject } from '../store/watch-cache.js';
import type { ObjectService, WriteOptions } from './object-service.js';
import { resourceId } from './registry.js';

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';

const system: WriteOptions = {
  dryRun: false,
  fieldValidation: 'Ignore',
  user: { username: 'system:serviceaccount:kube-system:generic-garbage-collector', groups: ['system:serviceaccounts'] },
  userAgent: 'virtflow-garbage-collector',
  fieldManager: 'virtflow-garbage-collector',
};

interface Located {
  info: ResourceInfo;
  entry: CachedObject;
}

/** Where a cached object lives: its resource and cache key. */
interface Place {
  resource: string;
  key: string;
  namespace: string;
}

/** A dependent's reference to one owner. */
interface Dependent extends Place {
  ref: OwnerReference;
}

export function startGarbageCollector(service: ObjectService, opts: { sweepIntervalMs?: number } = {}): () => void {
  const cache = service.store.cache;
  let scheduled = false;
  let running = false;
  let stopped = false;
  /** Owner uid -> its dependents (by cache key). */
  const dependents = new Map<string, Map<string, Dependent>>();
  /** Dependent cache key -> the owner uids it refers to. */
  const ownersOf = new Map<string, string[]>();
  /** Objects being deleted that hold the orphan or foregroundDeletion finalizer, by uid. */
  const finalizing = new Map<string, Place>();
  /** Owner uids to look at on the next run. */
  const dirty = new Set<string>();

  const index = (event: Pick<CacheEvent, 'type' | 'resource' | 'key' | 'namespace' | 'object' | 'text'>) => {
    const before = ownersOf.get(event.key) ?? [];
    for (const uid of before) {
      const deps = dependents.get(uid);
      deps?.delete(event.key);
      if (deps?.size === 0) dependents.delete(uid);
    }
    const after: string[] = [];
    const refs = event.type === 'DELETED' || !mentions(event.text, 'ownerReferences') ? [] : (event.object.metadata.ownerReferences ?? []);
    for (const ref of refs) {
      if (typeof ref?.uid !== 'string') continue;
      after.push(ref.uid);
      let deps = dependents.get(ref.uid);
      if (!deps) {
        deps = new Map();
        dependents.set(ref.uid, deps);
      }
      deps.set(event.key, { resource: event.resource, key: event.key, namespace: event.namespace, ref });
    }
    if (after.length > 0) ownersOf.set(event.key, after);
    else ownersOf.delete(event.key);
    // A new reference: is its owner there? A dropped one (or a dependent gone): may the
    // owner finish its deletion now?
    for (const uid of after) if (!before.includes(uid)) dirty.add(uid);
    for (const uid of before) if (!after.includes(uid)) dirty.add(uid);

    // Only an object being deleted can start or stop finalizing (deletionTimestamp is never
    // unset), and only a deleted one can release dependents.
    if (event.type !== 'DELETED' && !mentions(event.text, 'deletionTimestamp')) return;
    // Nothing to start, stop or release: the object need not be parsed to know it.
    const mayFinalize = mentions(event.text, ORPHAN_FINALIZER) || mentions(event.text, FOREGROUND_FINALIZER);
    if (!mayFinalize && finalizing.size === 0 && (event.type !== 'DELETED' || dependents.size === 0)) return;
    const uid = event.object.metadata.uid;
    if (!uid) return;
    const finalizers = event.object.metadata.finalizers ?? [];
    if (
      event.type !== 'DELETED' &&
      event.object.metadata.deletionTimestamp &&
      (finalizers.includes(ORPHAN_FINALIZER) || finalizers.includes(FOREGROUND_FINALIZER))
    ) {
      finalizing.set(uid, { resource: event.resource, key: event.key, namespace: event.namespace });
      dirty.add(uid);
    } else {
      finalizing.delete(uid);
    }
    // A deleted object may be somebody's owner.
    if (event.type === 'DELETED' && dependents.has(uid)) dirty.add(uid);
  };

  const locate = (place: Place): Located | undefined => {
    const entry = cache.get(place.resource, place.key);
    if (!entry) return undefined;
    const served = service.registry.all().find((i) => resourceId(i) === place.resource);
    return served ? { info: service.registry.storageVersion(served), entry } : undefined;
  };

  /** The owner a reference names: found, gone, or 'unknown' when its kind is not served. */
  const ownerOf = (ref: OwnerReference, dependentNamespace: string): Located | undefined | 'unknown' => {
    const served = service.registry.forKind(ref.apiVersion, ref.kind);
    if (!served) return 'unknown';
    const resource = resourceId(served);
    const namespace = served.namespaced ? dependentNamespace : '';
    const entry = cache.get(resource, `${resource}/${namespace}/${ref.name}`);
    if (!entry || entry.object.metadata.uid !== ref.uid) return undefined;
    return { info: service.registry.storageVersion(served), entry };
  };

  const ignoreGone = async (work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
    }
  };

  const dropOwner = (dep: Located, ownerUid: string) =>
    ignoreGone(() =>
      service.patch(dep.info, dep.entry.namespace || undefined, dep.entry.name, (current) => {
        const refs = (current.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
        if (refs.length > 0) current.metadata.ownerReferences = refs;
        else delete current.metadata.ownerReferences;
        return current;
      }, system),
    );

  const removeFinalizer = (owner: Located, finalizer: string) =>
    ignoreGone(() =>
      service.patch(owner.info, owner.entry.namespace || undefined, owner.entry.name, (current) => {
        current.metadata.finalizers = (current.metadata.finalizers ?? []).filter((f) => f !== finalizer);
        return current;
      }, system),
    );

  const deleteDependent = (dep: Located, policy: 'Background' | 'Foreground') =>
    ignoreGone(() => service.delete(dep.info, dep.entry.namespace || undefined, dep.entry.name, { propagationPolicy: policy }, system));

  /** One owner uid: collect or unhook its dependents, or let it finish its own deletion. */
  const collectOwner = async (uid: string) => {
    const deps = dependents.get(uid);
    const self = finalizing.get(uid);
    let owner: Located | undefined | 'unknown';
    if (self) owner = locate(self);
    else {
      const first = deps?.values().next().value;
      if (!first) return;
      owner = ownerOf(first.ref, first.namespace);
    }
    if (owner === 'unknown') return;
    if (owner && !owner.entry.object.metadata.deletionTimestamp) return;
    const list = [...(deps?.values() ?? [])].flatMap((d) => {
      const located = locate(d);
      return located ? [{ dep: d, located }] : [];
    });
    if (!owner) {
      // The owner is gone: delete dependents with no owner left, unhook the rest.
      for (const { dep, located } of list) {
        const object: KubeObject = located.entry.object;
        const others = (object.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid && ownerOf(r, dep.namespace) !== undefined);
        if (others.length > 0) await dropOwner(located, uid);
        else if (!object.metadata.deletionTimestamp) await deleteDependent(located, 'Background');
      }
      return;
    }
    const finalizers = owner.entry.object.metadata.finalizers ?? [];
    if (finalizers.includes(ORPHAN_FINALIZER)) {
      for (const { located } of list) await dropOwner(located, uid);
      if (list.length === 0) await removeFinalizer(owner, ORPHAN_FINALIZER);
    } else if (finalizers.includes(FOREGROUND_FINALIZER)) {
      for (const { located } of list) {
        if (!located.entry.object.metadata.deletionTimestamp) await deleteDependent(located, 'Foreground');
      }
      if (list.length === 0) await removeFinalizer(owner, FOREGROUND_FINALIZER);
    }
  };

  const run = async () => {
    scheduled = false;
    if (stopped) return;
    if (running) {
      scheduled = true;
      return;
    }
    running = true;
    try {
      await service.store.syncCache();
      const work = [...dirty];
      dirty.clear();
      for (const uid of work) {
        if (stopped) break;
        try {
          await collectOwner(uid);
        } catch {
          // Left for the next event or the sweep.
        }
      }
    } catch {
      // Retried by the next event or sweep.
    } finally {
      running = false;
      if ((scheduled || dirty.size > 0) && !stopped) {
        scheduled = false;
        schedule();
      }
    }
  };

  const schedule = () => {
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(() => void run());
  };

  const sweep = () => {
    for (const uid of dependents.keys()) dirty.add(uid);
    for (const uid of finalizing.keys()) dirty.add(uid);
    schedule();
  };

  // Index what the cache holds now; later events keep the index current.
  for (const resource of cache.resources()) {
    for (const entry of cache.list(resource)) {
      index({ type: 'ADDED', resource, key: entry.key, namespace: entry.namespace, object: entry.object, text: entry.text });
    }
  }
  const unsubscribe = cache.onEvent((event) => {
    index(event);
    if (dirty.size > 0) schedule();
  });
  sweep();
  const timer = setInterval(sweep, opts.sweepIntervalMs ?? 30_000);
  timer.unref();
  return () => {
    stopped = true;
    unsubscribe();
    clearInterval(timer);
  };
}

/**
 * Whether an object's stored text may set `field`. The collector asks this before reading
 * the object, so that objects without the field (most) are not parsed for it: JSON writes a
 * field's name unescaped, so its absence from the text is certain.
 */
function mentions(text: string, field: string): boolean {
  return text.includes(`"${field}"`);
}

// Garbage collection through ownerReferences, as kube-controller-manager's garbage collector
// does it, run inside the server (idempotent, so every replica may run it):
// - Background: once an owner is gone, dependents whose owners are all gone are deleted;
//   references to a gone owner are dropped from dependents that still have another owner.
// - Foreground: an owner carrying the foregroundDeletion finalizer has its dependents deleted
//   first; the finalizer goes once none remain.
// - Orphan: an owner carrying the orphan finalizer has its references removed from every
//   dependent, then the finalizer goes.
// A periodic sweep catches owners that disappeared while no server was running.
import { ApiError } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import type { ResourceInfo } from '../machinery/resource.js';
import type { CachedObject } from '../store/cache.js';
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

export function startGarbageCollector(service: ObjectService, opts: { sweepIntervalMs?: number } = {}): () => void {
  let scheduled = false;
  let running = false;
  let stopped = false;

  /** Every object the cache holds, by uid, and what refers to each uid as its owner. */
  const locateAll = () => {
    const byUid = new Map<string, Located>();
    const dependents = new Map<string, Located[]>();
    const seen = new Set<string>();
    for (const served of service.registry.all()) {
      const id = resourceId(served);
      if (seen.has(id)) continue;
      seen.add(id);
      const info = service.registry.storageVersion(served);
      for (const entry of service.store.cache.list(id)) {
        const located = { info, entry };
        if (entry.object.metadata.uid) byUid.set(entry.object.metadata.uid, located);
        for (const ref of entry.object.metadata.ownerReferences ?? []) {
          const list = dependents.get(ref.uid) ?? [];
          list.push(located);
          dependents.set(ref.uid, list);
        }
      }
    }
    return { byUid, dependents };
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

  const collect = async () => {
    await service.store.syncCache();
    const { byUid, dependents } = locateAll();
    for (const [ownerUid, deps] of dependents) {
      const owner = byUid.get(ownerUid);
      if (!owner) {
        // The owner is gone: delete dependents with no owner left, unhook the rest.
        for (const dep of deps) {
          const others = (dep.entry.object.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid && byUid.has(r.uid));
          if (others.length > 0) await dropOwner(dep, ownerUid);
          else if (!dep.entry.object.metadata.deletionTimestamp) await deleteDependent(dep, 'Background');
        }
        continue;
      }
      const finalizers = owner.entry.object.metadata.finalizers ?? [];
      if (!owner.entry.object.metadata.deletionTimestamp) continue;
      if (finalizers.includes(ORPHAN_FINALIZER)) {
        for (const dep of deps) await dropOwner(dep, ownerUid);
      } else if (finalizers.includes(FOREGROUND_FINALIZER)) {
        for (const dep of deps) {
          if (!dep.entry.object.metadata.deletionTimestamp) await deleteDependent(dep, 'Foreground');
        }
      }
    }
    // Owners whose dependents are all gone (or unhooked) may finish their deletion now.
    for (const owner of byUid.values()) {
      const meta = owner.entry.object.metadata;
      if (!meta.deletionTimestamp) continue;
      const remaining = dependents.get(meta.uid!)?.length ?? 0;
      if (meta.finalizers?.includes(ORPHAN_FINALIZER)) {
        if (remaining === 0) await removeFinalizer(owner, ORPHAN_FINALIZER);
      } else if (meta.finalizers?.includes(FOREGROUND_FINALIZER) && remaining === 0) {
        await removeFinalizer(owner, FOREGROUND_FINALIZER);
      }
    }
  };

  const run = async () => {
    scheduled = false;
    if (running || stopped) {
      if (running) scheduled = true;
      return;
    }
    running = true;
    try {
      await collect();
    } catch {
      // Retried by the next event or sweep.
    } finally {
      running = false;
      if (scheduled && !stopped) void run();
    }
  };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => void run());
  };

  const relevant = (obj: KubeObject, previous?: KubeObject) =>
    (obj.metadata.ownerReferences?.length ?? 0) > 0 ||
    obj.metadata.deletionTimestamp !== undefined ||
    (previous?.metadata.ownerReferences?.length ?? 0) > 0;

  const unsubscribe = service.store.cache.onEvent((event) => {
    // A deleted object may be somebody's owner; anything with owners or being deleted matters.
    if (event.type === 'DELETED' || relevant(event.object, event.previous)) schedule();
  });
  schedule();
  const sweep = setInterval(schedule, opts.sweepIntervalMs ?? 30_000);
  sweep.unref();
  return () => {
    stopped = true;
    unsubscribe();
    clearInterval(sweep);
  };
}

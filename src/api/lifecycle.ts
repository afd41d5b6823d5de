// Server-side clean-up that Kubernetes runs in its controller manager and apiextensions
// server: a terminating Namespace empties itself and then goes; a deleted
// CustomResourceDefinition removes its objects first. Idempotent, so several replicas may run it.
import { ApiError } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import type { ResourceInfo } from '../machinery/resource.js';
import type { ObjectService, WriteOptions } from './object-service.js';
import { CRD_RESOURCE, resourceId } from './registry.js';

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';
const NAMESPACE_RESOURCE = '/namespaces';

const system: WriteOptions = {
  dryRun: false,
  fieldValidation: 'Ignore',
  user: { username: 'system:serviceaccount:kube-system:virtflow-lifecycle', groups: ['system:serviceaccounts'] },
  userAgent: 'virtflow-lifecycle',
};

export function startLifecycle(service: ObjectService): () => void {
  const pending = new Set<string>();
  let running = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const schedule = (key: string) => {
    pending.add(key);
    if (!timer) {
      timer = setTimeout(run, 0);
    }
  };

  const run = async () => {
    timer = undefined;
    if (running || stopped) return;
    running = true;
    try {
      while (pending.size > 0 && !stopped) {
        const [key] = pending;
        pending.delete(key!);
        try {
          if (key!.startsWith('ns:')) await finishNamespace(service, key!.slice(3));
          else await finishCrd(service, key!.slice(4));
        } catch {
          // Left for the next event or the periodic sweep.
        }
      }
    } finally {
      running = false;
    }
  };

  const consider = (resource: string, obj: KubeObject) => {
    if (resource === NAMESPACE_RESOURCE && obj.metadata.deletionTimestamp) schedule(`ns:${obj.metadata.name}`);
    if (resource === CRD_RESOURCE && obj.metadata.deletionTimestamp) schedule(`crd:${obj.metadata.name}`);
  };

  const unsubscribe = service.store.cache.onEvent((event) => {
    if (event.type !== 'DELETED' && (event.resource === NAMESPACE_RESOURCE || event.resource === CRD_RESOURCE)) consider(event.resource, event.object);
    // Something inside a terminating namespace went away: it may now be empty.
    if (event.type === 'DELETED' && event.namespace) {
      const ns = service.store.cache.get(NAMESPACE_RESOURCE, `${NAMESPACE_RESOURCE}//${event.namespace}`);
      if (ns?.object.metadata.deletionTimestamp) schedule(`ns:${event.namespace}`);
    }
    // An object of a deleted CRD went away: the CRD may now be empty.
    if (event.type === 'DELETED' && event.resource !== CRD_RESOURCE) {
      for (const crd of service.store.cache.list(CRD_RESOURCE)) {
        if (crd.object.metadata.deletionTimestamp && crdResourceId(crd.object) === event.resource) consider(CRD_RESOURCE, crd.object);
      }
    }
  });
  const sweep = () => {
    for (const ns of service.store.cache.list(NAMESPACE_RESOURCE)) consider(NAMESPACE_RESOURCE, ns.object);
    for (const crd of service.store.cache.list(CRD_RESOURCE)) consider(CRD_RESOURCE, crd.object);
    void run();
  };
  sweep();
  const interval = setInterval(sweep, 5_000);
  interval.unref();
  return () => {
    stopped = true;
    unsubscribe();
    clearInterval(interval);
    if (timer) clearTimeout(timer);
  };
}

function crdResourceId(crd: KubeObject): string {
  const spec = crd.spec as { group?: string; names?: { plural?: string } } | undefined;
  return resourceId({ group: spec?.group ?? '', plural: spec?.names?.plural ?? '' });
}

async function deleteAll(service: ObjectService, info: ResourceInfo, namespace: string | undefined): Promise<number> {
  const entries = service.store.cache.list(resourceId(info), namespace);
  for (const entry of entries) {
    if (entry.object.metadata.deletionTimestamp) continue;
    try {
      await service.delete(info, entry.namespace || undefined, entry.name, { propagationPolicy: 'Background' }, system);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }
  return entries.length;
}

/** The distinct stored resources (one version each) the registry serves. */
function storedResources(service: ObjectService, filter: (info: ResourceInfo) => boolean): ResourceInfo[] {
  const seen = new Set<string>();
  const out: ResourceInfo[] = [];
  for (const info of service.registry.all()) {
    const id = resourceId(info);
    if (seen.has(id) || !filter(info)) continue;
    seen.add(id);
    out.push(service.registry.storageVersion(info));
  }
  return out;
}

async function finishNamespace(service: ObjectService, name: string): Promise<void> {
  await service.store.syncCache();
  const ns = service.store.cache.get(NAMESPACE_RESOURCE, `${NAMESPACE_RESOURCE}//${name}`);
  if (!ns?.object.metadata.deletionTimestamp) return;
  let remaining = 0;
  for (const info of storedResources(service, (i) => i.namespaced)) {
    remaining += await deleteAll(service, info, name);
  }
  if (remaining > 0) return;
  const nsInfo = service.registry.lookup('', 'v1', 'namespaces')!;
  await service.patch(nsInfo, undefined, name, (current) => {
    const spec = (current.spec ?? {}) as { finalizers?: string[] };
    spec.finalizers = (spec.finalizers ?? []).filter((f) => f !== 'kubernetes');
    current.spec = spec;
    return current;
  }, system);
}

async function finishCrd(service: ObjectService, name: string): Promise<void> {
  await service.store.syncCache();
  const crd = service.store.cache.get(CRD_RESOURCE, `${CRD_RESOURCE}//${name}`);
  if (!crd?.object.metadata.deletionTimestamp) return;
  const spec = crd.object.spec as { group?: string; names?: { plural?: string } };
  const target = { group: spec.group ?? '', plural: spec.names?.plural ?? '' };
  const infos = storedResources(service, (i) => !i.builtin && i.group === target.group && i.plural === target.plural);
  let remaining = 0;
  for (const info of infos) remaining += await deleteAll(service, info, undefined);
  if (remaining > 0 || service.store.cache.count(resourceId(target)) > 0) return;
  const crdInfo = service.registry.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
  await service.patch(crdInfo, undefined, name, (current) => {
    current.metadata.finalizers = (current.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    return current;
  }, system);
}

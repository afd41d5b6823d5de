// What the simulated workload controllers share: the kinds they work on, owner references,
// template hashes, and the readiness of a pod as the real controllers judge it.
import { createHash } from 'node:crypto';
import { labelSelectorFromObject, type LabelSelector } from '../../machinery/labels.js';
import { clone, type KubeObject, type ObjectMeta } from '../../machinery/object.js';
import { canonicalJson, isPlainObject } from '../../machinery/object.js';
import { isNotFound } from '../../runtime/client.js';
import type { Informer } from '../../runtime/informer.js';
import type { ObjectKey } from '../../runtime/keys.js';
import { apiVersionOf, type ResourceType } from '../../runtime/resource.js';

const core = (plural: string, kind: string, namespaced = true): ResourceType => ({ group: '', version: 'v1', plural, kind, namespaced });
const apps = (plural: string, kind: string): ResourceType => ({ group: 'apps', version: 'v1', plural, kind, namespaced: true });

export const Pods = core('pods', 'Pod');
export const Nodes = core('nodes', 'Node', false);
export const Services = core('services', 'Service');
export const EndpointsKind = core('endpoints', 'Endpoints');
export const PersistentVolumes = core('persistentvolumes', 'PersistentVolume', false);
export const PersistentVolumeClaims = core('persistentvolumeclaims', 'PersistentVolumeClaim');
export const Deployments = apps('deployments', 'Deployment');
export const ReplicaSets = apps('replicasets', 'ReplicaSet');
export const StatefulSets = apps('statefulsets', 'StatefulSet');
export const DaemonSets = apps('daemonsets', 'DaemonSet');
export const Ingresses: ResourceType = { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', kind: 'Ingress', namespaced: true };
export const StorageClasses: ResourceType = { group: 'storage.k8s.io', version: 'v1', plural: 'storageclasses', kind: 'StorageClass', namespaced: false };

export type Obj = Record<string, unknown>;
export type Workload = KubeObject & { spec?: Obj; status?: Obj };

export function spec(obj: KubeObject): Obj {
  return isPlainObject(obj.spec) ? obj.spec : {};
}

export function status(obj: KubeObject): Obj {
  return isPlainObject(obj.status) ? obj.status : {};
}

/** apps/v1 defaults an absent replicas to 1. */
export function desiredReplicas(obj: KubeObject): number {
  const replicas = spec(obj).replicas;
  return typeof replicas === 'number' && replicas >= 0 ? replicas : 1;
}

export function controllerRef(owner: KubeObject, type: ResourceType): NonNullable<ObjectMeta['ownerReferences']>[number] {
  return {
    apiVersion: apiVersionOf(type),
    kind: type.kind,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  return (obj.metadata.ownerReferences ?? []).some((ref) => ref.controller === true && ref.uid === owner.metadata.uid);
}

/** The objects in `informer` whose controller is `owner`. */
export function controlledBy<T extends KubeObject>(informer: Informer<T>, owner: KubeObject): T[] {
  return informer.list(owner.metadata.namespace).filter((o) => isControlledBy(o, owner));
}

/** pod-template-hash: a short stable digest of the pod template, as the Deployment controller keeps. */
export function templateHash(template: unknown): string {
  return createHash('sha256').update(canonicalJson(template ?? {})).digest('hex').slice(0, 10);
}

export function selectorOf(obj: KubeObject): LabelSelector {
  const selector = spec(obj).selector;
  return labelSelectorFromObject(isPlainObject(selector) ? (selector as never) : undefined);
}

export function templateOf(obj: KubeObject): { metadata: Obj; spec: Obj } {
  const template = isPlainObject(spec(obj).template) ? (spec(obj).template as Obj) : {};
  return {
    metadata: isPlainObject(template.metadata) ? template.metadata : {},
    spec: isPlainObject(template.spec) ? template.spec : {},
  };
}

/** A pod object built from a workload's template. */
export function podFromTemplate(owner: KubeObject, ownerType: ResourceType, extraLabels: Record<string, string>, name: { name?: string; generateName?: string }): KubeObject {
  const template = templateOf(owner);
  const labels = { ...(isPlainObject(template.metadata.labels) ? (template.metadata.labels as Record<string, string>) : {}), ...extraLabels };
  const annotations = isPlainObject(template.metadata.annotations) ? (template.metadata.annotations as Record<string, string>) : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...name,
      namespace: owner.metadata.namespace,
      labels,
      ...(annotations ? { annotations } : {}),
      ownerReferences: [controllerRef(owner, ownerType)],
    },
    spec: clone(template.spec),
  };
}

export function isPodReady(pod: KubeObject): boolean {
  if (pod.metadata.deletionTimestamp) return false;
  const conditions = status(pod).conditions;
  return Array.isArray(conditions) && conditions.some((c) => isPlainObject(c) && c.type === 'Ready' && c.status === 'True');
}

/** Every key the informer holds in the object's namespace: for "something in here changed". */
export function keysInNamespace(informer: Informer<KubeObject>, namespace: string | undefined): ObjectKey[] {
  return informer.list(namespace).map((o) => ({ namespace: o.metadata.namespace, name: o.metadata.name! }));
}

/** Newest first, by creation time then name, as a scale-down picks its victims. */
export function newestFirst<T extends KubeObject>(objs: T[]): T[] {
  return [...objs].sort((a, b) =>
    (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (b.metadata.name ?? '').localeCompare(a.metadata.name ?? ''),
  );
}


/**
 * What a controller created or deleted that its cache has not shown yet, per owner: until the
 * cache catches up, counting the owner's pods would count wrong and create or delete twice
 * (controller-runtime's "expectations"). The informer event that settles an expectation also
 * queues the owner again.
 */
export class Expectations {
  private readonly pending = new Map<string, { created: Set<string>; deleted: Set<string> }>();
  /**
   * Keys the cache saw deleted, oldest first and bounded: a pod this controller created and
   * someone deleted before it looked again (a node drained at once) was seen all the same.
   * Without this its create would be expected for ever and the owner never reconciled again.
   */
  private readonly gone = new Set<string>();
  private static readonly GONE_KEPT = 10_000;

  private entry(owner: string) {
    let e = this.pending.get(owner);
    if (!e) this.pending.set(owner, (e = { created: new Set(), deleted: new Set() }));
    return e;
  }

  expectCreated(owner: string, key: string): void {
    this.entry(owner).created.add(key);
  }

  expectDeleted(owner: string, key: string): void {
    this.entry(owner).deleted.add(key);
  }

  /** The cache deleted `key` (fed from the informer's deleted events). */
  noteDeleted(key: string): void {
    this.gone.delete(key);
    this.gone.add(key);
    if (this.gone.size > Expectations.GONE_KEPT) this.gone.delete(this.gone.values().next().value!);
  }

  /** True when the cache shows every create and delete expected for `owner`. */
  satisfied(owner: string, inCache: (key: string) => boolean): boolean {
    const e = this.pending.get(owner);
    if (!e) return true;
    for (const key of e.created) if (inCache(key) || this.gone.has(key)) e.created.delete(key);
    for (const key of e.deleted) if (!inCache(key)) e.deleted.delete(key);
    if (e.created.size === 0 && e.deleted.size === 0) this.pending.delete(owner);
    return !this.pending.has(owner);
  }

  forget(owner: string): void {
    this.pending.delete(owner);
  }
}

/** For deletes and patches of something that may already be gone: only other failures count. */
export function ignoreGone(err: unknown): void {
  if (!isNotFound(err)) throw err;
}

/**
 * Whether a pod of this spec may be scheduled on the node: every NoSchedule or NoExecute taint of the
 * node is tolerated (a toleration with no key and Exists tolerates everything).
 */
export function toleratesNode(podSpec: Obj, node: KubeObject): boolean {
  const taints = isPlainObject(node.spec) && Array.isArray(node.spec.taints) ? node.spec.taints.filter(isPlainObject) : [];
  const tolerations = Array.isArray(podSpec.tolerations) ? podSpec.tolerations.filter(isPlainObject) : [];
  return taints
    .filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
    .every((taint) =>
      tolerations.some((t) => {
        if (t.effect && t.effect !== taint.effect) return false;
        if (!t.key) return t.operator === 'Exists';
        if (t.key !== taint.key) return false;
        return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
      }),
    );
}

// ReplicaSets, StatefulSets and DaemonSets: each keeps a set of pods in line with its spec,
// the way kube-controller-manager's controllers do, minus what a simulation never needs
// (preemption, pod disruption budgets, slow-start batches).
import { clone, type KubeObject } from '../../machinery/object.js';
import { isNotFound, type ObjectClient } from '../../runtime/client.js';
import type { Informer } from '../../runtime/informer.js';
import { keyOf, keyString, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import { updateStatus } from '../../runtime/status.js';
import {
  controlledBy,
  desiredReplicas,
  Expectations,
  isPodReady,
  newestFirst,
  PersistentVolumeClaims,
  podFromTemplate,
  Pods,
  ReplicaSets,
  spec,
  StatefulSets,
  DaemonSets,
  status,
  templateHash,
  templateOf,
  toleratesNode,
  type Obj,
  type Workload,
} from './common.js';
import { isPlainObject } from '../../machinery/object.js';

export const POD_TEMPLATE_HASH = 'pod-template-hash';
export const CONTROLLER_REVISION_HASH = 'controller-revision-hash';

async function deleteIfPresent(client: ObjectClient, key: ObjectKey): Promise<void> {
  await client.delete(Pods, key).catch((err) => {
    if (!isNotFound(err)) throw err;
  });
}

/** Shared by the pod-set controllers: the pods an owner has, with its expectations settled. */
class PodSet {
  readonly expectations = new Expectations();

  constructor(
    readonly client: ObjectClient,
    readonly pods: Informer<KubeObject>,
  ) {
    pods.subscribe((e) => {
      if (e.type === 'deleted') this.expectations.noteDeleted(keyString(keyOf(e.object)));
    });
  }

  /** Live pods of `owner`, or undefined while this controller's last changes are not cached yet. */
  settledPods(owner: KubeObject): KubeObject[] | undefined {
    if (!this.expectations.satisfied(owner.metadata.uid!, (k) => this.pods.get(k) !== undefined)) return undefined;
    return this.live(owner);
  }

  /** The pods of `owner` that are not being deleted, as the cache has them now. */
  live(owner: KubeObject): KubeObject[] {
    return controlledBy(this.pods, owner).filter((p) => !p.metadata.deletionTimestamp);
  }

  async create(owner: KubeObject, pod: KubeObject): Promise<void> {
    const created = await this.client.create(Pods, pod);
    this.expectations.expectCreated(owner.metadata.uid!, keyString(keyOf(created)));
  }

  async remove(owner: KubeObject, pod: KubeObject): Promise<void> {
    await deleteIfPresent(this.client, keyOf(pod));
    this.expectations.expectDeleted(owner.metadata.uid!, keyString(keyOf(pod)));
  }
}

/** Scale-down victims: pods not ready first, then the newest. */
function victims(pods: KubeObject[], count: number): KubeObject[] {
  const ordered = newestFirst(pods).sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)));
  return ordered.slice(0, Math.max(0, count));
}

export class ReplicaSetReconciler implements Reconciler {
  private readonly set: PodSet;

  constructor(
    private readonly client: ObjectClient,
    private readonly replicaSets: Informer<Workload>,
    pods: Informer<KubeObject>,
  ) {
    this.set = new PodSet(client, pods);
  }

  async reconcile(_ctx: unknown, key: ObjectKey): Promise<Result> {
    const rs = this.replicaSets.get(key);
    if (!rs) return {};
    const pods = this.set.settledPods(rs);
    if (pods && !rs.metadata.deletionTimestamp) {
      const missing = desiredReplicas(rs) - pods.length;
      const hash = rs.metadata.labels?.[POD_TEMPLATE_HASH];
      for (let i = 0; i < missing; i += 1) {
        await this.set.create(rs, podFromTemplate(rs, ReplicaSets, hash ? { [POD_TEMPLATE_HASH]: hash } : {}, { generateName: `${rs.metadata.name}-` }));
      }
      for (const pod of victims(pods, -missing)) await this.set.remove(rs, pod);
    }
    const live = this.set.live(rs);
    const ready = live.filter(isPodReady).length;
    await updateStatus(this.client, ReplicaSets, rs, (draft) => {
      draft.status = {
        replicas: live.length,
        fullyLabeledReplicas: live.length,
        readyReplicas: ready,
        availableReplicas: ready,
        observedGeneration: draft.metadata.generation ?? 1,
      };
    });
    return {};
  }
}

/** The ordinal of a StatefulSet pod named "<set>-<n>", or -1. */
function ordinalOf(set: KubeObject, pod: KubeObject): number {
  const prefix = `${set.metadata.name}-`;
  const name = pod.metadata.name ?? '';
  if (!name.startsWith(prefix)) return -1;
  const n = Number(name.slice(prefix.length));
  return Number.isInteger(n) && n >= 0 ? n : -1;
}

export class StatefulSetReconciler implements Reconciler {
  private readonly set: PodSet;

  constructor(
    private readonly client: ObjectClient,
    private readonly statefulSets: Informer<Workload>,
    pods: Informer<KubeObject>,
    private readonly claims: Informer<KubeObject>,
  ) {
    this.set = new PodSet(client, pods);
  }

  async reconcile(_ctx: unknown, key: ObjectKey): Promise<Result> {
    const sts = this.statefulSets.get(key);
    if (!sts) return {};
    const name = sts.metadata.name!;
    const revision = `${name}-${templateHash(templateOf(sts))}`;
    const wanted = desiredReplicas(sts);
    const parallel = spec(sts).podManagementPolicy === 'Parallel';
    const pods = this.set.settledPods(sts);
    if (pods && !sts.metadata.deletionTimestamp) await this.converge(sts, pods, wanted, revision, parallel);
    const live = this.set.live(sts);
    const ready = live.filter(isPodReady).length;
    const updated = live.filter((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH] === revision).length;
    await updateStatus(this.client, StatefulSets, sts, (draft) => {
      const previous = status(draft).currentRevision;
      const current = updated === live.length && live.length === wanted ? revision : typeof previous === 'string' ? previous : revision;
      draft.status = {
        observedGeneration: draft.metadata.generation ?? 1,
        replicas: live.length,
        readyReplicas: ready,
        availableReplicas: ready,
        currentReplicas: live.length - (current === revision ? 0 : updated),
        updatedReplicas: updated,
        currentRevision: current,
        updateRevision: revision,
        collisionCount: 0,
      };
    });
    return {};
  }

  private async converge(sts: Workload, pods: KubeObject[], wanted: number, revision: string, parallel: boolean): Promise<void> {
    const byOrdinal = new Map(pods.map((p) => [ordinalOf(sts, p), p]));
    // Scale down first, highest ordinal first, one at a time unless Parallel.
    const extra = pods.filter((p) => ordinalOf(sts, p) >= wanted || ordinalOf(sts, p) < 0).sort((a, b) => ordinalOf(sts, b) - ordinalOf(sts, a));
    for (const pod of parallel ? extra : extra.slice(0, 1)) await this.set.remove(sts, pod);
    if (extra.length > 0 && !parallel) return;
    for (let i = 0; i < wanted; i += 1) {
      const pod = byOrdinal.get(i);
      if (pod) {
        if (!isPodReady(pod) && !parallel) return;
        continue;
      }
      await this.ensureClaims(sts, i);
      const podName = `${sts.metadata.name}-${i}`;
      const created = podFromTemplate(sts, StatefulSets, {
        [CONTROLLER_REVISION_HASH]: revision,
        'statefulset.kubernetes.io/pod-name': podName,
        'apps.kubernetes.io/pod-index': String(i),
      }, { name: podName });
      (created.spec as Obj).hostname = podName;
      await this.set.create(sts, created);
      if (!parallel) return;
    }
    // Rolling update: the highest ordinal on an old revision goes once every pod is ready.
    if (pods.length === wanted && pods.every(isPodReady)) {
      const stale = pods.filter((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH] !== revision).sort((a, b) => ordinalOf(sts, b) - ordinalOf(sts, a));
      if (stale[0]) await this.set.remove(sts, stale[0]);
    }
  }

  /** volumeClaimTemplates: "<template>-<set>-<ordinal>", kept when the pod goes (as Retain does). */
  private async ensureClaims(sts: Workload, ordinal: number): Promise<void> {
    const templates = Array.isArray(spec(sts).volumeClaimTemplates) ? (spec(sts).volumeClaimTemplates as unknown[]) : [];
    for (const template of templates.filter(isPlainObject)) {
      const metadata = isPlainObject(template.metadata) ? template.metadata : {};
      const claimName = `${String(metadata.name ?? 'data')}-${sts.metadata.name}-${ordinal}`;
      if (this.claims.get({ namespace: sts.metadata.namespace, name: claimName })) continue;
      await this.client
        .create(PersistentVolumeClaims, {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: claimName, namespace: sts.metadata.namespace, labels: isPlainObject(metadata.labels) ? (metadata.labels as Record<string, string>) : undefined },
          spec: clone(isPlainObject(template.spec) ? template.spec : {}),
        })
        .catch((err) => {
          if ((err as { code?: number }).code !== 409) throw err;
        });
    }
  }
}

export class DaemonSetReconciler implements Reconciler {
  private readonly set: PodSet;

  constructor(
    private readonly client: ObjectClient,
    private readonly daemonSets: Informer<Workload>,
    pods: Informer<KubeObject>,
    private readonly nodes: Informer<KubeObject>,
  ) {
    this.set = new PodSet(client, pods);
  }

  async reconcile(_ctx: unknown, key: ObjectKey): Promise<Result> {
    const ds = this.daemonSets.get(key);
    if (!ds) return {};
    const revision = templateHash(templateOf(ds));
    // The nodes its pods may run on: schedulable, with taints the template tolerates.
    const nodes = this.nodes.list().filter((n) => !(isPlainObject(n.spec) && n.spec.unschedulable === true) && toleratesNode(templateOf(ds).spec, n));
    const nodeNames = new Set(nodes.map((n) => n.metadata.name!));
    const pods = this.set.settledPods(ds);
    if (pods && !ds.metadata.deletionTimestamp) {
      const onNode = new Map(pods.map((p) => [String(spec(p).nodeName ?? ''), p]));
      for (const pod of pods) if (!nodeNames.has(String(spec(pod).nodeName ?? ''))) await this.set.remove(ds, pod);
      for (const node of nodes) {
        if (onNode.has(node.metadata.name!)) continue;
        const pod = podFromTemplate(ds, DaemonSets, { [CONTROLLER_REVISION_HASH]: revision }, { generateName: `${ds.metadata.name}-` });
        (pod.spec as Obj).nodeName = node.metadata.name;
        await this.set.create(ds, pod);
      }
      // RollingUpdate with maxUnavailable 1: replace one old pod at a time, once all are ready.
      if (pods.length === nodes.length && pods.every(isPodReady)) {
        const stale = pods.find((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH] !== revision);
        if (stale) await this.set.remove(ds, stale);
      }
    }
    const live = this.set.live(ds);
    const ready = live.filter(isPodReady).length;
    await updateStatus(this.client, DaemonSets, ds, (draft) => {
      draft.status = {
        observedGeneration: draft.metadata.generation ?? 1,
        desiredNumberScheduled: nodes.length,
        currentNumberScheduled: live.length,
        numberMisscheduled: 0,
        numberReady: ready,
        numberAvailable: ready,
        numberUnavailable: Math.max(0, nodes.length - ready),
        updatedNumberScheduled: live.filter((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH] === revision).length,
      };
    });
    return {};
  }
}

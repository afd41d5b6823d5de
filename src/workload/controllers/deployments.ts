// Deployments: one ReplicaSet per pod template (named by its hash), the newest scaled up to
// the wanted replicas and the older ones down as the new pods become ready; the status that
// `kubectl rollout status` reads.
import { setCondition, type Condition } from '../../machinery/conditions.js';
import { clone, type KubeObject } from '../../machinery/object.js';
import { isPlainObject } from '../../machinery/object.js';
import { isAlreadyExists, isNotFound, type ObjectClient } from '../../runtime/client.js';
import type { Informer } from '../../runtime/informer.js';
import { keyOf, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import { updateStatus } from '../../runtime/status.js';
import { controllerRef, controlledBy, Deployments, desiredReplicas, ReplicaSets, spec, status, templateHash, templateOf, type Workload } from './common.js';
import { POD_TEMPLATE_HASH } from './pod-sets.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

function revisionOf(rs: KubeObject): number {
  const n = Number(rs.metadata.annotations?.[REVISION_ANNOTATION]);
  return Number.isInteger(n) ? n : 0;
}

function replicasOf(rs: KubeObject, field: 'replicas' | 'readyReplicas' | 'availableReplicas'): number {
  const value = status(rs)[field];
  return typeof value === 'number' ? value : 0;
}

function specReplicas(rs: KubeObject): number {
  return typeof spec(rs).replicas === 'number' ? (spec(rs).replicas as number) : 0;
}

export class DeploymentReconciler implements Reconciler {
  constructor(
    private readonly client: ObjectClient,
    private readonly deployments: Informer<Workload>,
    private readonly replicaSets: Informer<Workload>,
  ) {}

  async reconcile(_ctx: unknown, key: ObjectKey): Promise<Result> {
    const d = this.deployments.get(key);
    if (!d || d.metadata.deletionTimestamp) return {};
    const wanted = desiredReplicas(d);
    const template = templateOf(d);
    const hash = templateHash(template);
    const owned = controlledBy(this.replicaSets, d);
    const current = owned.find((rs) => rs.metadata.labels?.[POD_TEMPLATE_HASH] === hash);
    const old = owned.filter((rs) => rs !== current);
    if (spec(d).paused !== true) {
      if (!current) await this.createReplicaSet(d, hash, old, wanted);
      else if (specReplicas(current) !== wanted) await this.scale(current, wanted);
      // Old pods go as new ones become ready (a surge of up to the whole size).
      const newReady = current ? replicasOf(current, 'readyReplicas') : 0;
      for (const rs of old) {
        const target = newReady >= wanted ? 0 : Math.min(specReplicas(rs), wanted - newReady);
        if (specReplicas(rs) !== target) await this.scale(rs, target);
      }
      await this.pruneHistory(d, old);
    }
    const all = current ? [current, ...old] : old;
    const sum = (field: 'replicas' | 'readyReplicas' | 'availableReplicas') => all.reduce((n, rs) => n + replicasOf(rs, field), 0);
    const updated = current ? replicasOf(current, 'replicas') : 0;
    await updateStatus(this.client, Deployments, d, (draft) => {
      const available = sum('availableReplicas');
      const complete = updated === wanted && sum('replicas') === wanted && available === wanted;
      const now = new Date();
      let conditions: Condition[] = Array.isArray(status(draft).conditions) ? (status(draft).conditions as Condition[]) : [];
      conditions = setCondition(
        conditions,
        available >= wanted
          ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
          : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
        now,
      );
      conditions = setCondition(
        conditions,
        {
          type: 'Progressing',
          status: 'True',
          reason: complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
          message: complete
            ? `ReplicaSet "${d.metadata.name}-${hash}" has successfully progressed.`
            : `ReplicaSet "${d.metadata.name}-${hash}" is progressing.`,
        },
        now,
      );
      draft.status = {
        observedGeneration: draft.metadata.generation ?? 1,
        replicas: sum('replicas'),
        updatedReplicas: updated,
        readyReplicas: sum('readyReplicas'),
        availableReplicas: available,
        ...(wanted - available > 0 ? { unavailableReplicas: wanted - available } : {}),
        conditions,
      };
    });
    return {};
  }

  private async createReplicaSet(d: Workload, hash: string, old: KubeObject[], wanted: number): Promise<void> {
    const template = clone(templateOf(d));
    template.metadata.labels = { ...(isPlainObject(template.metadata.labels) ? template.metadata.labels : {}), [POD_TEMPLATE_HASH]: hash };
    const selector: Record<string, unknown> = isPlainObject(spec(d).selector) ? clone(spec(d).selector as Record<string, unknown>) : {};
    selector.matchLabels = { ...(isPlainObject(selector.matchLabels) ? selector.matchLabels : {}), [POD_TEMPLATE_HASH]: hash };
    const revision = Math.max(0, ...old.map(revisionOf)) + 1;
    try {
      await this.client.create(ReplicaSets, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${d.metadata.name}-${hash}`,
          namespace: d.metadata.namespace,
          labels: template.metadata.labels as Record<string, string>,
          annotations: { [REVISION_ANNOTATION]: String(revision) },
          ownerReferences: [controllerRef(d, Deployments)],
        },
        spec: { replicas: wanted, selector, template },
      });
    } catch (err) {
      // Made by an earlier reconcile whose event is on its way.
      if (!isAlreadyExists(err)) throw err;
    }
  }

  private async scale(rs: KubeObject, replicas: number): Promise<void> {
    await this.client.patch(ReplicaSets, keyOf(rs), 'merge', { spec: { replicas } }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }

  /** revisionHistoryLimit (default 10): the oldest empty ReplicaSets beyond it go. */
  private async pruneHistory(d: Workload, old: KubeObject[]): Promise<void> {
    const limit = typeof spec(d).revisionHistoryLimit === 'number' ? (spec(d).revisionHistoryLimit as number) : 10;
    const empty = old.filter((rs) => specReplicas(rs) === 0 && replicasOf(rs, 'replicas') === 0).sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of empty.slice(0, Math.max(0, empty.length - limit))) {
      await this.client.delete(ReplicaSets, keyOf(rs)).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }
}

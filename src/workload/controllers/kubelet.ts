// The scheduler and kubelet of a simulated cluster, in the KWOK manner: a pod without a node
// is bound to the ready node with the fewest pods, and a bound pod reports its containers
// running at once. Nothing runs; the status is what the real kubelet would write.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../machinery/object.js';
import { isPlainObject } from '../../machinery/object.js';
import { isNotFound, type ObjectClient } from '../../runtime/client.js';
import type { Informer } from '../../runtime/informer.js';
import { keyOf, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import { updateStatus } from '../../runtime/status.js';
import { formatConditionTime } from '../../machinery/conditions.js';
import { Pods, spec, status, toleratesNode, type Obj } from './common.js';

export function isNodeReady(node: KubeObject): boolean {
  const conditions = status(node).conditions;
  return Array.isArray(conditions) && conditions.some((c) => isPlainObject(c) && c.type === 'Ready' && c.status === 'True');
}

function nodeAddress(node: KubeObject | undefined): string | undefined {
  const addresses = node ? status(node).addresses : undefined;
  if (!Array.isArray(addresses)) return undefined;
  const internal = addresses.find((a) => isPlainObject(a) && a.type === 'InternalIP');
  return isPlainObject(internal) && typeof internal.address === 'string' ? internal.address : undefined;
}

/** A stable pod IP in the node's /24 of 10.244.0.0/16. */
function podIp(pod: KubeObject, nodeIndex: number): string {
  const digest = createHash('sha256').update(pod.metadata.uid ?? pod.metadata.name ?? '').digest();
  return `10.244.${nodeIndex % 256}.${2 + (digest[0]! % 250)}`;
}

export class KubeletReconciler implements Reconciler {
  constructor(
    private readonly client: ObjectClient,
    private readonly pods: Informer<KubeObject>,
    private readonly nodes: Informer<KubeObject>,
  ) {}

  async reconcile(_ctx: unknown, key: ObjectKey): Promise<Result> {
    const pod = this.pods.get(key);
    if (!pod || pod.metadata.deletionTimestamp) return {};
    const nodeName = spec(pod).nodeName;
    if (typeof nodeName !== 'string' || nodeName === '') return this.bind(pod);
    const nodes = this.nodes.list().sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    const nodeIndex = nodes.findIndex((n) => n.metadata.name === nodeName);
    const node = nodes[nodeIndex];
    await updateStatus(this.client, Pods, pod, (draft) => {
      draft.status = runningStatus(draft, node, nodeIndex < 0 ? 0 : nodeIndex + 1);
    });
    return {};
  }

  /** The scheduler's part: the ready, schedulable node whose taints it tolerates, with the fewest pods. */
  private async bind(pod: KubeObject): Promise<Result> {
    const load = new Map<string, number>();
    for (const p of this.pods.list()) {
      const n = spec(p).nodeName;
      if (typeof n === 'string') load.set(n, (load.get(n) ?? 0) + 1);
    }
    const candidates = this.nodes
      .list()
      .filter((n) => isNodeReady(n) && !(isPlainObject(n.spec) && n.spec.unschedulable === true) && toleratesNode(spec(pod), n))
      .sort((a, b) => (load.get(a.metadata.name!) ?? 0) - (load.get(b.metadata.name!) ?? 0) || a.metadata.name!.localeCompare(b.metadata.name!));
    const node = candidates[0];
    if (!node) {
      await updateStatus(this.client, Pods, pod, (draft) => {
        draft.status = {
          phase: 'Pending',
          conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/0 nodes are available.', lastTransitionTime: formatConditionTime(new Date()) }],
        };
      });
      return {};
    }
    await this.client.patch(Pods, keyOf(pod), 'merge', { spec: { nodeName: node.metadata.name } }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
    return {};
  }
}

/** What the kubelet reports for a pod whose containers all started. */
function runningStatus(pod: KubeObject, node: KubeObject | undefined, nodeIndex: number): Obj {
  const previous = status(pod);
  const started = typeof previous.startTime === 'string' ? previous.startTime : formatConditionTime(new Date());
  const containers = Array.isArray(spec(pod).containers) ? (spec(pod).containers as unknown[]).filter(isPlainObject) : [];
  const previousStatuses = Array.isArray(previous.containerStatuses) ? previous.containerStatuses.filter(isPlainObject) : [];
  const containerStatuses = containers.map((c) => {
    const before = previousStatuses.find((s) => s.name === c.name);
    const running = isPlainObject(before?.state) && isPlainObject(before.state.running) ? before.state.running : { startedAt: started };
    return {
      name: c.name,
      image: c.image,
      imageID: `${String(c.image ?? '')}@sha256:${createHash('sha256').update(String(c.image ?? '')).digest('hex')}`,
      containerID: `containerd://${createHash('sha256').update(`${pod.metadata.uid}/${String(c.name)}`).digest('hex')}`,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running },
    };
  });
  const condition = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: started });
  const ip = typeof previous.podIP === 'string' ? previous.podIP : podIp(pod, nodeIndex);
  const hostIP = nodeAddress(node);
  return {
    phase: 'Running',
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(condition),
    ...(hostIP ? { hostIP, hostIPs: [{ ip: hostIP }] } : {}),
    podIP: ip,
    podIPs: [{ ip }],
    startTime: started,
    containerStatuses,
    qosClass: 'BestEffort',
  };
}

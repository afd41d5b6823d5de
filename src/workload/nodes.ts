// The Node objects of a simulated workload cluster, made to match a list of wanted nodes: a
// node that is Ready gets a Node reporting Ready (the kubelet's registration), a Draining
// one is cordoned and its pods evicted (their controllers recreate them elsewhere), and a
// Node nobody wants any more is evicted and deleted. Joining and Failed nodes have no Node
// yet, as a kubelet that has not registered has none.
import { createHash } from 'node:crypto';
import { formatConditionTime } from '../machinery/conditions.js';
import type { KubeObject } from '../machinery/object.js';
import { isAlreadyExists, isNotFound, type ObjectClient } from '../runtime/client.js';
import { Nodes, Pods } from './controllers/common.js';

export interface WorkloadNode {
  name: string;
  role: 'ControlPlane' | 'Worker';
  /** Ready registers the node; Draining cordons it; anything else is not a Node (yet). */
  state: string;
  version: string;
  address?: string;
  pool?: string;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
}

export const POOL_LABEL = 'virtflow.io/node-pool';
const CONTROL_PLANE_ROLE = 'node-role.kubernetes.io/control-plane';

const fieldManager = { fieldManager: 'virtflow-workload-simulator' };

/** A stable octet for a node's addresses: the same name always gets the same one. */
function octet(name: string): number {
  return 2 + (createHash('sha256').update(name).digest()[0]! % 250);
}

function nodeObject(node: WorkloadNode): KubeObject {
  const controlPlane = node.role === 'ControlPlane';
  const taints = [...(controlPlane ? [{ key: CONTROL_PLANE_ROLE, effect: 'NoSchedule' }] : []), ...(node.taints ?? [])];
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: {
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'simulated',
        ...(controlPlane ? { [CONTROL_PLANE_ROLE]: '' } : {}),
        ...(node.pool ? { [POOL_LABEL]: node.pool } : {}),
        ...node.labels,
      },
    },
    spec: { podCIDR: `10.244.${octet(node.name)}.0/24`, ...(taints.length > 0 ? { taints } : {}) },
  };
}

function readyStatus(node: WorkloadNode): Record<string, unknown> {
  const at = formatConditionTime(new Date());
  return {
    capacity: { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' },
    allocatable: { cpu: '8', memory: '31Gi', pods: '110', 'ephemeral-storage': '95Gi' },
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status (simulated)', lastHeartbeatTime: at, lastTransitionTime: at }],
    addresses: [
      { type: 'InternalIP', address: node.address ?? `172.16.0.${octet(node.name)}` },
      { type: 'Hostname', address: node.name },
    ],
    nodeInfo: {
      kubeletVersion: node.version,
      kubeProxyVersion: node.version,
      containerRuntimeVersion: 'containerd://1.7.0',
      operatingSystem: 'linux',
      architecture: 'amd64',
      osImage: 'VirtFlow simulated node',
      kernelVersion: '6.1.0',
      machineID: node.name,
      systemUUID: node.name,
      bootID: node.name,
    },
  };
}

/** Makes the cluster's Nodes match `wanted`; safe to repeat. */
export async function syncNodes(client: ObjectClient, wanted: readonly WorkloadNode[]): Promise<void> {
  const existing = new Map((await client.list(Nodes)).items.map((n) => [n.metadata.name!, n]));
  const byName = new Map(wanted.map((n) => [n.name, n]));
  for (const node of wanted) {
    const current = existing.get(node.name);
    if (node.state === 'Ready' && !current) await register(client, node);
    else if (node.state === 'Draining' && current) await drain(client, current);
  }
  for (const [name, node] of existing) {
    const want = byName.get(name);
    if (want && (want.state === 'Ready' || want.state === 'Draining')) continue;
    await drain(client, node);
    await client.delete(Nodes, { name }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
}

async function register(client: ObjectClient, node: WorkloadNode): Promise<void> {
  try {
    await client.create(Nodes, nodeObject(node), fieldManager);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  await client.patch(Nodes, { name: node.name }, 'merge', { status: readyStatus(node) }, { ...fieldManager, subresource: 'status' });
}

/** kubectl drain: cordon, then evict every pod bound to the node. */
async function drain(client: ObjectClient, node: KubeObject): Promise<void> {
  const name = node.metadata.name!;
  if ((node.spec as { unschedulable?: boolean } | undefined)?.unschedulable !== true) {
    await client.patch(Nodes, { name }, 'merge', { spec: { unschedulable: true } }, fieldManager).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
  const pods = await client.list(Pods, { fieldSelector: `spec.nodeName=${name}` });
  for (const pod of pods.items) {
    await client.delete(Pods, { namespace: pod.metadata.namespace, name: pod.metadata.name! }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
}

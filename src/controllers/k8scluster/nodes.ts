// The VMs of a cluster: how the controller labels, names and builds them, and how it reads
// them back as rollout members.
import { apiVersion } from '../../kinds/define.js';
import type { Baremetal } from '../../kinds/baremetal.js';
import type { K8sCluster } from '../../kinds/k8scluster.js';
import type { K8sNodePool } from '../../kinds/k8snodepool.js';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import type { ClusterObservation } from '../../providers/cluster-protocol.js';
import type { Member } from './rollout.js';

/** Every VM the controller builds for a cluster carries the cluster's name here. */
export const CLUSTER_LABEL = 'virtflow.io/cluster';
/** A worker's K8sNodePool. */
export const NODE_POOL_LABEL = 'virtflow.io/node-pool';
/** The Kubernetes version the node was built with: nodes are replaced, never changed. */
export const VERSION_LABEL = 'virtflow.io/k8s-version';
/** Set on a VM chosen for removal: the service cordons and drains its node, then the VM goes. */
export const DRAIN_ANNOTATION = 'virtflow.io/drain';
/** On a K8sCluster, one per bastion VM it uses: `kubectl get k8s -l bastion.virtflow.io/<vm>`. */
export const BASTION_LABEL_PREFIX = 'bastion.virtflow.io/';
/** On a bastion VM, one per cluster it serves: `kubectl get vm -l cluster.virtflow.io/<cluster>=bastion`. */
export const BASTION_OF_PREFIX = 'cluster.virtflow.io/';

export type Group = { kind: 'ControlPlane' } | { kind: 'Worker'; pool: K8sNodePool };

export function selectorOf(cluster: string, pool?: string): string {
  return pool ? `${CLUSTER_LABEL}=${cluster},${NODE_POOL_LABEL}=${pool}` : `${CLUSTER_LABEL}=${cluster},virtflow.io/role=control-plane`;
}

export function membersOf(vms: VirtualMachine[], group: Group): VirtualMachine[] {
  return vms.filter((vm) =>
    group.kind === 'ControlPlane'
      ? vm.spec.role === 'ControlPlane'
      : vm.spec.role === 'Worker' && vm.metadata.labels?.[NODE_POOL_LABEL] === group.pool.metadata.name,
  );
}

export function toMember(vm: VirtualMachine, observation: ClusterObservation | undefined): Member {
  const node = observation?.nodes.find((n) => n.name === vm.metadata.name);
  return {
    name: vm.metadata.name!,
    version: vm.metadata.labels?.[VERSION_LABEL] ?? '',
    createdAt: Date.parse(vm.metadata.creationTimestamp ?? '') || 0,
    ready: node?.state === 'Ready',
    failed: node?.state === 'Failed' || vm.status?.phase === 'Failed',
    removing: vm.metadata.annotations?.[DRAIN_ANNOTATION] !== undefined || vm.metadata.deletionTimestamp !== undefined,
  };
}

/**
 * Where control-plane nodes are kept apart: on distinct racks while the group has a rack for
 * each of them (a rack counts when it holds a host of the group), else on distinct hosts while
 * it has a host for each, so that one machine failing never takes the control plane's quorum.
 * The controller and admission both ask here.
 */
export function controlPlaneSpread(hostsOfGroup: readonly Baremetal[], replicas: number): 'Rack' | 'Host' | undefined {
  if (new Set(hostsOfGroup.map((h) => h.spec.rack)).size >= replicas) return 'Rack';
  return hostsOfGroup.length >= replicas ? 'Host' : undefined;
}

export interface NodeVmInput {
  cluster: K8sCluster;
  group: Group;
  version: string;
  specification: string;
  image: string;
  vmGroup: string;
  /** Where the control plane's nodes are kept apart (controlPlaneSpread); workers are not. */
  spreadAcross: 'Rack' | 'Host' | undefined;
}

/** A new node VM, named by generateName (and so by the tenant's vmNameTemplate when it has one). */
export function nodeVm({ cluster, group, version, specification, image, vmGroup, spreadAcross }: NodeVmInput): VirtualMachine {
  const name = cluster.metadata.name!;
  const pool = group.kind === 'Worker' ? group.pool : undefined;
  const owner = pool ?? cluster;
  const strategy = cluster.spec.schedulingMode === 'Spread' || cluster.spec.schedulingMode === 'Binpack' ? cluster.spec.schedulingMode : undefined;
  const placement: NonNullable<VirtualMachine['spec']['placement']> = {
    ...(strategy ? { strategy } : {}),
    // Per version: while a node is replaced, the new one may share a rack with the old.
    ...(spreadAcross ? { spreadAcross, spreadKey: `${cluster.metadata.namespace}/${name}/control-plane/${version}` } : {}),
  };
  return {
    apiVersion,
    kind: 'VirtualMachine',
    metadata: {
      // A pool already named after its cluster ("prod-web") is not prefixed twice.
      generateName: pool ? (pool.metadata.name!.startsWith(`${name}-`) ? `${pool.metadata.name}-` : `${name}-${pool.metadata.name}-`) : `${name}-cp-`,
      namespace: cluster.metadata.namespace,
      labels: {
        [CLUSTER_LABEL]: name,
        [VERSION_LABEL]: version,
        ...(pool ? { [NODE_POOL_LABEL]: pool.metadata.name! } : { 'virtflow.io/role': 'control-plane' }),
      },
      ownerReferences: [
        { apiVersion, kind: pool ? 'K8sNodePool' : 'K8sCluster', name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: {
      specification,
      image,
      group: vmGroup,
      role: pool ? 'Worker' : 'ControlPlane',
      cluster: name,
      ...(Object.keys(placement).length > 0 ? { placement } : {}),
    },
  } as VirtualMachine;
}

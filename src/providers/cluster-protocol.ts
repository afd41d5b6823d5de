// The K8s Cluster Service protocol, version v1: the wire shapes VirtFlow and the service that
// runs Kubernetes on a cluster's VMs (seed 002) exchange over HTTP+JSON, beside the VM
// protocol (protocol.ts) under the same /v1 prefix, with the same bearer token and ErrorBody.
// It is declarative: VirtFlow PUTs the whole desired cluster (its nodes are the VMs that
// run); the service converges to it in the background (bootstrap, join, cordon+drain+remove)
// and GET answers what it observes. See docs/external-controller-protocol.md.
import { Type, type Static } from '@sinclair/typebox';

export const clusterNodeRoles = ['ControlPlane', 'Worker'] as const;
/** Joining: kubelet being installed; Ready; NotReady: joined but unhealthy; Draining: cordoned, pods evicted, then removed; Failed: cannot join. */
export const clusterNodeStates = ['Joining', 'Ready', 'NotReady', 'Draining', 'Failed'] as const;
/** Bootstrapping: no API server yet; Running; TearingDown: DELETE accepted. */
export const clusterPhases = ['Bootstrapping', 'Running', 'TearingDown'] as const;
export const componentStates = ['active', 'inactive', 'error'] as const;

const enumOf = <const T extends readonly string[]>(values: T, description: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });
const text = (description: string, options: Record<string, unknown> = {}) => Type.String({ description, ...options });

export const ClusterNode = Type.Object(
  {
    name: text('Node name: the VirtualMachine\'s name.', { minLength: 1 }),
    role: enumOf(clusterNodeRoles, 'ControlPlane or Worker.'),
    version: text('Kubernetes version the node is built with, e.g. v1.30.2.', { pattern: '^v[0-9]+\\.[0-9]+\\.[0-9]+$' }),
    address: Type.Optional(text('Address of the VM the service reaches the node at.')),
    pool: Type.Optional(text('K8sNodePool of a worker.')),
    labels: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Kubernetes node labels.' })),
    taints: Type.Optional(
      Type.Array(Type.Object({ key: Type.String(), value: Type.Optional(Type.String()), effect: Type.String() }), { description: 'Kubernetes node taints.' }),
    ),
  },
  { description: 'One node the cluster should have.' },
);

export const ClusterRequest = Type.Object(
  {
    namespace: text('Namespace (the tenant\'s) of the K8sCluster.', { minLength: 1 }),
    name: text('metadata.name of the K8sCluster.', { minLength: 1 }),
    revision: text('Identifies this desired state; the observation echoes the revision the service works from.', { minLength: 1 }),
    version: text('Kubernetes version of the control plane.', { pattern: '^v[0-9]+\\.[0-9]+\\.[0-9]+$' }),
    network: Type.Object(
      { cni: text('cilium, calico or flannel.'), podCIDR: Type.Optional(text('Pod network.')), serviceCIDR: Type.Optional(text('Service network.')) },
      { description: 'Cluster network.' },
    ),
    plugins: Type.Array(Type.Object({ name: Type.String(), version: Type.Optional(Type.String()), enabled: Type.Boolean() }), {
      description: 'Add-ons to install (enabled) or remove.',
    }),
    serviceMeshes: Type.Array(Type.Object({ mesh: Type.String(), role: Type.String() }), { description: 'Service meshes to join, with the role.' }),
    nodes: Type.Array(ClusterNode, {
      description:
        'Every node the cluster should have. The first control-plane node bootstraps the cluster; new ones join; nodes no longer listed are cordoned, drained and removed.',
    }),
  },
  { description: 'The whole desired state of a cluster. Idempotent: a repeated PUT with the same revision changes nothing.' },
);

export const ObservedNode = Type.Object(
  {
    name: Type.String({ description: 'Node name.' }),
    role: enumOf(clusterNodeRoles, 'ControlPlane or Worker.'),
    version: Type.String({ description: 'Version the node runs.' }),
    state: enumOf(clusterNodeStates, 'Joining, Ready, NotReady, Draining or Failed.'),
    message: Type.Optional(Type.String({ description: 'Why the node is NotReady or Failed.' })),
  },
  { description: 'One node as the service observes it.' },
);

const ObservedComponent = Type.Object({ name: Type.String(), version: Type.Optional(Type.String()), state: enumOf(componentStates, 'active, inactive or error.') });

export const ClusterObservation = Type.Object(
  {
    uid: Type.String({ description: 'metadata.uid of the K8sCluster.' }),
    exists: Type.Boolean({ description: 'Does the service hold a cluster for this uid.' }),
    revision: Type.Optional(Type.String({ description: 'The revision of the last desired state accepted.' })),
    phase: Type.Optional(enumOf(clusterPhases, 'Bootstrapping, Running or TearingDown.')),
    reachable: Type.Optional(Type.Boolean({ description: 'False when the service cannot reach the cluster\'s API server.' })),
    apiServer: Type.Optional(Type.String({ description: 'URL of the cluster\'s API server, once bootstrapped.' })),
    kubeconfig: Type.Optional(Type.String({ description: 'An admin kubeconfig (YAML), once bootstrapped.' })),
    version: Type.Optional(Type.String({ description: 'Version the API server reports.' })),
    nodes: Type.Array(ObservedNode, { description: 'The nodes of the cluster, including those still joining or draining.' }),
    cni: Type.Optional(ObservedComponent),
    plugins: Type.Array(ObservedComponent, { description: 'Add-ons and their states.' }),
    serviceMeshes: Type.Array(Type.Object({ mesh: Type.String(), role: Type.String(), state: enumOf(componentStates, 'active, inactive or error.') }), {
      description: 'Mesh memberships and their states.',
    }),
  },
  { description: 'What the service knows about a cluster. Reading it never changes anything.' },
);

export type ClusterNode = Static<typeof ClusterNode>;
export type ClusterRequest = Static<typeof ClusterRequest>;
export type ObservedNode = Static<typeof ObservedNode>;
export type ClusterObservation = Static<typeof ClusterObservation>;

export const clusterProtocolSchemas = { ClusterRequest, ClusterNode, ClusterObservation, ObservedNode };

/** Path of the cluster resource, under the protocol's base path. */
export const clusterPath = (uid: string) => `/k8sclusters/${encodeURIComponent(uid)}`;

import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import { count, intOrPercent, nameRef, optionalText, statusOf, stringEnum, stringMap, timestamp } from './fields.js';

export const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export const deletePolicies = ['Oldest', 'Newest'] as const;
export const nodePoolPhases = ['Pending', 'Provisioning', 'Active', 'Scaling', 'Upgrading', 'Degraded', 'Deleting'] as const;

/** Kubernetes versions as VirtFlow takes them: v<major>.<minor>.<patch>. */
export const kubernetesVersionPattern = '^v[0-9]+\\.[0-9]+\\.[0-9]+$';

export const upgradeStates = ['Progressing', 'RollingBack', 'Succeeded', 'RolledBack', 'Failed'] as const;

/** status.upgrade of a cluster, and of a pool that has a version of its own: one shape, one state machine. */
export const upgradeStatus = (description: string) =>
  Type.Optional(
    Type.Object(
      {
        from: optionalText('Version the nodes ran before the upgrade.'),
        to: optionalText('Version the upgrade goes to.'),
        step: optionalText('What the rollout does now, e.g. "control plane 2/3 at v1.31.0; joining acme-cp-4".'),
        startedAt: Type.Optional(timestamp('When the upgrade started.')),
        state: Type.Optional(stringEnum(upgradeStates, 'Progressing, RollingBack, Succeeded, RolledBack or Failed.')),
        message: optionalText('Why the upgrade rolled back or failed.'),
      },
      { description },
    ),
  );

/** A count or a percent, as maxSurge/maxUnavailable of a Deployment. */
const countOrPercent = (description: string, defaultValue: number) =>
  Type.Unsafe<string | number>({ ...intOrPercent(description), minimum: 0, default: defaultValue });

export const K8sNodePoolSpec = Type.Object(
  {
    cluster: nameRef('K8s cluster (K8s叢集) the pool belongs to: a K8sCluster name in this namespace.'),
    replicas: Type.Optional(Type.Integer({ description: 'Number of worker nodes (節點數) of the pool; the scale subresource.', minimum: 0, default: 1 })),
    specification: nameRef('Specification (規格) of the pool\'s VMs: a VirtualMachineSpecification name.'),
    group: Type.Optional(nameRef('Bare-metal group (主機群組) the pool\'s VMs are placed in; defaults to the control plane\'s group.')),
    version: Type.Optional(
      Type.String({
        description: 'Kubernetes version of the pool\'s nodes; defaults to the cluster\'s. At most one minor version behind the cluster, never ahead.',
        pattern: kubernetesVersionPattern,
      }),
    ),
    labels: Type.Optional(stringMap('Kubernetes node labels of the pool\'s nodes.')),
    taints: Type.Optional(
      Type.Array(
        Type.Object(
          {
            key: Type.String({ description: 'Taint key.', minLength: 1, maxLength: 253 }),
            value: optionalText('Taint value.', { maxLength: 63 }),
            effect: stringEnum(taintEffects, 'NoSchedule, PreferNoSchedule or NoExecute.'),
          },
          { description: 'One Kubernetes node taint.' },
        ),
        { description: 'Kubernetes node taints of the pool\'s nodes.' },
      ),
    ),
    strategy: Type.Optional(
      Type.Object(
        {
          maxSurge: Type.Optional(countOrPercent('Nodes added above replicas while nodes are replaced (滾動升級): a count or a percent like "25%".', 1)),
          maxUnavailable: Type.Optional(countOrPercent('Nodes that may be missing below replicas while nodes are replaced: a count or a percent.', 0)),
        },
        { description: 'How nodes are replaced when the version changes.', default: {} },
      ),
    ),
    deletePolicy: Type.Optional(stringEnum(deletePolicies, 'Which nodes go first when the pool shrinks: Oldest or Newest.', 'Newest')),
  },
  { description: 'Desired state of the node pool (節點群組).' },
);

export const K8sNodePoolStatus = statusOf(
  {
    replicas: Type.Optional(count('Worker VMs of the pool that exist.')),
    readyReplicas: Type.Optional(count('Nodes of the pool the K8s Cluster Service reports Ready.')),
    updatedReplicas: Type.Optional(count('Nodes of the pool that run the version the pool wants.')),
    version: optionalText('The Kubernetes version every node of the pool runs; absent while they differ.'),
    selector: optionalText('Label selector of the pool\'s VMs, for the scale subresource (and autoscalers).'),
    phase: Type.Optional(stringEnum(nodePoolPhases, 'Observed phase of the pool.')),
    upgrade: upgradeStatus('The last rolling upgrade of the pool to a version of its own (spec.version); a pool following its cluster rolls within the cluster\'s upgrade.'),
  },
  'Observed state of the node pool. Conditions: Ready, Upgrading.',
);

export type K8sNodePoolSpec = Static<typeof K8sNodePoolSpec>;
export type K8sNodePoolStatus = Static<typeof K8sNodePoolStatus>;
export type K8sNodePool = KindObject<K8sNodePoolSpec, K8sNodePoolStatus>;

export const k8sNodePoolKind = defineKind({
  kind: 'K8sNodePool',
  plural: 'k8snodepools',
  singular: 'k8snodepool',
  shortNames: ['np'],
  scope: 'Namespaced',
  description: 'A pool of identical worker nodes (節點群組) of a K8sCluster, like a Cluster API MachineDeployment.',
  spec: K8sNodePoolSpec,
  status: K8sNodePoolStatus,
  scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
  printerColumns: [
    { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster', description: 'The cluster.' },
    { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas', description: 'Wanted nodes.' },
    { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Ready nodes.' },
    { name: 'Up-to-date', type: 'integer', jsonPath: '.status.updatedReplicas', description: 'Nodes at the wanted version.' },
    { name: 'Version', type: 'string', jsonPath: '.status.version', description: 'Version every node runs.' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', priority: 1, description: 'Observed phase.' },
    { name: 'Upgrade', type: 'string', jsonPath: '.status.upgrade.state', priority: 1, description: 'State of the pool\'s last upgrade of its own.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  selectableFields: ['.spec.cluster'],
});

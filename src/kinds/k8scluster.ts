import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import {
  count,
  flag,
  intOrPercent,
  listMap,
  maintainersField,
  nameRef,
  nameSet,
  optionalText,
  statusOf,
  stringEnum,
} from './fields.js';
import { kubernetesVersionPattern, upgradeStatus } from './k8snodepool.js';

export const schedulingModes = ['Spread', 'Binpack', 'Manual'] as const;
export const cniPlugins = ['cilium', 'calico', 'flannel'] as const;
export const storageTypes = ['ceph', 'nfs', 'local'] as const;
export const meshRoles = ['primary', 'secondary'] as const;
export const authTypes = ['token', 'kubeconfig'] as const;
export const componentStates = ['active', 'inactive', 'error'] as const;
export const clusterPhases = [
  'Provisioning',
  'Active',
  'Upgrading',
  'Scaling',
  'Maintenance',
  'Degraded',
  'Offline',
  'Error',
  'Deleting',
] as const;

/** A duration as Kubernetes tools write it: 90s, 10m, 1h. */
const durationPattern = '^[0-9]+(s|m|h)$';
const cidr = (description: string) =>
  Type.String({ description, pattern: '^[0-9a-fA-F:.]+/[0-9]{1,3}$' });

export const K8sClusterSpec = Type.Object(
  {
    version: Type.String({ description: 'Kubernetes version (版本), e.g. v1.30.2.', pattern: kubernetesVersionPattern }),
    description: optionalText('Free-form description (描述) of the cluster.'),
    schedulingMode: Type.Optional(
      stringEnum(
        schedulingModes,
        'Scheduling mode (排程模式) of the cluster\'s VMs: Spread over hosts, Binpack onto few, or Manual (pinned).',
        'Spread',
      ),
    ),
    controlPlane: Type.Optional(
      Type.Object(
        {
          replicas: Type.Optional(
            Type.Unsafe<1 | 3 | 5>({
              type: 'integer',
              description: 'Number of control-plane VMs (控制平面): 1, 3 or 5.',
              enum: [1, 3, 5],
              default: 3,
            }),
          ),
          specification: Type.Optional(nameRef('Specification (規格) of the control-plane VMs.')),
          group: Type.Optional(nameRef('Bare-metal group the control-plane VMs are placed in.')),
        },
        { description: 'Control plane (控制平面) of the cluster.', default: {} },
      ),
    ),
    network: Type.Optional(
      Type.Object(
        {
          cni: Type.Optional(stringEnum(cniPlugins, 'Network plugin (網路插件): cilium, calico or flannel.', 'cilium')),
          podCIDR: Type.Optional(cidr('Network for pod addresses, e.g. 10.244.0.0/16.')),
          serviceCIDR: Type.Optional(cidr('Network for service addresses, e.g. 10.96.0.0/12.')),
        },
        { description: 'Cluster network (網路) settings.', default: {} },
      ),
    ),
    storage: Type.Optional(
      listMap(
        Type.Object(
          {
            name: Type.String({ description: 'Name of the storage class.', minLength: 1 }),
            type: stringEnum(storageTypes, 'Storage backend: ceph, nfs or local.'),
            default: Type.Optional(flag('Is this the default storage class.', false)),
          },
          { description: 'One storage class of the cluster.' },
        ),
        ['name'],
        'Storage classes (儲存資源) of the cluster, merged by name.',
      ),
    ),
    plugins: Type.Optional(
      listMap(
        Type.Object(
          {
            name: Type.String({ description: 'Name of the plugin (插件), e.g. metrics-server.', minLength: 1 }),
            version: optionalText('Version of the plugin.'),
            enabled: Type.Optional(flag('Install (true) or remove (false) the plugin.', true)),
          },
          { description: 'One cluster add-on.' },
        ),
        ['name'],
        'Plugins (插件) with versions, merged by name.',
      ),
    ),
    serviceMeshes: Type.Optional(
      listMap(
        Type.Object(
          {
            mesh: nameRef('Service mesh (服務網格): a ServiceMesh name.'),
            role: Type.Optional(stringEnum(meshRoles, 'Role of this cluster in the mesh: primary or secondary.', 'primary')),
          },
          { description: 'Membership of the cluster in one service mesh.' },
        ),
        ['mesh'],
        'Service meshes the cluster joins, merged by mesh.',
      ),
    ),
    bastions: Type.Optional(nameSet('Bastion (堡壘機) VMs of the cluster: VirtualMachine names in this namespace.', 'VirtualMachine name.')),
    image: Type.Optional(nameRef('Image (母版) of the cluster\'s VMs: a VirtualMachineImage name.')),
    maintenance: Type.Optional(flag('Mark the cluster as under maintenance (維護中).', false)),
    upgrade: Type.Optional(
      Type.Object(
        {
          maxSurge: Type.Optional(intOrPercent('Extra nodes during a rolling upgrade (滾動升級): a count or a percent like "25%".')),
          maxUnavailable: Type.Optional(intOrPercent('Nodes that may be unavailable during a rolling upgrade: a count or a percent.')),
          healthTimeout: Type.Optional(
            Type.String({
              description: 'How long a replaced node may take to become Ready (e.g. 90s, 10m, 1h); past it the upgrade rolls back by itself.',
              pattern: durationPattern,
              default: '10m',
            }),
          ),
        },
        { description: 'Rolling-upgrade (升級版本) settings.' },
      ),
    ),
    import: Type.Optional(
      Type.Object(
        {
          apiServer: Type.String({ description: 'URL of the existing cluster\'s API server.', pattern: '^https://.+' }),
          authType: Type.Optional(stringEnum(authTypes, 'How to authenticate: token or kubeconfig.', 'kubeconfig')),
          credentialsSecret: nameRef('Secret in this namespace holding the token or kubeconfig (認證).'),
        },
        { description: 'Register an existing cluster instead of building one.' },
      ),
    ),
  },
  { description: 'Desired state of the Kubernetes cluster (K8s叢集).' },
);

const componentState = stringEnum(componentStates, 'State: active, inactive or error.');

export const K8sClusterStatus = statusOf(
  {
    phase: Type.Optional(stringEnum(clusterPhases, 'Observed phase of the cluster (運作中、維護中、異常等).')),
    version: optionalText('Kubernetes version the cluster runs now.'),
    nodes: optionalText('Ready and wanted worker nodes of all pools, e.g. "5/6", for kubectl get.'),
    maintainers: maintainersField(),
    controlPlane: Type.Optional(
      Type.Object(
        {
          ready: Type.Optional(count('Control-plane nodes the K8s Cluster Service reports Ready.')),
          replicas: Type.Optional(count('Control-plane VMs that exist.')),
          nodes: optionalText('Ready and wanted control-plane nodes, e.g. "3/3", for kubectl get.'),
        },
        { description: 'Observed control plane.' },
      ),
    ),
    nodePools: Type.Optional(
      listMap(
        Type.Object(
          {
            name: Type.String({ description: 'Name of the node pool.' }),
            ready: Type.Optional(count('Nodes of the pool that are ready.')),
            replicas: Type.Optional(count('Nodes of the pool that exist.')),
            version: optionalText('Version every node of the pool runs; absent while they differ.'),
          },
          { description: 'Observed state of one node pool.' },
        ),
        ['name'],
        'Observed node pools: the K8sNodePools whose spec.cluster names this cluster.',
      ),
    ),
    plugins: Type.Optional(
      listMap(
        Type.Object(
          {
            name: Type.String({ description: 'Name of the plugin.' }),
            version: optionalText('Installed version.'),
            state: Type.Optional(componentState),
          },
          { description: 'Observed state of one plugin.' },
        ),
        ['name'],
        'Observed plugins.',
      ),
    ),
    serviceMeshes: Type.Optional(
      listMap(
        Type.Object(
          {
            mesh: Type.String({ description: 'Name of the service mesh.' }),
            role: Type.Optional(stringEnum(meshRoles, 'Role of the cluster in the mesh.')),
            state: Type.Optional(componentState),
          },
          { description: 'Observed membership in one service mesh.' },
        ),
        ['mesh'],
        'Observed service-mesh memberships.',
      ),
    ),
    network: Type.Optional(
      Type.Object(
        {
          cni: optionalText('Network plugin the cluster runs.'),
          state: Type.Optional(componentState),
        },
        { description: 'Observed cluster network (CNI).' },
      ),
    ),
    bastions: Type.Optional(
      listMap(
        Type.Object(
          {
            name: Type.String({ description: 'Name of the bastion VM.' }),
            state: Type.Optional(stringEnum(['active', 'missing', 'error'] as const, 'active (a Running VM with role Bastion), missing, or error (not a Bastion, or not running).')),
          },
          { description: 'One bastion (堡壘機) of the cluster.' },
        ),
        ['name'],
        'Bastions of the cluster; each bastion VM is labelled with the clusters it serves.',
      ),
    ),
    upgrade: upgradeStatus('The last rolling upgrade (滾動升級) of the cluster.'),
    apiServer: optionalText('URL of the cluster\'s API server.'),
    kubeconfigSecret: optionalText('Secret in this namespace holding an admin kubeconfig (憑證).'),
  },
  'Observed state of the cluster.',
);

export type K8sClusterSpec = Static<typeof K8sClusterSpec>;
export type K8sClusterStatus = Static<typeof K8sClusterStatus>;
export type K8sCluster = KindObject<K8sClusterSpec, K8sClusterStatus>;

// No scale subresource: a cluster has a control plane and several node pools; each pool is a
// K8sNodePool with its own scale subresource.
export const k8sClusterKind = defineKind({
  kind: 'K8sCluster',
  plural: 'k8sclusters',
  singular: 'k8scluster',
  shortNames: ['k8s'],
  scope: 'Namespaced',
  description: 'A Kubernetes cluster (K8s叢集) of a tenant, built from VMs or imported.',
  spec: K8sClusterSpec,
  status: K8sClusterStatus,
  printerColumns: [
    { name: 'Version', type: 'string', jsonPath: '.status.version', description: 'Version the control plane runs.' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Observed phase.' },
    { name: 'Control Plane', type: 'string', jsonPath: '.status.controlPlane.nodes', description: 'Ready/wanted control-plane nodes.' },
    { name: 'Nodes', type: 'string', jsonPath: '.status.nodes', description: 'Ready/wanted worker nodes.' },
    { name: 'Upgrade', type: 'string', jsonPath: '.status.upgrade.state', priority: 1, description: 'State of the last upgrade.' },
    { name: 'Desired Version', type: 'string', jsonPath: '.spec.version', priority: 1, description: 'Requested version.' },
    { name: 'Mode', type: 'string', jsonPath: '.spec.schedulingMode', priority: 1, description: 'Scheduling mode.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});

// The kinds a simulated workload cluster serves, writable, in place of the read-only ones
// VirtFlow itself serves for `kubectl apply --prune`. Enough of core/v1, apps/v1,
// networking.k8s.io/v1 and storage.k8s.io/v1 for kubectl and the operations console to do
// their day-2 work against something that answers as a Kubernetes cluster does.
import { age } from '../api/builtins.js';
import { builtin } from '../machinery/resource.js';
import type { KubeObject } from '../machinery/object.js';
import { isPlainObject } from '../machinery/object.js';
import type { PrinterColumn, ResourceInfo } from '../machinery/resource.js';
import { workloadDefaults } from './defaults.js';

type Obj = Record<string, unknown>;

function field(obj: unknown, ...path: string[]): unknown {
  let node = obj;
  for (const key of path) {
    if (!isPlainObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

function num(obj: unknown, ...path: string[]): number {
  const value = field(obj, ...path);
  return typeof value === 'number' ? value : 0;
}

function list(obj: unknown, ...path: string[]): Obj[] {
  const value = field(obj, ...path);
  return Array.isArray(value) ? value.filter(isPlainObject) : [];
}

function column(name: string, type: string, jsonPath: string, cell?: (obj: KubeObject) => unknown, priority?: number): PrinterColumn {
  return { name, type, jsonPath, ...(cell ? { cell } : {}), ...(priority ? { priority } : {}) };
}

/** "ready/wanted", as kubectl prints a Deployment's or a Pod's READY column. */
function readyOf(ready: (obj: KubeObject) => number, wanted: (obj: KubeObject) => number): (obj: KubeObject) => string {
  return (obj) => `${ready(obj)}/${wanted(obj)}`;
}

/** What `kubectl get pods` shows as STATUS: a waiting reason, else the phase. */
export function podStatusText(pod: KubeObject): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  for (const s of list(pod, 'status', 'containerStatuses')) {
    const reason = field(s, 'state', 'waiting', 'reason');
    if (typeof reason === 'string') return reason;
  }
  const phase = field(pod, 'status', 'phase');
  return typeof phase === 'string' ? phase : 'Pending';
}

/** kubectl shows the default StorageClass as "<name> (default)". */
function storageClassName(sc: KubeObject): string {
  return sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true' ? `${sc.metadata.name} (default)` : (sc.metadata.name ?? '');
}

const replicasScale = { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' };

const served: ResourceInfo[] = [
  builtin({
    group: '',
    version: 'v1',
    plural: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    subresources: { status: true },
    printerColumns: [
      column('Ready', 'string', '.status.containerStatuses', readyOf(
        (p) => list(p, 'status', 'containerStatuses').filter((s) => s.ready === true).length,
        (p) => list(p, 'spec', 'containers').length,
      )),
      column('Status', 'string', '.status.phase', podStatusText),
      column('Restarts', 'integer', '.status.containerStatuses', (p) =>
        list(p, 'status', 'containerStatuses').reduce((n, s) => n + (typeof s.restartCount === 'number' ? s.restartCount : 0), 0),
      ),
      age,
      column('IP', 'string', '.status.podIP', undefined, 1),
      column('Node', 'string', '.spec.nodeName', undefined, 1),
    ],
    selectableFields: ['.spec.nodeName', '.status.phase', '.spec.restartPolicy', '.spec.schedulerName', '.spec.serviceAccountName', '.status.podIP'],
  }),
  builtin({
    group: '',
    version: 'v1',
    plural: 'services',
    singular: 'service',
    kind: 'Service',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    subresources: { status: true },
    printerColumns: [
      column('Type', 'string', '.spec.type'),
      column('Cluster-IP', 'string', '.spec.clusterIP'),
      column('Ports', 'string', '.spec.ports', (s) =>
        list(s, 'spec', 'ports').map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') || '<none>',
      ),
      age,
    ],
    selectableFields: ['.spec.type', '.spec.clusterIP'],
  }),
  builtin({ group: '', version: 'v1', plural: 'endpoints', singular: 'endpoints', kind: 'Endpoints', namespaced: true, shortNames: ['ep'], printerColumns: [
    column('Endpoints', 'string', '.subsets', (e) =>
      list(e, 'subsets').flatMap((s) => list(s, 'addresses').flatMap((a) => list(s, 'ports').map((p) => `${a.ip}:${p.port}`))).join(',') || '<none>',
    ),
    age,
  ] }),
  builtin({
    group: '',
    version: 'v1',
    plural: 'nodes',
    singular: 'node',
    kind: 'Node',
    namespaced: false,
    shortNames: ['no'],
    subresources: { status: true },
    printerColumns: [
      column('Status', 'string', '.status.conditions', (n) =>
        list(n, 'status', 'conditions').find((c) => c.type === 'Ready')?.status === 'True' ? 'Ready' : 'NotReady',
      ),
      age,
      column('Version', 'string', '.status.nodeInfo.kubeletVersion'),
    ],
    selectableFields: ['.spec.unschedulable'],
  }),
  builtin({
    group: '',
    version: 'v1',
    plural: 'persistentvolumes',
    singular: 'persistentvolume',
    kind: 'PersistentVolume',
    namespaced: false,
    shortNames: ['pv'],
    subresources: { status: true },
    printerColumns: [
      column('Capacity', 'string', '.spec.capacity.storage'),
      column('Access Modes', 'string', '.spec.accessModes', (pv) => accessModes(field(pv, 'spec', 'accessModes'))),
      column('Reclaim Policy', 'string', '.spec.persistentVolumeReclaimPolicy'),
      column('Status', 'string', '.status.phase'),
      column('Claim', 'string', '.spec.claimRef', (pv) => {
        const ref = field(pv, 'spec', 'claimRef');
        return isPlainObject(ref) ? `${ref.namespace}/${ref.name}` : '';
      }),
      column('StorageClass', 'string', '.spec.storageClassName'),
      age,
    ],
    selectableFields: ['.status.phase', '.spec.storageClassName'],
  }),
  builtin({
    group: '',
    version: 'v1',
    plural: 'persistentvolumeclaims',
    singular: 'persistentvolumeclaim',
    kind: 'PersistentVolumeClaim',
    namespaced: true,
    shortNames: ['pvc'],
    subresources: { status: true },
    printerColumns: [
      column('Status', 'string', '.status.phase'),
      column('Volume', 'string', '.spec.volumeName'),
      column('Capacity', 'string', '.status.capacity.storage'),
      column('Access Modes', 'string', '.status.accessModes', (pvc) => accessModes(field(pvc, 'status', 'accessModes'))),
      column('StorageClass', 'string', '.spec.storageClassName'),
      age,
    ],
    selectableFields: ['.status.phase', '.spec.storageClassName'],
  }),
  builtin({ group: '', version: 'v1', plural: 'replicationcontrollers', singular: 'replicationcontroller', kind: 'ReplicationController', namespaced: true, shortNames: ['rc'], categories: ['all'], verbs: ['get', 'list', 'watch', 'delete', 'deletecollection'] }),
  builtin({
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: { status: true, scale: replicasScale },
    tracksGeneration: true,
    printerColumns: [
      column('Ready', 'string', '.status.readyReplicas', readyOf((d) => num(d, 'status', 'readyReplicas'), wantedReplicas)),
      column('Up-to-date', 'integer', '.status.updatedReplicas', (d) => num(d, 'status', 'updatedReplicas')),
      column('Available', 'integer', '.status.availableReplicas', (d) => num(d, 'status', 'availableReplicas')),
      age,
    ],
  }),
  builtin({
    group: 'apps',
    version: 'v1',
    plural: 'replicasets',
    singular: 'replicaset',
    kind: 'ReplicaSet',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    subresources: { status: true, scale: replicasScale },
    tracksGeneration: true,
    printerColumns: [
      column('Desired', 'integer', '.spec.replicas', wantedReplicas),
      column('Current', 'integer', '.status.replicas', (r) => num(r, 'status', 'replicas')),
      column('Ready', 'integer', '.status.readyReplicas', (r) => num(r, 'status', 'readyReplicas')),
      age,
    ],
  }),
  builtin({
    group: 'apps',
    version: 'v1',
    plural: 'statefulsets',
    singular: 'statefulset',
    kind: 'StatefulSet',
    namespaced: true,
    shortNames: ['sts'],
    categories: ['all'],
    subresources: { status: true, scale: replicasScale },
    tracksGeneration: true,
    printerColumns: [column('Ready', 'string', '.status.readyReplicas', readyOf((s) => num(s, 'status', 'readyReplicas'), wantedReplicas)), age],
  }),
  builtin({
    group: 'apps',
    version: 'v1',
    plural: 'daemonsets',
    singular: 'daemonset',
    kind: 'DaemonSet',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
    subresources: { status: true },
    tracksGeneration: true,
    printerColumns: [
      column('Desired', 'integer', '.status.desiredNumberScheduled'),
      column('Current', 'integer', '.status.currentNumberScheduled'),
      column('Ready', 'integer', '.status.numberReady'),
      column('Up-to-date', 'integer', '.status.updatedNumberScheduled'),
      column('Available', 'integer', '.status.numberAvailable'),
      age,
    ],
  }),
  builtin({
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'ingresses',
    singular: 'ingress',
    kind: 'Ingress',
    namespaced: true,
    shortNames: ['ing'],
    subresources: { status: true },
    tracksGeneration: true,
    printerColumns: [
      column('Class', 'string', '.spec.ingressClassName'),
      column('Hosts', 'string', '.spec.rules', (i) => list(i, 'spec', 'rules').map((r) => r.host ?? '*').join(',') || '*'),
      column('Address', 'string', '.status.loadBalancer.ingress', (i) =>
        list(i, 'status', 'loadBalancer', 'ingress').map((a) => a.ip ?? a.hostname).join(','),
      ),
      age,
    ],
  }),
  builtin({
    group: 'storage.k8s.io',
    version: 'v1',
    plural: 'storageclasses',
    singular: 'storageclass',
    kind: 'StorageClass',
    namespaced: false,
    shortNames: ['sc'],
    nameCell: storageClassName,
    printerColumns: [
      column('Provisioner', 'string', '.provisioner'),
      column('ReclaimPolicy', 'string', '.reclaimPolicy'),
      column('VolumeBindingMode', 'string', '.volumeBindingMode'),
      age,
    ],
  }),
  builtin({ group: 'batch', version: 'v1', plural: 'jobs', singular: 'job', kind: 'Job', namespaced: true, categories: ['all'], verbs: ['get', 'list', 'watch', 'delete', 'deletecollection'] }),
  builtin({ group: 'batch', version: 'v1', plural: 'cronjobs', singular: 'cronjob', kind: 'CronJob', namespaced: true, shortNames: ['cj'], categories: ['all'], verbs: ['get', 'list', 'watch', 'delete', 'deletecollection'] }),
];

/** The workload kinds, each with kube-apiserver's defaults. */
export const workloadResources: ResourceInfo[] = served.map((info) => (workloadDefaults[info.kind] ? { ...info, applyDefaults: workloadDefaults[info.kind] } : info));

function wantedReplicas(obj: KubeObject): number {
  const replicas = field(obj, 'spec', 'replicas');
  // apps/v1 defaults an absent replicas to 1.
  return typeof replicas === 'number' ? replicas : 1;
}

const modeShort: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };

function accessModes(value: unknown): string {
  return Array.isArray(value) ? value.map((m) => modeShort[String(m)] ?? String(m)).join(',') : '';
}

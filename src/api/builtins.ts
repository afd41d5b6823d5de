// The kinds the server serves by code rather than from a CustomResourceDefinition.
import { isPlainObject } from '../machinery/object.js';
import { builtin, type PrinterColumn, type ResourceInfo } from '../machinery/resource.js';
import { authResources } from '../auth/resources.js';
import { auditEventsResource } from '../audit/resource.js';


export const age = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** How many keys the maps at these fields hold together, as kubectl shows for ConfigMaps and Secrets. */
function keyCount(...fields: string[]): PrinterColumn {
  return {
    name: 'Data',
    type: 'integer',
    jsonPath: `.${fields[0]}`,
    description: `The number of keys in ${fields.join(' and ')}`,
    cell: (obj) => fields.reduce((n, field) => n + (isPlainObject(obj[field]) ? Object.keys(obj[field]).length : 0), 0),
  };
}

export const builtinResources: ResourceInfo[] = [
  builtin({
    group: '',
    version: 'v1',
    plural: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: { status: true },
    printerColumns: [{ name: 'Status', type: 'string', jsonPath: '.status.phase' }, age],
    selectableFields: ['.status.phase'],
  }),
  builtin({
    group: '',
    version: 'v1',
    plural: 'configmaps',
    singular: 'configmap',
    kind: 'ConfigMap',
    namespaced: true,
    shortNames: ['cm'],
    printerColumns: [keyCount('data', 'binaryData'), age],
  }),
  builtin({
    group: '',
    version: 'v1',
    plural: 'secrets',
    singular: 'secret',
    kind: 'Secret',
    namespaced: true,
    printerColumns: [
      { name: 'Type', type: 'string', jsonPath: '.type' },
      keyCount('data'),
      age,
    ],
    selectableFields: ['.type'],
  }),
  builtin({
    group: '',
    version: 'v1',
    plural: 'events',
    singular: 'event',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
    printerColumns: [
      { name: 'Last Seen', type: 'date', jsonPath: '.lastTimestamp' },
      { name: 'Type', type: 'string', jsonPath: '.type' },
      { name: 'Reason', type: 'string', jsonPath: '.reason' },
      { name: 'Object', type: 'string', jsonPath: '.involvedObject.name' },
      { name: 'Message', type: 'string', jsonPath: '.message' },
    ],
    selectableFields: [
      '.involvedObject.kind',
      '.involvedObject.namespace',
      '.involvedObject.name',
      '.involvedObject.uid',
      '.involvedObject.apiVersion',
      '.involvedObject.resourceVersion',
      '.involvedObject.fieldPath',
      '.reason',
      '.reportingComponent',
      '.source',
      '.type',
    ],
  }),
  builtin({
    group: 'coordination.k8s.io',
    version: 'v1',
    plural: 'leases',
    singular: 'lease',
    kind: 'Lease',
    namespaced: true,
    printerColumns: [{ name: 'Holder', type: 'string', jsonPath: '.spec.holderIdentity' }, age],
  }),
  builtin({
    group: 'apiextensions.k8s.io',
    version: 'v1',
    plural: 'customresourcedefinitions',
    singular: 'customresourcedefinition',
    kind: 'CustomResourceDefinition',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    subresources: { status: true },
    printerColumns: [{ name: 'Created At', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
  }),
  // RBAC, ServiceAccounts and the review kinds: src/auth/resources.ts.
  ...authResources,
  // The audit trail, read-only: src/audit/.
  auditEventsResource,
];

/**
 * Kinds VirtFlow does not run but that clients expect to find: `kubectl apply --prune`
 * without --prune-allowlist resolves its default allowlist (k8s.io/kubectl prune.go) through
 * discovery and lists each kind. They are served empty: read, watch and delete work, and
 * writes are refused with a message that says why.
 */
const workloadRefusal =
  'VirtFlow does not run Kubernetes workloads: this kind is served read-only so that clients such as `kubectl apply --prune` can list it';

function readOnly(group: string, version: string, plural: string, kind: string, namespaced: boolean, shortNames: string[] = [], categories: string[] = []): ResourceInfo {
  return builtin({
    shortNames,
    categories,
    group,
    version,
    plural,
    singular: kind.toLowerCase(),
    kind,
    namespaced,
    verbs: ['get', 'list', 'watch', 'delete', 'deletecollection'],
    refusal: workloadRefusal,
  });
}

export const pruneDefaultResources: ResourceInfo[] = [
  readOnly('', 'v1', 'endpoints', 'Endpoints', true, ['ep']),
  readOnly('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, ['pvc']),
  readOnly('', 'v1', 'pods', 'Pod', true, ['po'], ['all']),
  readOnly('', 'v1', 'replicationcontrollers', 'ReplicationController', true, ['rc'], ['all']),
  readOnly('', 'v1', 'services', 'Service', true, ['svc'], ['all']),
  readOnly('', 'v1', 'persistentvolumes', 'PersistentVolume', false, ['pv']),
  readOnly('batch', 'v1', 'jobs', 'Job', true, [], ['all']),
  readOnly('batch', 'v1', 'cronjobs', 'CronJob', true, ['cj'], ['all']),
  readOnly('networking.k8s.io', 'v1', 'ingresses', 'Ingress', true, ['ing']),
  readOnly('apps', 'v1', 'daemonsets', 'DaemonSet', true, ['ds'], ['all']),
  readOnly('apps', 'v1', 'deployments', 'Deployment', true, ['deploy'], ['all']),
  readOnly('apps', 'v1', 'replicasets', 'ReplicaSet', true, ['rs'], ['all']),
  readOnly('apps', 'v1', 'statefulsets', 'StatefulSet', true, ['sts'], ['all']),
];

// The kinds the server serves by code rather than from a CustomResourceDefinition.
import { allVerbs, type ResourceInfo } from '../machinery/resource.js';

function builtin(fields: Partial<ResourceInfo> & Pick<ResourceInfo, 'group' | 'version' | 'plural' | 'singular' | 'kind' | 'namespaced'>): ResourceInfo {
  return {
    listKind: `${fields.kind}List`,
    shortNames: [],
    categories: [],
    verbs: allVerbs,
    subresources: { status: false },
    printerColumns: [],
    selectableFields: [],
    builtin: true,
    storage: true,
    ...fields,
  };
}

const age = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

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
    printerColumns: [{ name: 'Data', type: 'integer', jsonPath: '.data' }, age],
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
      { name: 'Data', type: 'integer', jsonPath: '.data' },
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
];

import { describe, expect, it } from 'vitest';
import { isPlainObject } from '../machinery/object.js';
import { allVerbs, type ResourceInfo } from '../machinery/resource.js';
import { definitionNameFor, openapiV2, openapiV3ForGroupVersion, openapiV3Index } from './openapi.js';

function resource(overrides: Partial<ResourceInfo>): ResourceInfo {
  return {
    group: 'virtflow.io',
    version: 'v1alpha1',
    plural: 'virtualmachines',
    singular: 'virtualmachine',
    kind: 'VirtualMachine',
    listKind: 'VirtualMachineList',
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: allVerbs,
    subresources: { status: true },
    printerColumns: [],
    selectableFields: [],
    builtin: false,
    storage: true,
    ...overrides,
  };
}

const vmInfo = resource({
  schema: {
    type: 'object',
    description: 'VirtualMachine is a virtual machine placed on a bare-metal host.',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 63 } } },
      spec: {
        type: 'object',
        description: 'Desired state of the virtual machine.',
        properties: {
          runStrategy: { type: 'string', description: 'When the machine should run: Always, Halted or Manual.' },
          port: { 'x-kubernetes-int-or-string': true },
          note: { type: 'string', nullable: true },
        },
      },
      status: { type: 'object', properties: { phase: { type: 'string' } } },
    },
  },
});
const datacenterInfo = resource({
  plural: 'datacenters',
  singular: 'datacenter',
  kind: 'Datacenter',
  listKind: 'DatacenterList',
  namespaced: false,
  subresources: { status: false },
  schema: { type: 'object', properties: { spec: { type: 'object', properties: { region: { type: 'string', description: 'Region.' } } } } },
});
const core = (kind: string, plural: string, namespaced: boolean): ResourceInfo =>
  resource({ group: '', version: 'v1', kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), namespaced, builtin: true, subresources: { status: kind === 'Namespace' } });
const coreInfos = [core('Namespace', 'namespaces', false), core('ConfigMap', 'configmaps', true), core('Secret', 'secrets', true), core('Event', 'events', true)];
const leaseInfo = resource({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', listKind: 'LeaseList', plural: 'leases', singular: 'lease', builtin: true, subresources: { status: false } });
const crdInfo = resource({
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  listKind: 'CustomResourceDefinitionList',
  plural: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  namespaced: false,
  builtin: true,
});

type Doc = Record<string, any>;

/** kubectl's QueryParamVerifierV3: a PATCH for the GVK whose own parameters include the param. */
function supportsQueryParam(doc: Doc, gvk: { group: string; version: string; kind: string }, param: string): boolean {
  for (const item of Object.values(doc.paths as Record<string, Doc>)) {
    const op = item.patch;
    if (!op) continue;
    const ext = op['x-kubernetes-group-version-kind'];
    if (ext?.group !== gvk.group || ext?.version !== gvk.version || ext?.kind !== gvk.kind) continue;
    return (op.parameters as Doc[]).some((p) => p.name === param && p.in === 'query');
  }
  return false;
}

/** Follows a kubectl explain path ("spec.runStrategy") through properties, $ref and allOf. */
function explain(doc: Doc, definition: string, fieldPath: string, prefix = '#/components/schemas/'): Doc {
  const definitions = (doc.components?.schemas ?? doc.definitions) as Record<string, Doc>;
  const resolve = (schema: Doc): Doc => {
    const ref = schema.$ref ?? schema.allOf?.[0]?.$ref;
    return ref ? { ...definitions[ref.slice(prefix.length)], description: schema.description ?? definitions[ref.slice(prefix.length)]!.description } : schema;
  };
  let schema = definitions[definition]!;
  for (const field of fieldPath.split('.').filter(Boolean)) {
    schema = resolve(resolve(schema).properties[field]);
  }
  return schema;
}

function allRefs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => allRefs(v, found));
  else if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') found.push(v);
      else allRefs(v, found);
    }
  }
  return found;
}

describe('openapiV3ForGroupVersion', () => {
  const doc = openapiV3ForGroupVersion([vmInfo, datacenterInfo]) as Doc;

  it('names kinds and lists like Kubernetes and marks them with their group-version-kind.', () => {
    const schemas = doc.components.schemas;
    expect(schemas['io.virtflow.v1alpha1.VirtualMachine']['x-kubernetes-group-version-kind']).toEqual([
      { group: 'virtflow.io', kind: 'VirtualMachine', version: 'v1alpha1' },
    ]);
    expect(schemas['io.virtflow.v1alpha1.VirtualMachineList']['x-kubernetes-group-version-kind']).toEqual([
      { group: 'virtflow.io', kind: 'VirtualMachineList', version: 'v1alpha1' },
    ]);
    expect(schemas['io.virtflow.v1alpha1.VirtualMachineList'].properties.items.items).toEqual({
      $ref: '#/components/schemas/io.virtflow.v1alpha1.VirtualMachine',
    });
    for (const name of ['ObjectMeta', 'ListMeta', 'Status', 'DeleteOptions', 'Patch', 'OwnerReference', 'ManagedFieldsEntry']) {
      expect(schemas).toHaveProperty([`io.k8s.apimachinery.pkg.apis.meta.v1.${name}`]);
    }
  });

  it('lets kubectl explain reach a spec field and metadata fields through the ObjectMeta reference.', () => {
    expect(explain(doc, 'io.virtflow.v1alpha1.VirtualMachine', 'spec.runStrategy').description).toBe(
      'When the machine should run: Always, Halted or Manual.',
    );
    expect(explain(doc, 'io.virtflow.v1alpha1.VirtualMachine', '').description).toBe(
      'VirtualMachine is a virtual machine placed on a bare-metal host.',
    );
    const metadata = doc.components.schemas['io.virtflow.v1alpha1.VirtualMachine'].properties.metadata;
    expect(metadata.allOf).toEqual([{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
    expect(explain(doc, 'io.virtflow.v1alpha1.VirtualMachine', 'metadata.labels').description).toMatch(/^Map of string keys/);
  });

  it('publishes fieldValidation, dryRun, fieldManager and force on PATCH so kubectl uses server-side validation.', () => {
    const gvk = { group: 'virtflow.io', version: 'v1alpha1', kind: 'VirtualMachine' };
    for (const param of ['fieldValidation', 'dryRun', 'fieldManager', 'force']) {
      expect(supportsQueryParam(doc, gvk, param)).toBe(true);
    }
    expect(supportsQueryParam(doc, gvk, 'noSuchParam')).toBe(false);
    expect(supportsQueryParam(doc, { ...gvk, kind: 'Datacenter' }, 'fieldValidation')).toBe(true);
  });

  it('publishes the namespaced, all-namespaces, item and status paths with their actions.', () => {
    const base = '/apis/virtflow.io/v1alpha1';
    const collection = doc.paths[`${base}/namespaces/{namespace}/virtualmachines`];
    expect(Object.keys(collection).sort()).toEqual(['delete', 'get', 'parameters', 'post']);
    expect(collection.get['x-kubernetes-action']).toBe('list');
    expect(collection.get.operationId).toBe('listVirtflowIoV1alpha1NamespacedVirtualMachine');
    expect(collection.post.parameters.map((p: Doc) => p.name)).toEqual(['dryRun', 'fieldManager', 'fieldValidation']);
    expect(collection.post['x-kubernetes-group-version-kind']).toEqual({ group: 'virtflow.io', version: 'v1alpha1', kind: 'VirtualMachine' });
    const item = doc.paths[`${base}/namespaces/{namespace}/virtualmachines/{name}`];
    expect(Object.keys(item).sort()).toEqual(['delete', 'get', 'parameters', 'patch', 'put']);
    expect(Object.keys(item.patch.requestBody.content)).toEqual([
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/apply-patch+yaml',
    ]);
    expect(item.put.parameters.map((p: Doc) => p.name)).toEqual(['dryRun', 'fieldManager', 'fieldValidation']);
    const status = doc.paths[`${base}/namespaces/{namespace}/virtualmachines/{name}/status`];
    expect(Object.keys(status).sort()).toEqual(['get', 'parameters', 'patch', 'put']);
    expect(doc.paths[`${base}/virtualmachines`].get.operationId).toBe('listVirtflowIoV1alpha1VirtualMachineForAllNamespaces');
    expect(doc.paths[`${base}/datacenters/{name}`].patch.operationId).toBe('patchVirtflowIoV1alpha1Datacenter');
    expect(doc.paths[`${base}/datacenters/{name}/status`]).toBeUndefined();
  });

  it('leaves no reference dangling.', () => {
    const names = new Set(Object.keys(doc.components.schemas));
    for (const ref of allRefs(doc)) expect(names.has(ref.replace('#/components/schemas/', ''))).toBe(true);
  });

  it('describes the built-in kinds so explain works for configmap.data and crd.spec.names.kind.', () => {
    const coreDoc = openapiV3ForGroupVersion(coreInfos) as Doc;
    expect(explain(coreDoc, 'io.k8s.api.core.v1.ConfigMap', 'data').description).toMatch(/^Data contains the configuration data/);
    expect(explain(coreDoc, 'io.k8s.api.core.v1.Event', 'involvedObject.kind').description).toBe('Kind of the referent.');
    expect(supportsQueryParam(coreDoc, { group: '', version: 'v1', kind: 'Namespace' }, 'fieldValidation')).toBe(true);
    expect(coreDoc.paths['/api/v1/namespaces/{namespace}/configmaps/{name}'].patch.operationId).toBe('patchCoreV1NamespacedConfigMap');
    expect(Object.keys(coreDoc.paths['/api/v1/namespaces/{name}'].patch.requestBody.content)).toContain('application/strategic-merge-patch+json');
    const names = new Set(Object.keys(coreDoc.components.schemas));
    for (const ref of allRefs(coreDoc)) expect(names.has(ref.replace('#/components/schemas/', ''))).toBe(true);

    const crdDoc = openapiV3ForGroupVersion([crdInfo]) as Doc;
    const crdName = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition';
    expect(explain(crdDoc, crdName, 'spec.names.kind').description).toMatch(/^kind is the serialized kind/);
    expect(explain(openapiV3ForGroupVersion([leaseInfo]) as Doc, 'io.k8s.api.coordination.v1.Lease', 'spec.holderIdentity').description).toMatch(/holder/);
  });
});

describe('definitionNameFor', () => {
  const cases: Array<[string, string, string, string]> = [
    ['core kinds live under io.k8s.api.core', '', 'v1', 'io.k8s.api.core.v1.ConfigMap'],
    ['k8s.io groups drop their domain', 'coordination.k8s.io', 'v1', 'io.k8s.api.coordination.v1.ConfigMap'],
    ['custom groups are reversed domains', 'stable.example.com', 'v1', 'com.example.stable.v1.ConfigMap'],
  ];
  it.each(cases)('%s.', (_reason, group, version, want) => {
    expect(definitionNameFor({ group, version, kind: 'ConfigMap' })).toBe(want);
  });
});

describe('openapiV3Index', () => {
  it('lists one URL per group-version with a content hash that changes with the schema.', () => {
    const infos = [vmInfo, ...coreInfos, leaseInfo];
    const index = openapiV3Index(infos);
    expect(Object.keys(index.paths)).toEqual(['api/v1', 'apis/coordination.k8s.io/v1', 'apis/virtflow.io/v1alpha1']);
    expect(index.paths['apis/virtflow.io/v1alpha1']!.serverRelativeURL).toMatch(/^\/openapi\/v3\/apis\/virtflow\.io\/v1alpha1\?hash=[0-9A-F]{128}$/);
    const changed = openapiV3Index([{ ...vmInfo, schema: { type: 'object', properties: {} } }, ...coreInfos, leaseInfo]);
    expect(changed.paths['apis/virtflow.io/v1alpha1']).not.toEqual(index.paths['apis/virtflow.io/v1alpha1']);
    expect(changed.paths['api/v1']).toEqual(index.paths['api/v1']);
  });

  it('uses the hash function it is given.', () => {
    const index = openapiV3Index([vmInfo], (path, infos) => `${path.replace(/\W/g, '')}-${infos.length}`);
    expect(index.paths['apis/virtflow.io/v1alpha1']!.serverRelativeURL).toBe('/openapi/v3/apis/virtflow.io/v1alpha1?hash=apisvirtflowiov1alpha1-1');
  });
});

describe('openapiV2', () => {
  const doc = openapiV2([vmInfo, ...coreInfos, leaseInfo, crdInfo]) as Doc;

  it('is a Swagger 2.0 document whose references all resolve under #/definitions.', () => {
    expect(doc.swagger).toBe('2.0');
    const names = new Set(Object.keys(doc.definitions));
    const refs = allRefs(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref.startsWith('#/definitions/')).toBe(true);
      expect(names.has(ref.replace('#/definitions/', ''))).toBe(true);
    }
  });

  it('keeps group-version-kinds and descriptions, and drops what v2 cannot say.', () => {
    const vm = doc.definitions['io.virtflow.v1alpha1.VirtualMachine'];
    expect(vm['x-kubernetes-group-version-kind']).toEqual([{ group: 'virtflow.io', kind: 'VirtualMachine', version: 'v1alpha1' }]);
    expect(vm.properties.metadata).toEqual({
      description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
      $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
    });
    expect(vm.properties.spec.properties.note).toEqual({});
    expect(vm.properties.spec.properties.port).toEqual({ 'x-kubernetes-int-or-string': true });
    expect(explain(doc, 'io.k8s.api.core.v1.ConfigMap', 'data', '#/definitions/').description).toMatch(/^Data contains/);
  });

  it('puts the patch parameters and body on PATCH operations.', () => {
    const patch = doc.paths['/apis/virtflow.io/v1alpha1/namespaces/{namespace}/virtualmachines/{name}'].patch;
    expect(patch.parameters.map((p: Doc) => p.name)).toEqual(['body', 'dryRun', 'fieldManager', 'fieldValidation', 'force']);
    expect(patch.consumes).toContain('application/apply-patch+yaml');
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: 'virtflow.io', version: 'v1alpha1', kind: 'VirtualMachine' });
  });
});

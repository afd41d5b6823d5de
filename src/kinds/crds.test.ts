import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyCrdDefaults, validateCrd } from '../crd/crd-validation.js';
import type { JSONSchemaProps } from '../machinery/resource.js';
import { allCrds, allKinds, crdFor, defineKind, type CustomResourceDefinition } from './index.js';
import { schemaAt, walkSchema } from './schema-walk.js';
import { Type } from '@sinclair/typebox';
import YAML from 'yaml';
import { crdsDirectory, renderCrds, writeCrds } from './write-crds.js';
import { KUSTOMIZATION_FILE } from './write-crds.js';

const crds = allCrds();
const schemaOf = (crd: CustomResourceDefinition) => crd.spec.versions[0]!.schema.openAPIV3Schema;
const crdOf = (kind: string) => crds.find((crd) => crd.spec.names.kind === kind)!;

/** API.md's table of kinds: short names and scopes are part of the contract. */
const contract: Record<string, { shortName: string; scope: 'Cluster' | 'Namespaced' }> = {
  Datacenter: { shortName: 'dc', scope: 'Cluster' },
  Rack: { shortName: 'rk', scope: 'Cluster' },
  Zone: { shortName: 'zn', scope: 'Cluster' },
  BaremetalGroup: { shortName: 'bmg', scope: 'Cluster' },
  Baremetal: { shortName: 'bm', scope: 'Cluster' },
  Tenant: { shortName: 'tn', scope: 'Cluster' },
  TenantQuota: { shortName: 'tq', scope: 'Cluster' },
  VirtualMachineSpecification: { shortName: 'vmspec', scope: 'Cluster' },
  VirtualMachineImage: { shortName: 'vmimage', scope: 'Cluster' },
  VirtualMachine: { shortName: 'vm', scope: 'Namespaced' },
  K8sCluster: { shortName: 'k8s', scope: 'Namespaced' },
  K8sNodePool: { shortName: 'np', scope: 'Namespaced' },
  ServiceMesh: { shortName: 'mesh', scope: 'Cluster' },
  Maintainer: { shortName: 'mt', scope: 'Cluster' },
  MaintainerGroup: { shortName: 'mtg', scope: 'Cluster' },
  MaintainerAssignment: { shortName: 'mta', scope: 'Cluster' },
  ExternalController: { shortName: 'xc', scope: 'Cluster' },
};

describe('crds/', () => {
  it('holds exactly the generated CRDs, byte for byte (run `npm run crds` when this fails)', () => {
    const expected = renderCrds();
    const onDisk = readdirSync(crdsDirectory).filter((name) => name.endsWith('.yaml') || name === KUSTOMIZATION_FILE);
    expect(onDisk.sort()).toEqual([...expected.keys()].sort());
    for (const [name, content] of expected) {
      expect(readFileSync(join(crdsDirectory, name), 'utf8'), name).toBe(content);
    }
  });
});

describe('crds/ read with YAML 1.1 (as kubectl and Go clients read it)', () => {
  it('means exactly the generated CRD: enum values such as On and Off stay strings', () => {
    for (const crd of crds) {
      const text = readFileSync(join(crdsDirectory, `${crd.metadata.name}.yaml`), 'utf8');
      expect(YAML.parse(text, { version: '1.1' }), crd.metadata.name).toEqual(JSON.parse(JSON.stringify(crd)));
    }
    expect(schemaAt(schemaOf(crdOf('VirtualMachine')), 'status.powerState')?.enum).toEqual(['On', 'Off']);
  });
});

describe('writeCrds', () => {
  it('writes every CRD and removes CRD files of kinds that no longer exist, leaving other files alone', () => {
    const directory = mkdtempSync(join(tmpdir(), 'virtflow-crds-'));
    try {
      writeFileSync(join(directory, 'gadgets.virtflow.io.yaml'), 'stale');
      writeFileSync(join(directory, 'README.md'), 'keep');
      const { removed } = writeCrds(directory);
      expect(removed).toEqual(['gadgets.virtflow.io.yaml']);
      expect(readdirSync(directory).sort()).toEqual(['README.md', ...renderCrds().keys()].sort());
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('the kinds', () => {
  it('are the seventeen kinds of API.md with their short names and scopes', () => {
    expect(allKinds.map((def) => def.kind).sort()).toEqual(Object.keys(contract).sort());
    for (const crd of crds) {
      const want = contract[crd.spec.names.kind]!;
      expect(crd.spec.names.shortNames, crd.metadata.name).toEqual([want.shortName]);
      expect(crd.spec.scope, crd.metadata.name).toBe(want.scope);
      expect(crd.spec.names.categories, crd.metadata.name).toEqual(['virtflow']);
      expect(crd.spec.group).toBe('virtflow.io');
      expect(crd.spec.versions.map((v) => v.name)).toEqual(['v1alpha1']);
    }
  });
});

describe.each(crds.map((crd) => [crd.metadata.name, crd] as const))('%s', (_name, crd) => {
  const schema = schemaOf(crd);

  it('is a valid, structural CRD', () => {
    expect(validateCrd(applyCrdDefaults(structuredClone(crd)))).toEqual([]);
  });

  it('describes every property, so kubectl explain explains it', () => {
    const undescribed: string[] = [];
    walkSchema(schema, ({ path, schema: node, isProperty }) => {
      if (isProperty && path !== 'metadata' && typeof node.description !== 'string') undescribed.push(path);
    });
    expect(undescribed).toEqual([]);
  });

  it('types every field, and is plain JSON without CEL rules', () => {
    const problems: string[] = [];
    walkSchema(schema, ({ path, schema: node }) => {
      const intOrString = node['x-kubernetes-int-or-string'] === true;
      if (!intOrString && typeof node.type !== 'string') problems.push(`${path}: no type`);
      if ('x-kubernetes-validations' in node) problems.push(`${path}: CEL`);
      if ('$id' in node || Object.getOwnPropertySymbols(node).length > 0) problems.push(`${path}: TypeBox residue`);
    });
    expect(problems).toEqual([]);
    expect(Object.keys(schema.properties as object)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    expect((schema.properties as Record<string, JSONSchemaProps>).metadata).toEqual({ type: 'object' });
  });

  it('has a status subresource with conditions keyed by type and observedGeneration', () => {
    const version = crd.spec.versions[0]!;
    expect(version.subresources.status).toEqual({});
    const conditions = schemaAt(schema, '.status.conditions')!;
    expect(conditions['x-kubernetes-list-type']).toBe('map');
    expect(conditions['x-kubernetes-list-map-keys']).toEqual(['type']);
    expect(schemaAt(schema, '.status.conditions[0].status')!.enum).toEqual(['True', 'False', 'Unknown']);
    expect(schemaAt(schema, '.status.observedGeneration')!.type).toBe('integer');
  });

  it('keys list maps by required fields, as server-side apply needs', () => {
    const problems: string[] = [];
    walkSchema(schema, ({ path, schema: node }) => {
      if (node['x-kubernetes-list-type'] !== 'map') return;
      const items = node.items as JSONSchemaProps;
      const required = (items.required as string[] | undefined) ?? [];
      for (const key of node['x-kubernetes-list-map-keys'] as string[]) {
        const keySchema = (items.properties as Record<string, JSONSchemaProps>)[key];
        if (!required.includes(key) && keySchema?.default === undefined) problems.push(`${path}: key ${key}`);
      }
    });
    expect(problems).toEqual([]);
  });

  it('points every printer column and selectable field at a declared field of a fitting type', () => {
    const version = crd.spec.versions[0]!;
    const columns = version.additionalPrinterColumns;
    expect(columns.at(-1)).toEqual({ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' });
    for (const column of columns.slice(0, -1)) {
      // A filter (a condition by type) selects list items: its field is that of any item.
      const field = schemaAt(schema, column.jsonPath.replace(/\[\?\(@\.[^)]*\)\]/g, '[0]'));
      expect(field, `${column.name} -> ${column.jsonPath}`).toBeDefined();
      expect(typeof column.description, column.name).toBe('string');
      if (field!.type === 'integer' || field!.type === 'boolean') expect(column.type, column.name).toBe(field!.type);
    }
    for (const { jsonPath } of version.selectableFields ?? []) {
      const field = schemaAt(schema, jsonPath);
      expect(['string', 'integer', 'boolean'], jsonPath).toContain(field?.type);
    }
  });
});

describe('printer columns', () => {
  const columnNames = (kind: string) => crdOf(kind).spec.versions[0]!.additionalPrinterColumns.filter((c) => !c.priority).map((c) => c.name);

  it.each([
    ['VirtualMachine', ['Phase', 'Baremetal', 'CPU', 'Memory', 'Ready', 'Age']],
    ['Baremetal', ['Phase', 'Rack', 'Free CPU', 'Free Memory', 'Physical Free CPU', 'Age']],
    ['TenantQuota', ['Tenant', 'Group', 'CPU Used', 'CPU Limit', 'Memory Used', 'Memory Limit', 'Alert', 'Age']],
    ['K8sCluster', ['Version', 'Phase', 'Control Plane', 'Nodes', 'Age']],
    ['K8sNodePool', ['Cluster', 'Replicas', 'Ready', 'Up-to-date', 'Version', 'Age']],
  ])('of %s are the ones API.md names', (kind, names) => {
    expect(columnNames(kind)).toEqual(names);
  });
});

describe('selectable fields', () => {
  it('let MaintainerAssignments be found by the object they assign', () => {
    expect(crdOf('MaintainerAssignment').spec.versions[0]!.selectableFields).toEqual([
      { jsonPath: '.spec.resource.kind' },
      { jsonPath: '.spec.resource.name' },
      { jsonPath: '.spec.resource.namespace' },
    ]);
  });
});

describe('crdFor', () => {
  const widget = defineKind({
    kind: 'Widget',
    plural: 'widgets',
    singular: 'widget',
    shortNames: ['wd'],
    scope: 'Namespaced',
    description: 'A test kind.',
    spec: Type.Object({ replicas: Type.Integer({ description: 'How many.' }) }, { description: 'Spec.' }),
    status: Type.Object({ replicas: Type.Optional(Type.Integer({ description: 'How many exist.' })) }, { description: 'Status.' }),
    printerColumns: [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
    scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
  });

  it('adds a scale subresource when the kind declares one, and requires a spec that has required fields', () => {
    const crd = crdFor(widget);
    expect(crd.metadata.name).toBe('widgets.virtflow.io');
    expect(crd.spec.versions[0]!.subresources).toEqual({
      status: {},
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
    });
    expect(schemaOf(crd).required).toEqual(['spec']);
    expect(crd.spec.versions[0]!.selectableFields).toBeUndefined();
    expect(validateCrd(applyCrdDefaults(crd))).toEqual([]);
  });

  it('gives a spec without required fields a default of {} so its field defaults apply', () => {
    const spec = (schemaOf(crdOf('Tenant')).properties as Record<string, JSONSchemaProps>).spec!;
    expect(spec.default).toEqual({});
    expect(schemaOf(crdOf('Tenant')).required).toBeUndefined();
  });
});

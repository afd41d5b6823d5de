import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../machinery/object.js';
import { allVerbs, type ResourceInfo } from '../machinery/resource.js';
import { humanDuration } from './duration.js';
import { buildTable, objectMetaDescriptions } from './table.js';

function info(overrides: Partial<ResourceInfo> = {}): ResourceInfo {
  return {
    group: 'virtflow.io',
    version: 'v1alpha1',
    plural: 'virtualmachines',
    singular: 'virtualmachine',
    kind: 'VirtualMachine',
    listKind: 'VirtualMachineList',
    namespaced: true,
    shortNames: ['vm'],
    categories: [],
    verbs: allVerbs,
    subresources: { status: true },
    printerColumns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Lifecycle phase.' },
      { name: 'CPU', type: 'integer', jsonPath: '.status.cpu' },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', priority: 1 },
      { name: 'Pools', type: 'string', jsonPath: '.spec.nodePools[*].name' },
      { name: 'Load', type: 'number', jsonPath: '.status.load' },
      { name: 'Paused', type: 'boolean', jsonPath: '.spec.paused' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
    selectableFields: [],
    builtin: false,
    storage: true,
    ...overrides,
  };
}

const now = new Date('2026-01-10T12:00:00Z');

function vm(name: string, createdMinutesAgo: number, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'virtflow.io/v1alpha1',
    kind: 'VirtualMachine',
    metadata: {
      name,
      namespace: 'tenant-a',
      resourceVersion: '7',
      creationTimestamp: new Date(now.getTime() - createdMinutesAgo * 60_000).toISOString(),
    },
    ...extra,
  };
}

describe('buildTable', () => {
  const objects = [
    vm('vm-1', 5, {
      spec: { nodePools: [{ name: 'a' }, { name: 'b' }], paused: false },
      status: { phase: 'Running', cpu: 4.0, load: 0.5, conditions: [{ type: 'Ready', status: 'True' }] },
    }),
    vm('vm-2', 3 * 24 * 60),
  ];

  it('starts with the Name column and then the printer columns with their descriptions and priorities.', () => {
    const table = buildTable(info(), objects, { includeObject: 'Metadata', listMeta: { resourceVersion: '42' }, now });
    expect(table.kind).toBe('Table');
    expect(table.apiVersion).toBe('meta.k8s.io/v1');
    expect(table.metadata).toEqual({ resourceVersion: '42' });
    expect(table.columnDefinitions.map((c) => [c.name, c.type, c.format, c.priority])).toEqual([
      ['Name', 'string', 'name', 0],
      ['Phase', 'string', '', 0],
      ['CPU', 'integer', '', 0],
      ['Ready', 'string', '', 1],
      ['Pools', 'string', '', 0],
      ['Load', 'number', '', 0],
      ['Paused', 'boolean', '', 0],
      ['Age', 'date', '', 0],
    ]);
    expect(table.columnDefinitions[0]!.description).toBe(objectMetaDescriptions.name);
    expect(table.columnDefinitions[1]!.description).toBe('Lifecycle phase.');
    expect(table.columnDefinitions[2]!.description).toBe('Custom resource definition column (in JSONPath format): .status.cpu');
  });

  it('fills typed cells, shows only the first value of a multi-valued column, nulls for missing values and ages for dates.', () => {
    const table = buildTable(info(), objects, { includeObject: 'Metadata', listMeta: {}, now });
    expect(table.rows.map((r) => r.cells)).toEqual([
      ['vm-1', 'Running', 4, 'True', 'a', 0.5, false, '5m'],
      ['vm-2', null, null, null, null, null, null, '3d'],
    ]);
  });

  it('returns PartialObjectMetadata rows by default, full objects on request and none when asked.', () => {
    const metadataRows = buildTable(info(), objects, { includeObject: 'Metadata', listMeta: {}, now }).rows;
    expect(metadataRows[0]!.object).toEqual({
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: objects[0]!.metadata,
    });
    expect(buildTable(info(), objects, { includeObject: 'Object', listMeta: {}, now }).rows[0]!.object).toBe(objects[0]);
    expect(buildTable(info(), objects, { includeObject: 'None', listMeta: {}, now }).rows[0]).not.toHaveProperty('object');
  });

  it('gives a resource without printer columns a Name and an Age column.', () => {
    const table = buildTable(info({ printerColumns: [] }), objects, { includeObject: 'None', listMeta: {}, now });
    expect(table.columnDefinitions.map((c) => [c.name, c.type])).toEqual([
      ['Name', 'string'],
      ['Age', 'date'],
    ]);
    expect(table.columnDefinitions[1]!.description).toBe(objectMetaDescriptions.creationTimestamp);
    expect(table.rows.map((r) => r.cells)).toEqual([
      ['vm-1', '5m'],
      ['vm-2', '3d'],
    ]);
  });

  it('carries continue and remainingItemCount of a paged list.', () => {
    const table = buildTable(info(), [], {
      includeObject: 'Metadata',
      listMeta: { resourceVersion: '9', continue: 'abc', remainingItemCount: 3 },
      now,
    });
    expect(table.metadata).toEqual({ resourceVersion: '9', continue: 'abc', remainingItemCount: 3 });
    expect(table.rows).toEqual([]);
  });

  it('renders a built-in Namespace with Status and Age columns the lead describes.', () => {
    const namespaceInfo = info({
      group: '',
      version: 'v1',
      kind: 'Namespace',
      namespaced: false,
      printerColumns: [
        { name: 'Status', type: 'string', jsonPath: '.status.phase', description: 'The status of the namespace' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    });
    const ns: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'default', creationTimestamp: '2026-01-10T11:58:30Z' },
      status: { phase: 'Active' },
    };
    expect(buildTable(namespaceInfo, [ns], { includeObject: 'None', listMeta: {}, now }).rows[0]!.cells).toEqual([
      'default',
      'Active',
      '90s',
    ]);
  });
});

describe('humanDuration', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: Array<[string, number, string]> = [
    ['a little clock skew reads as 0s', -1500, '0s'],
    ['a time well in the future is invalid', -5 * s, '<invalid>'],
    ['under two minutes shows seconds', 119 * s, '119s'],
    ['under ten minutes shows minutes and seconds', 5 * m + 30 * s, '5m30s'],
    ['whole minutes drop the seconds', 5 * m, '5m'],
    ['under three hours shows minutes', 150 * m, '150m'],
    ['under eight hours shows hours and minutes', 3 * h + 20 * m, '3h20m'],
    ['under two days shows hours', 30 * h, '30h'],
    ['under eight days shows days and hours', 4 * d + 5 * h, '4d5h'],
    ['under two years shows days', 400 * d, '400d'],
    ['under eight years shows years and days', 2 * 365 * d + 30 * d, '2y30d'],
    ['beyond eight years shows years', 9 * 365 * d, '9y'],
  ];
  it.each(cases)('%s.', (_reason, ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });
});

describe('built-in Table columns', () => {
  it('counts the keys of a ConfigMap (data and binaryData) and of a Secret, as kubectl shows them', async () => {
    const { builtinResources } = await import('../api/builtins.js');
    const kind = (plural: string) => builtinResources.find((r) => r.plural === plural && r.group === '')!;
    const object = (fields: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'X', metadata: { name: 'x', creationTimestamp: '2026-01-10T11:00:00Z' }, ...fields });
    const cells = (plural: string, fields: Record<string, unknown>) =>
      buildTable(kind(plural), [object(fields)], { includeObject: 'None', listMeta: {}, now }).rows[0]!.cells;
    expect(cells('configmaps', { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } })).toEqual(['x', 3, '60m']);
    expect(cells('configmaps', {})).toEqual(['x', 0, '60m']);
    expect(cells('secrets', { type: 'Opaque', data: { a: 'AA==' } })).toEqual(['x', 'Opaque', 1, '60m']);
    const columns = buildTable(kind('configmaps'), [], { includeObject: 'None', listMeta: {}, now }).columnDefinitions;
    expect(columns.map((c) => [c.name, c.type])).toEqual([['Name', 'string'], ['Data', 'integer'], ['Age', 'date']]);
  });
});

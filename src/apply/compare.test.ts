import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../machinery/object.js';
import { addedFields, addedFieldsV1, compareObjects } from './compare.js';
import { FieldSet } from './fieldset.js';
import { cluster, clusterSchema } from './testdata.js';

const f = (name: string) => `f:${name}`;

const objects: [string, KubeObject][] = [
  ['empty spec', cluster({})],
  [
    'every list and map kind',
    cluster(
      {
        replicas: 3,
        region: 'eu',
        nodePools: [{ name: 'a', size: 2 }, { name: 'b', size: 1, flavor: 'large' }],
        ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP', name: 'dns' }],
        tags: ['x', 'y'],
        dnsServers: ['1.1.1.1', '8.8.8.8'],
        placement: { zone: 'z1', rack: 'r1' },
        selector: { app: 'web', tier: 'front' },
        extra: { free: { nested: [1, 2] }, flag: true },
      },
      { metadata: { labels: { a: 'b' }, annotations: { note: 'n' }, finalizers: ['x/y'] }, status: { phase: 'Ready' } } as Partial<KubeObject>,
    ),
  ],
  ['empty containers and nulls', cluster({ nodePools: [], tags: [], selector: {}, placement: null, region: null, extra: {} })],
  ['a duplicate set item and a map-list item without its key', cluster({ tags: ['x', 'x'], nodePools: [{ size: 1 }] })],
  ['fields the schema does not declare', cluster({ unknown: { deep: [{ a: 1 }] } }, { other: 'top' } as Partial<KubeObject>)],
  [
    'server-set metadata and stale managedFields',
    cluster(
      { replicas: 1 },
      {
        metadata: { uid: 'u', resourceVersion: '7', generation: 2, creationTimestamp: 'T', managedFields: [{ manager: 'm' }], labels: {} },
      } as Partial<KubeObject>,
    ),
  ],
];

const excludes: (FieldSet | undefined)[] = [
  undefined,
  new FieldSet(),
  FieldSet.of([[f('status')]]),
  FieldSet.of([[f('spec'), f('replicas')], [f('spec'), f('nodePools'), 'k:{"name":"a"}'], [f('metadata'), f('labels')]]),
];

describe('addedFields', () => {
  it('owns every field a new object sets, list items by their keys', () => {
    const fields = addedFields(objects[1]![1], clusterSchema);
    expect(fields.has([f('spec'), f('nodePools'), 'k:{"name":"b"}', f('flavor')])).toBe(true);
    expect(fields.has([f('spec'), f('tags'), 'v:"y"'])).toBe(true);
    expect(fields.has([f('metadata'), f('labels'), f('a')])).toBe(true);
    // Identity and bookkeeping fields are never owned.
    expect(fields.has([f('metadata'), f('name')])).toBe(false);
    expect(fields.has([f('kind')])).toBe(false);
  });

  for (const [what, obj] of objects) {
    for (const schema of [clusterSchema, undefined]) {
      for (const exclude of excludes) {
        it(`equals the general comparison's added set: ${what}, ${schema ? 'typed' : 'untyped'}, ${exclude?.isEmpty() === false ? `reset ${JSON.stringify(exclude.toFieldsV1())}` : 'no reset'}`, () => {
          const general = compareObjects(undefined, obj, schema, exclude);
          const fast = addedFields(obj, schema, exclude);
          expect(fast.toFieldsV1()).toEqual(general.added.toFieldsV1());
          expect(fast.equals(general.added)).toBe(true);
          expect(general.modified.isEmpty() && general.removed.isEmpty()).toBe(true);
        });

        it(`writes that set's FieldsV1 directly, in the same order: ${what}, ${schema ? 'typed' : 'untyped'}, ${exclude?.isEmpty() === false ? `reset ${JSON.stringify(exclude.toFieldsV1())}` : 'no reset'}`, () => {
          const expected = JSON.stringify(addedFields(obj, schema, exclude).toFieldsV1());
          expect(JSON.stringify(addedFieldsV1(obj, schema, exclude))).toBe(expected);
        });
      }
    }
  }
});

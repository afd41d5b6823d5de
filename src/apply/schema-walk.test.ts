import { describe, expect, it } from 'vitest';
import type { JSONSchemaProps } from '../machinery/resource.js';
import { fieldSchema, rootSchema, shapeOf, UNTYPED, type SchemaRef } from './schema-walk.js';
import { mergeValues } from './merge-values.js';
import { clusterSchema } from './testdata.js';

const spec = fieldSchema(rootSchema(clusterSchema), 'spec').schema;
const field = (name: string) => fieldSchema(spec, name).schema;

describe('shapeOf', () => {
  const cases: { name: string; schema: SchemaRef; value: unknown; want: unknown }[] = [
    { name: 'a list without x-kubernetes-list-type is atomic', schema: field('dnsServers'), value: ['a'], want: { kind: 'leaf' } },
    { name: 'a set list is merged by value', schema: field('tags'), value: ['a'], want: { kind: 'list', listType: 'set', keys: [] } },
    {
      name: 'a map list carries its key names',
      schema: field('nodePools'),
      value: [],
      want: { kind: 'list', listType: 'map', keys: ['name'] },
    },
    { name: 'an object marked x-kubernetes-map-type atomic is a leaf', schema: field('placement'), value: {}, want: { kind: 'leaf' } },
    { name: 'an object without a map type is granular', schema: field('selector'), value: {}, want: { kind: 'map' } },
    { name: 'a list below preserve-unknown-fields is atomic', schema: fieldSchema(field('extra'), 'x').schema, value: [1], want: { kind: 'leaf' } },
    { name: 'an object below preserve-unknown-fields is granular', schema: fieldSchema(field('extra'), 'x').schema, value: { a: 1 }, want: { kind: 'map' } },
    { name: 'a list in a kind without schema is atomic', schema: UNTYPED, value: [1], want: { kind: 'leaf' } },
    { name: 'a scalar is a leaf whatever the schema says', schema: field('nodePools'), value: 3, want: { kind: 'leaf' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(shapeOf(c.schema, c.value)).toMatchObject(c.want as object);
    });
  }
});

describe('fieldSchema', () => {
  it('types metadata as ObjectMeta even when the CRD says only type: object', () => {
    const meta = fieldSchema(rootSchema(clusterSchema), 'metadata').schema as JSONSchemaProps;
    expect(shapeOf(fieldSchema(meta, 'finalizers').schema, ['x'])).toMatchObject({ listType: 'set' });
    expect(shapeOf(fieldSchema(meta, 'ownerReferences').schema, [])).toMatchObject({ keys: ['uid'] });
  });

  it('treats the top-level fields of a kind without schema as declared and untyped', () => {
    expect(fieldSchema(rootSchema(undefined), 'data')).toEqual({ schema: UNTYPED, declared: true });
  });

  it('treats additionalProperties keys as free map keys', () => {
    expect(fieldSchema(field('selector'), 'tier')).toEqual({ schema: { type: 'string' }, declared: false });
  });
});

describe('mergeValues ordering', () => {
  const pools = field('nodePools');
  const cases: { name: string; live: unknown; config: unknown; want: unknown }[] = [
    {
      name: 'items only the live list has keep their place and new items follow the configuration',
      live: [{ name: 'a' }, { name: 'b' }],
      config: [{ name: 'c' }],
      want: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
    },
    {
      name: 'shared items take the order of the configuration',
      live: [{ name: 'a', size: 1 }, { name: 'b', size: 2 }],
      config: [{ name: 'b', size: 3 }, { name: 'a' }],
      want: [{ name: 'b', size: 3 }, { name: 'a', size: 1 }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(mergeValues(c.live, c.config, pools)).toEqual(c.want);
    });
  }
});

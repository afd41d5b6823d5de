import { describe, expect, it } from 'vitest';
import { FieldSet, formatPath, parsePathElement, pathElement, type Path } from './fieldset.js';
import { fieldSetOf } from './field-set-of.js';
import { clusterSchema, cluster } from './testdata.js';

const f = pathElement.field;
const k = pathElement.key;
const v = pathElement.value;

const paths = (set: FieldSet) => set.paths().map(formatPath);

describe('FieldsV1 round trip', () => {
  const cases: { name: string; doc: Record<string, unknown>; want: string[] }[] = [
    {
      name: 'a leaf written as an empty object is one owned field',
      doc: { 'f:spec': { 'f:replicas': {} } },
      want: ['.spec.replicas'],
    },
    {
      name: 'a dot marks an inner node that is owned besides its children',
      doc: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } },
      want: ['.metadata.labels', '.metadata.labels.app'],
    },
    {
      name: 'an associative-list item is addressed by its JSON key',
      doc: { 'f:spec': { 'f:nodePools': { 'k:{"name":"a"}': { '.': {}, 'f:size': {} } } } },
      want: ['.spec.nodePools[name="a"]', '.spec.nodePools[name="a"].size'],
    },
    {
      name: 'set-list values and atomic indexes are addressed by v: and i:',
      doc: { 'f:spec': { 'f:tags': { 'v:"blue"': {}, 'i:3': {} } } },
      want: ['.spec.tags[="blue"]', '.spec.tags[3]'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const set = FieldSet.fromFieldsV1(c.doc);
      expect(paths(set)).toEqual(c.want);
      expect(set.toFieldsV1()).toEqual(c.doc);
    });
  }

  it('writes keys in Kubernetes order: dot first, then fields, keys, values, indexes', () => {
    const set = FieldSet.of([
      [f('spec'), f('tags'), 'i:1'],
      [f('spec'), f('tags'), v('b')],
      [f('spec'), f('b')],
      [f('spec'), f('a')],
      [f('spec')],
    ]);
    const doc = set.toFieldsV1();
    expect(JSON.stringify(doc)).toBe('{"f:spec":{".":{},"f:a":{},"f:b":{},"f:tags":{"v:\\"b\\"":{},"i:1":{}}}}');
  });

  it('canonicalizes a key element written with unsorted or spaced JSON', () => {
    expect(parsePathElement('k:{ "protocol": "TCP", "port": 80 }')).toBe('k:{"port":80,"protocol":"TCP"}');
    expect(k({ protocol: 'TCP', port: 80 })).toBe('k:{"port":80,"protocol":"TCP"}');
  });

  const malformed: { name: string; doc: unknown }[] = [
    { name: 'a document that is not an object is rejected', doc: ['f:a'] },
    { name: 'an element without a type prefix is rejected', doc: { spec: {} } },
    { name: 'an unknown element type is rejected', doc: { 'x:spec': {} } },
    { name: 'a key element that is not a JSON object is rejected', doc: { 'k:[1]': {} } },
    { name: 'a value element with broken JSON is rejected', doc: { 'v:{': {} } },
    { name: 'an element whose body is not an object is rejected', doc: { 'f:a': true } },
  ];
  for (const c of malformed) {
    it(c.name, () => {
      expect(() => FieldSet.fromFieldsV1(c.doc)).toThrow();
    });
  }
});

describe('set algebra', () => {
  const a = FieldSet.of([[f('spec'), f('a')], [f('spec'), f('b')], [f('spec')]]);
  const b = FieldSet.of([[f('spec'), f('b')], [f('spec'), f('c')]]);
  const cases: { name: string; got: () => FieldSet; want: string[] }[] = [
    { name: 'union holds the paths of both sets', got: () => a.union(b), want: ['.spec', '.spec.a', '.spec.b', '.spec.c'] },
    { name: 'difference keeps only paths the other set lacks', got: () => a.difference(b), want: ['.spec', '.spec.a'] },
    { name: 'intersection keeps only paths both sets hold', got: () => a.intersection(b), want: ['.spec.b'] },
    {
      name: 'recursive difference also drops everything below an excluded node',
      got: () => a.recursiveDifference(FieldSet.of([[f('spec')]])),
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(paths(c.got())).toEqual(c.want);
    });
  }

  it('never writes an emptied subtree, which would read back as an owned leaf', () => {
    const left = FieldSet.of([[f('spec'), f('a')]]);
    expect(left.difference(left).toFieldsV1()).toEqual({});
  });
});

describe('formatPath', () => {
  const cases: { name: string; path: Path; want: string }[] = [
    { name: 'fields are joined with dots', path: [f('spec'), f('replicas')], want: '.spec.replicas' },
    {
      name: 'a compound key lists every key field with Go value formatting',
      path: [f('spec'), f('ports'), k({ port: 80, protocol: 'TCP' }), f('name')],
      want: '.spec.ports[port=80,protocol="TCP"].name',
    },
    { name: 'a set value is shown with an equals sign', path: [f('spec'), f('tags'), v('x')], want: '.spec.tags[="x"]' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(formatPath(c.path)).toBe(c.want);
    });
  }
});

describe('fieldSetOf', () => {
  const cases: { name: string; obj: unknown; schema?: typeof clusterSchema; want: Record<string, unknown> }[] = [
    {
      name: 'identity metadata, apiVersion and kind are never recorded but labels and annotations are',
      obj: cluster({ replicas: 3 }, { metadata: { labels: { app: 'x' }, annotations: { note: 'y' }, uid: 'u', resourceVersion: '5' } }),
      schema: clusterSchema,
      want: { 'f:metadata': { 'f:annotations': { 'f:note': {} }, 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:replicas': {} } },
    },
    {
      name: 'finalizers are a set and owner references a list keyed by uid',
      obj: cluster({}, { metadata: { finalizers: ['a/b'], ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'n', uid: 'u1' }] } }),
      schema: clusterSchema,
      want: {
        'f:metadata': {
          'f:finalizers': { 'v:"a/b"': {} },
          'f:ownerReferences': {
            'k:{"uid":"u1"}': { '.': {}, 'f:apiVersion': {}, 'f:kind': {}, 'f:name': {}, 'f:uid': {} },
          },
        },
        'f:spec': {},
      },
    },
    {
      name: 'map-list items are owned by key together with their fields, set items by value, atomic lists whole',
      obj: cluster({ nodePools: [{ name: 'a', size: 2 }], tags: ['x'], dnsServers: ['1.1.1.1'] }),
      schema: clusterSchema,
      want: {
        'f:spec': {
          'f:dnsServers': {},
          'f:nodePools': { 'k:{"name":"a"}': { '.': {}, 'f:name': {}, 'f:size': {} } },
          'f:tags': { 'v:"x"': {} },
        },
      },
    },
    {
      name: 'an atomic map is owned whole and a granular map records each key as itself',
      obj: cluster({ placement: { zone: 'z1' }, selector: { tier: 'db' }, extra: { deep: { a: 1 } } }),
      schema: clusterSchema,
      want: {
        'f:spec': {
          'f:extra': { 'f:deep': { '.': {}, 'f:a': {} } },
          'f:placement': {},
          'f:selector': { 'f:tier': {} },
        },
      },
    },
    {
      name: 'a map-list key field left out takes its schema default',
      obj: cluster({ ports: [{ port: 80 }] }),
      schema: clusterSchema,
      want: { 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } } } },
    },
    {
      name: 'a kind without schema records data keys and treats lists as atomic',
      obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' }, list: [1, 2] },
      want: { 'f:data': { 'f:a': {} }, 'f:list': {} },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(fieldSetOf(c.obj, c.schema).toFieldsV1()).toEqual(c.want);
    });
  }

  it('refuses a map-list item that lacks its key field', () => {
    expect(() => fieldSetOf(cluster({ nodePools: [{ size: 1 }] }), clusterSchema)).toThrow(/omits key field "name"/);
  });

  it('refuses duplicate items in a map list', () => {
    expect(() => fieldSetOf(cluster({ nodePools: [{ name: 'a' }, { name: 'a' }] }), clusterSchema)).toThrow(/duplicate entries/);
  });
});

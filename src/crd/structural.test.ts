import { describe, expect, it } from 'vitest';
import type { StatusCause } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import { causeToString } from './field-errors.js';
import { applyCrdDefaults, validateCrd } from './crd-validation.js';
import { checkStructural } from './structural.js';

const root = 'spec.versions[0].schema.openAPIV3Schema';

function lines(causes: StatusCause[]): string[] {
  return causes.map(causeToString);
}

function objectSchema(properties: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { type: 'object', properties, ...extra };
}

describe('checkStructural', () => {
  const cases: Array<{ reason: string; schema: Record<string, unknown>; want: string[] }> = [
    {
      reason: 'A complete structural schema with int-or-string, preserved objects and maps has no violations.',
      schema: objectSchema({
        spec: objectSchema({
          replicas: { type: 'integer', minimum: 0, default: 1 },
          port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
          values: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          pools: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['name'],
            items: objectSchema({ name: { type: 'string' } }, { required: ['name'] }),
          },
        }),
        metadata: objectSchema({ name: { type: 'string', maxLength: 20 } }),
      }),
      want: [],
    },
    {
      reason: 'A field without a type is reported with the path and wording Kubernetes uses.',
      schema: objectSchema({ spec: { properties: { a: { type: 'string' } } } }),
      want: [`${root}.properties[spec].type: Required value: must not be empty for specified object fields`],
    },
    {
      reason: 'Array items without a type and a root without a type use their own wording.',
      schema: { properties: { list: { type: 'array', items: {} } } },
      want: [
        `${root}.properties[list].items.type: Required value: must not be empty for specified array items`,
        `${root}.type: Required value: must not be empty at the root`,
      ],
    },
    {
      reason: 'An array without items is refused.',
      schema: objectSchema({ list: { type: 'array' } }),
      want: [`${root}.properties[list].items: Required value: must be specified`],
    },
    {
      reason: 'properties and additionalProperties together are refused as mutually exclusive.',
      schema: objectSchema({
        spec: objectSchema({ a: { type: 'string' } }, { additionalProperties: { type: 'string' } }),
      }),
      want: [`${root}.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`],
    },
    {
      reason: 'A $ref is refused.',
      schema: objectSchema({ spec: { type: 'object', $ref: '#/definitions/Spec' } }),
      want: [`${root}.properties[spec].$ref: Forbidden: $ref is not supported`],
    },
    {
      reason: 'metadata may only restrict name and generateName.',
      schema: objectSchema({ metadata: objectSchema({ labels: { type: 'object' } }) }),
      want: [
        `${root}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
      ],
    },
    {
      reason: 'A default anywhere in top-level metadata is refused, even on name.',
      schema: objectSchema({ metadata: objectSchema({ name: { type: 'string', default: 'x' } }) }),
      want: [`${root}.properties[metadata].properties[name].default: Forbidden: must not be set in top-level metadata`],
    },
    {
      reason: 'x-kubernetes-list-map-keys without a map list type is refused.',
      schema: objectSchema({
        pools: { type: 'array', 'x-kubernetes-list-map-keys': ['name'], items: objectSchema({ name: { type: 'string' } }, { required: ['name'] }) },
      }),
      want: [`${root}.properties[pools].x-kubernetes-list-type: Required value: must be map if x-kubernetes-list-map-keys is non-empty`],
    },
    {
      reason: 'A map list whose key is neither required nor defaulted is refused.',
      schema: objectSchema({
        pools: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: objectSchema({ name: { type: 'string' } }),
        },
      }),
      want: [
        `${root}.properties[pools].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property`,
      ],
    },
    {
      reason: 'A type inside anyOf is not structural, and its property must also be specified outside.',
      schema: objectSchema({ spec: { type: 'object', anyOf: [{ type: 'object', properties: { x: { minimum: 1 } } }] } }),
      want: [
        `${root}.properties[spec].anyOf[0].type: Forbidden: must be empty to be structural`,
        `${root}.properties[spec].properties[x]: Required value: because it is defined in ${root}.properties[spec].anyOf[0].properties[x]`,
      ],
    },
    {
      reason: 'x-kubernetes-preserve-unknown-fields: false is refused.',
      schema: objectSchema({ spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': false } }),
      want: [`${root}.properties[spec].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`],
    },
    {
      reason: 'A root that is not an object is refused, as is additionalProperties at the root.',
      schema: { type: 'string', additionalProperties: { type: 'string' } },
      want: [
        `${root}.additionalProperties: Forbidden: must not be used at the root`,
        `${root}.type: Invalid value: "string": must be object at the root`,
      ],
    },
    {
      reason: 'A lookahead is refused: patterns are RE2, as in kube-apiserver.',
      schema: objectSchema({ name: { type: 'string', pattern: '^(?=a)[a-z]+$' } }),
      want: [
        `${root}.properties[name].pattern: Invalid value: "^(?=a)[a-z]+$": must be a valid regular expression, but isn't: error parsing regexp: invalid or unsupported Perl syntax: \`(?=\``,
      ],
    },
    {
      reason: 'A backreference is refused, also deep inside items.',
      schema: objectSchema({ list: { type: 'array', items: { type: 'string', pattern: '(a)\\1' } } }),
      want: [`${root}.properties[list].items.pattern: Invalid value: "(a)\\\\1": must be a valid regular expression, but isn't: error parsing regexp: invalid escape sequence: \`\\1\``],
    },
    {
      reason: 'An unknown type name is reported as unsupported.',
      schema: objectSchema({ a: { type: 'int' } }),
      want: [
        `${root}.properties[a].type: Unsupported value: "int": supported values: "array", "boolean", "integer", "number", "object", "string"`,
      ],
    },
  ];

  it.each(cases)('$reason', ({ schema, want }) => {
    expect(lines(checkStructural(schema))).toEqual(want);
  });

  it('uses the path it is given, so each version reports its own index.', () => {
    const causes = checkStructural(objectSchema({ a: {} }), 'spec.versions[2].schema.openAPIV3Schema');
    expect(causes).toEqual([
      {
        type: 'FieldValueRequired',
        field: 'spec.versions[2].schema.openAPIV3Schema.properties[a].type',
        message: 'Required value: must not be empty for specified object fields',
      },
    ]);
  });
});

function makeCrd(overrides: Record<string, unknown> = {}, name = 'widgets.example.com'): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
    spec: {
      group: 'example.com',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: objectSchema({ spec: objectSchema({ size: { type: 'integer' } }) }) },
        },
      ],
      ...overrides,
    },
  };
}

describe('validateCrd', () => {
  const cases: Array<{ reason: string; crd: KubeObject; want: string[] }> = [
    { reason: 'A well-formed CRD is accepted.', crd: makeCrd(), want: [] },
    {
      reason: 'The name must be plural.group.',
      crd: makeCrd({}, 'widget.example.com'),
      want: ['metadata.name: Invalid value: "widget.example.com": must be spec.names.plural+"."+spec.group'],
    },
    {
      reason: 'A group without a dot is refused.',
      crd: makeCrd({ group: 'example' }, 'widgets.example'),
      want: ['spec.group: Invalid value: "example": should be a domain with at least one dot'],
    },
    {
      reason: 'An upper-case plural is refused and a missing kind is required.',
      crd: makeCrd({ names: { plural: 'Widgets', singular: 'widget', listKind: 'WidgetList' } }, 'Widgets.example.com'),
      want: [
        expect.stringMatching(/^spec\.names\.plural: Invalid value: "Widgets": a DNS-1035 label/),
        'spec.names.kind: Required value',
      ],
    },
    {
      reason: 'A scope other than Namespaced or Cluster is unsupported.',
      crd: makeCrd({ scope: 'Global' }),
      want: ['spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"'],
    },
    {
      reason: 'Two storage versions are refused.',
      crd: makeCrd({
        versions: [
          { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
          { name: 'v2', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
        ],
      }),
      want: ['spec.versions: Invalid value: ["v1","v2"]: must have exactly one version marked as storage version'],
    },
    {
      reason: 'A version without a schema is refused.',
      crd: makeCrd({ versions: [{ name: 'v1', served: true, storage: true }] }),
      want: ['spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required'],
    },
    {
      reason: 'No versions at all is refused.',
      crd: makeCrd({ versions: [] }),
      want: ['spec.versions: Required value: must have at least one version'],
    },
    {
      reason: 'The schema of each version is checked for structure at its own path.',
      crd: makeCrd({
        versions: [
          { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: objectSchema({ spec: {} }) } },
        ],
      }),
      want: ['spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields'],
    },
    {
      reason: 'A printer column of an unknown type is unsupported.',
      crd: makeCrd({
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object' } },
            additionalPrinterColumns: [{ name: 'Size', type: 'float', jsonPath: '.spec.size' }],
          },
        ],
      }),
      want: [
        'spec.versions[0].additionalPrinterColumns[0].type: Unsupported value: "float": supported values: "boolean", "date", "integer", "number", "string"',
      ],
    },
  ];

  it.each(cases)('$reason', ({ crd, want }) => {
    expect(lines(validateCrd(applyCrdDefaults(crd)))).toEqual(want);
  });

  const defaultCases: Array<{ reason: string; spec: Record<string, unknown>; want: string[] }> = [
    {
      reason: 'A default of the wrong type is refused at the default, naming the type.',
      spec: objectSchema({ replicas: { type: 'integer', default: 'three' } }),
      want: [
        'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[replicas].default: Invalid value: "string": in body must be of type integer: "string"',
      ],
    },
    {
      reason: 'A default object is checked against its nested schema after its own defaults apply.',
      spec: objectSchema({
        network: objectSchema({ mtu: { type: 'integer', minimum: 576, default: 100 } }, { default: {} }),
      }),
      want: [
        'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[network].default.mtu: Invalid value: 100: mtu in body should be greater than or equal to 576',
        'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[network].properties[mtu].default: Invalid value: 100: in body should be greater than or equal to 576',
      ],
    },
    {
      reason: 'A default with fields the schema does not declare is refused.',
      spec: objectSchema({ network: objectSchema({ mtu: { type: 'integer' } }, { default: { mtu: 1500, colour: 'red' } }) }),
      want: [
        'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[network].default: Invalid value: {"mtu":1500,"colour":"red"}: must not have unknown fields: colour',
      ],
    },
    { reason: 'Valid defaults are accepted.', spec: objectSchema({ replicas: { type: 'integer', default: 3, minimum: 1 } }), want: [] },
  ];

  it.each(defaultCases)('$reason', ({ spec, want }) => {
    const crd = makeCrd({
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: objectSchema({ spec }) } }],
    });
    expect(lines(validateCrd(crd))).toEqual(want);
  });

  it('defaults singular and listKind from kind, so they need not be written.', () => {
    const crd = makeCrd({ names: { plural: 'widgets', kind: 'Widget' } });
    applyCrdDefaults(crd);
    expect((crd.spec as { names: unknown }).names).toEqual({
      plural: 'widgets',
      kind: 'Widget',
      singular: 'widget',
      listKind: 'WidgetList',
    });
    expect(validateCrd(crd)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { causeToString } from './field-errors.js';
import { compileValidator, defaultsOnly } from './validator.js';

const vmSchema = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 12 } } },
    spec: {
      type: 'object',
      required: ['specification'],
      properties: {
        specification: { type: 'string' },
        replicas: { type: 'integer', default: 1 },
        runStrategy: { type: 'string', enum: ['Always', 'Halted', 'Manual'], default: 'Always' },
        port: { 'x-kubernetes-int-or-string': true },
        note: { type: 'string', nullable: true },
        capacity: {
          type: 'object',
          properties: {
            cpu: { type: 'integer', minimum: 1 },
            memory: { type: 'string', pattern: '^[0-9]+(Mi|Gi)$' },
          },
        },
        nodePools: {
          type: 'array',
          maxItems: 2,
          items: {
            type: 'object',
            required: ['name'],
            properties: {
              name: { type: 'string', minLength: 2, maxLength: 5 },
              count: { type: 'integer', default: 3 },
            },
          },
        },
        network: {
          type: 'object',
          default: {},
          properties: { mtu: { type: 'integer', default: 1500, exclusiveMinimum: true, minimum: 0 } },
        },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'string' } } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        template: {
          type: 'object',
          'x-kubernetes-embedded-resource': true,
          properties: { spec: { type: 'object', properties: { a: { type: 'string' } } } },
        },
        window: { type: 'string', format: 'duration' },
      },
    },
    status: { type: 'object', properties: { phase: { type: 'string' } } },
  },
};

function vm(spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'virtflow.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'vm-1', labels: { a: 'b' } }, spec, ...extra };
}

describe('defaulting', () => {
  it('fills missing fields of objects that exist, including inside array items and defaulted objects.', () => {
    const obj = vm({ specification: 'small', nodePools: [{ name: 'ab' }, { name: 'cd', count: 1 }] });
    const result = compileValidator(vmSchema).validate(obj, { fieldValidation: 'Strict' });
    expect(result.causes).toEqual([]);
    expect(obj.spec).toEqual({
      specification: 'small',
      replicas: 1,
      runStrategy: 'Always',
      network: { mtu: 1500 },
      nodePools: [
        { name: 'ab', count: 3 },
        { name: 'cd', count: 1 },
      ],
    });
  });

  it('never creates a parent object that is absent and has no default of its own.', () => {
    const obj = vm({ specification: 'small' });
    defaultsOnly(vmSchema, obj);
    expect((obj.spec as Record<string, unknown>).capacity).toBeUndefined();
    expect(obj.status).toBeUndefined();
  });

  it('replaces a null with the default when the field is not nullable.', () => {
    const obj = vm({ specification: 'small', replicas: null });
    defaultsOnly(vmSchema, obj);
    expect((obj.spec as Record<string, unknown>).replicas).toBe(1);
  });
});

describe('pruning and fieldValidation', () => {
  const body = () =>
    vm(
      {
        specification: 'small',
        foo: 1,
        nodePools: [{ name: 'ab', colour: 'red' }],
        extra: { anything: { deep: true }, known: 'k' },
        labels: { x: 'y' },
        template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { a: 'x', b: 'y' } },
      },
      { bogus: true },
    );

  it('prunes undeclared fields but keeps apiVersion, kind, metadata, preserved and embedded meta fields.', () => {
    const obj = body();
    const result = compileValidator(vmSchema).validate(obj, { fieldValidation: 'Ignore' });
    expect(result.unknownFields).toEqual(['bogus', 'spec.foo', 'spec.nodePools[0].colour', 'spec.template.spec.b']);
    expect(result.warnings).toEqual([]);
    expect(result.strictError).toBeUndefined();
    expect(obj.metadata).toEqual({ name: 'vm-1', labels: { a: 'b' } });
    expect(obj.bogus).toBeUndefined();
    const spec = obj.spec as Record<string, unknown>;
    expect(spec.extra).toEqual({ anything: { deep: true }, known: 'k' });
    expect(spec.labels).toEqual({ x: 'y' });
    expect(spec.template).toEqual({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { a: 'x' } });
  });

  it('under Strict returns the strict decoding error Kubernetes sends.', () => {
    const result = compileValidator(vmSchema).validate(body(), { fieldValidation: 'Strict' });
    expect(result.strictError).toBe(
      'strict decoding error: unknown field "bogus", unknown field "spec.foo", unknown field "spec.nodePools[0].colour", unknown field "spec.template.spec.b"',
    );
    expect(result.warnings).toEqual([]);
  });

  it('under Warn returns one warning per unknown field.', () => {
    const result = compileValidator(vmSchema).validate(body(), { fieldValidation: 'Warn' });
    expect(result.warnings).toEqual([
      'unknown field "bogus"',
      'unknown field "spec.foo"',
      'unknown field "spec.nodePools[0].colour"',
      'unknown field "spec.template.spec.b"',
    ]);
    expect(result.strictError).toBeUndefined();
  });
});

describe('schema validation messages', () => {
  const cases: Array<{ reason: string; spec: Record<string, unknown>; want: Array<{ type: string; text: string }> }> = [
    {
      reason: 'A string where an integer belongs is a type error naming the field.',
      spec: { specification: 's', replicas: 'abc' },
      want: [{ type: 'FieldValueTypeInvalid', text: 'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"' }],
    },
    {
      reason: 'A missing required field is a Required value at its full path.',
      spec: { replicas: 2 },
      want: [{ type: 'FieldValueRequired', text: 'spec.specification: Required value' }],
    },
    {
      reason: 'A value outside the enum lists the supported values.',
      spec: { specification: 's', runStrategy: 'Foo' },
      want: [{ type: 'FieldValueNotSupported', text: 'spec.runStrategy: Unsupported value: "Foo": supported values: "Always", "Halted", "Manual"' }],
    },
    {
      reason: 'A number below the minimum is invalid with the go-openapi wording.',
      spec: { specification: 's', capacity: { cpu: 0 } },
      want: [{ type: 'FieldValueInvalid', text: 'spec.capacity.cpu: Invalid value: 0: spec.capacity.cpu in body should be greater than or equal to 1' }],
    },
    {
      reason: 'An exclusive minimum written the OpenAPI 3.0 way is honoured.',
      spec: { specification: 's', network: { mtu: 0 } },
      want: [{ type: 'FieldValueInvalid', text: 'spec.network.mtu: Invalid value: 0: spec.network.mtu in body should be greater than 0' }],
    },
    {
      reason: 'Errors inside array items carry the index, and required item fields are reported.',
      spec: { specification: 's', nodePools: [{ name: 'a' }, { count: 1 }] },
      want: [
        { type: 'FieldValueInvalid', text: 'spec.nodePools[0].name: Invalid value: "a": spec.nodePools[0].name in body should be at least 2 chars long' },
        { type: 'FieldValueRequired', text: 'spec.nodePools[1].name: Required value' },
      ],
    },
    {
      reason: 'Too long strings and too many items use the Kubernetes TooLong and TooMany wording.',
      spec: { specification: 's', nodePools: [{ name: 'abcdefg' }, { name: 'ab' }, { name: 'cd' }] },
      want: [
        { type: 'FieldValueTooMany', text: 'spec.nodePools: Too many: 3: must have at most 2 items' },
        { type: 'FieldValueTooLong', text: 'spec.nodePools[0].name: Too long: may not be more than 5 bytes' },
      ],
    },
    {
      reason: 'A pattern mismatch quotes the pattern.',
      spec: { specification: 's', capacity: { memory: 'lots' } },
      want: [{ type: 'FieldValueInvalid', text: `spec.capacity.memory: Invalid value: "lots": spec.capacity.memory in body should match '^[0-9]+(Mi|Gi)$'` }],
    },
    {
      reason: 'int-or-string accepts integers and strings but not booleans.',
      spec: { specification: 's', port: true },
      want: [{ type: 'FieldValueTypeInvalid', text: 'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"' }],
    },
    {
      reason: 'A Go duration format is checked the way Kubernetes checks it.',
      spec: { specification: 's', window: 'PT5M' },
      want: [{ type: 'FieldValueInvalid', text: 'spec.window: Invalid value: "PT5M": spec.window in body must be of type duration: "PT5M"' }],
    },
  ];

  it.each(cases)('$reason', ({ spec, want }) => {
    const { causes } = compileValidator(vmSchema).validate(vm(spec), { fieldValidation: 'Strict' });
    expect(causes.map((c) => ({ type: c.type, text: causeToString(c) }))).toEqual(want);
  });

  it('accepts valid int-or-string values, nullable nulls and Go durations.', () => {
    const validator = compileValidator(vmSchema);
    for (const spec of [
      { specification: 's', port: 8080, note: null, window: '1h30m' },
      { specification: 's', port: 'http', note: 'x', window: '250ms' },
    ]) {
      expect(validator.validate(vm(spec), { fieldValidation: 'Strict' }).causes).toEqual([]);
    }
  });

  it('validates metadata.name against the schema but leaves other metadata to the server.', () => {
    const obj = vm({ specification: 's' });
    obj.metadata = { name: 'a-very-long-name', labels: { any: 'thing' }, annotations: {} };
    const { causes } = compileValidator(vmSchema).validate(obj, { fieldValidation: 'Strict' });
    expect(causes.map(causeToString)).toEqual(['metadata.name: Too long: may not be more than 12 bytes']);
  });

  it('compiles once per schema, even when an equal schema arrives as a new object.', () => {
    expect(compileValidator(vmSchema)).toBe(compileValidator(vmSchema));
    expect(compileValidator(structuredClone(vmSchema))).toBe(compileValidator(vmSchema));
    expect(compileValidator({ ...vmSchema, description: 'other' })).not.toBe(compileValidator(vmSchema));
  });

  it('validates a thousand objects quickly once compiled.', () => {
    const validator = compileValidator(vmSchema);
    const started = performance.now();
    for (let i = 0; i < 1000; i++) {
      validator.validate(vm({ specification: 's', nodePools: [{ name: 'ab' }], capacity: { cpu: 2 } }), { fieldValidation: 'Strict' });
    }
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

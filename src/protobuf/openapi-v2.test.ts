import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGroupList, apiResourceList, apiVersions } from '../api/discovery.js';
import { ResourceRegistry } from '../api/registry.js';
import { openapiV2 } from '../crd/openapi.js';
import type { WatchCache } from '../store/watch-cache.js';
import { acceptsOpenApiV2Protobuf, encodeOpenApiV2, OPENAPI_V2_PROTOBUF, openapiV2Root } from './openapi-v2.js';
import { json, startStubServer, type RecordedRequest, type StubReply, type StubServer } from './test-kubectl.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const gvk = (group: string, version: string, kind: string) => ({ group, kind, version });
const objectMetaRef = '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** A small Swagger 2.0 document in the shape VirtFlow and Kubernetes publish, touching every construct. */
const doc = {
  swagger: '2.0',
  info: { title: 'Kubernetes', version: 'v1.31.0' },
  paths: {
    '/api/v1/namespaces/{namespace}/configmaps/{name}': {
      get: {
        description: 'read the specified ConfigMap',
        consumes: ['*/*'],
        produces: ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'],
        schemes: ['https'],
        tags: ['core_v1'],
        operationId: 'readCoreV1NamespacedConfigMap',
        parameters: [{ uniqueItems: true, type: 'string', description: 'pretty-print', name: 'pretty', in: 'query' }],
        responses: {
          '200': { description: 'OK', schema: { $ref: '#/definitions/io.k8s.api.core.v1.ConfigMap' } },
          '401': { description: 'Unauthorized' },
          default: { $ref: '#/responses/NotFound' },
        },
        'x-kubernetes-action': 'get',
        'x-kubernetes-group-version-kind': gvk('', 'v1', 'ConfigMap'),
      },
      patch: {
        description: 'partially update the specified ConfigMap',
        consumes: ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'],
        produces: ['application/json'],
        operationId: 'patchCoreV1NamespacedConfigMap',
        parameters: [
          { name: 'body', in: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } },
          { uniqueItems: true, type: 'string', description: 'dry run', name: 'dryRun', in: 'query' },
          { uniqueItems: true, type: 'boolean', description: 'force', name: 'force', in: 'query' },
          { type: 'string', name: 'X-Request-Id', in: 'header' },
          { type: 'array', items: { type: 'string' }, collectionFormat: 'multi', name: 'tags', in: 'formData' },
        ],
        responses: { '200': { description: 'OK', schema: { $ref: '#/definitions/io.k8s.api.core.v1.ConfigMap' }, headers: { 'X-Rate': { type: 'integer' } } } },
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk('', 'v1', 'ConfigMap'),
      },
      parameters: [
        { uniqueItems: true, type: 'string', description: 'name of the ConfigMap', name: 'name', in: 'path', required: true },
        { uniqueItems: true, type: 'string', description: 'object name and auth scope', name: 'namespace', in: 'path', required: true },
        { $ref: '#/parameters/pretty' },
      ],
    },
    'x-paths-extension': { note: 'kept' },
  },
  definitions: {
    'io.k8s.api.core.v1.ConfigMap': {
      description: 'ConfigMap holds configuration data for pods to consume.',
      type: 'object',
      properties: {
        apiVersion: { description: 'APIVersion defines the versioned schema', type: 'string' },
        binaryData: { description: 'BinaryData', type: 'object', additionalProperties: { type: 'string', format: 'byte' } },
        data: { type: 'object', additionalProperties: { type: 'string' } },
        immutable: { type: 'boolean' },
        metadata: { $ref: objectMetaRef, description: "Standard object's metadata." },
      },
      'x-kubernetes-group-version-kind': [gvk('', 'v1', 'ConfigMap')],
    },
    'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
      type: 'object',
      properties: {
        finalizers: { type: 'array', items: { type: 'string', default: '' }, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
        generation: { type: 'integer', format: 'int64', minimum: 0 },
        name: { type: 'string', maxLength: 253, minLength: 1, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
      },
    },
    'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': { description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.', type: 'object' },
    'com.example.v1.Widget': {
      type: 'object',
      required: ['spec'],
      properties: {
        metadata: { allOf: [{ $ref: objectMetaRef }], description: 'metadata' },
        spec: {
          type: 'object',
          required: ['size'],
          properties: {
            size: { type: 'integer', minimum: 0, maximum: 100.5, exclusiveMaximum: true, multipleOf: 0.5, default: 1 },
            color: { type: 'string', enum: ['red', 'yes', 'no', '0777'] },
            port: { 'x-kubernetes-int-or-string': true },
            raw: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            tuple: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }], maxItems: 2, minItems: 1, uniqueItems: true },
            closed: { type: 'object', additionalProperties: false, maxProperties: 3, minProperties: 1 },
            readOnly: { type: 'string', readOnly: true, title: 'Read only', example: 'sample' },
            nothing: { type: 'string', default: null },
          },
          'x-kubernetes-validations': [{ rule: 'self.size <= 10 || has(self.color)', message: 'big widgets need a color' }],
        },
      },
      'x-kubernetes-group-version-kind': [gvk('example.com', 'v1', 'Widget')],
    },
  },
  parameters: {
    pretty: { uniqueItems: true, type: 'string', description: 'pretty-print', name: 'pretty', in: 'query' },
    body: { name: 'body', in: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } },
  },
  responses: { NotFound: { description: 'Not Found' } },
  securityDefinitions: { BearerToken: { description: 'Bearer Token authentication', type: 'apiKey', name: 'authorization', in: 'header' } },
  security: [{ BearerToken: [] }],
  tags: [{ name: 'core_v1', description: 'the core group' }],
  'x-top-level': { generatedBy: 'virtflow' },
};

// ---------------------------------------------------------------- reading the bytes by field number
// These checks use the numbers of github.com/google/gnostic-models openapiv2/OpenAPIv2.proto
// directly, not the definitions the encoder uses.

type Raw = Map<number, Array<Uint8Array | number>>;

function fields(bytes: Uint8Array): Raw {
  const reader = protobuf.Reader.create(bytes);
  const out: Raw = new Map();
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wire = tag & 7;
    const value = wire === 0 ? Number(reader.int64().toString()) : wire === 1 ? reader.double() : wire === 2 ? reader.bytes() : undefined;
    if (value === undefined) throw new Error(`unexpected wire type ${wire} for field ${id}`);
    out.set(id, [...(out.get(id) ?? []), value]);
  }
  return out;
}

const text = (b: Uint8Array | number | undefined) => Buffer.from(b as Uint8Array).toString('utf8');
/** The single length-delimited field `id` of a message, as that message's fields. */
function sub(msg: Raw, id: number): Raw {
  const values = msg.get(id);
  expect(values, `field ${id}`).toHaveLength(1);
  return fields(values![0] as Uint8Array);
}
/** In a repeated Named* field `id` ({name = 1, value = 2}), the value named `name`. */
function named(msg: Raw, id: number, name: string): Raw {
  const pair = (msg.get(id) ?? []).map((b) => fields(b as Uint8Array)).find((p) => text(p.get(1)?.[0]) === name);
  expect(pair, `${name} in field ${id}`).toBeDefined();
  return fields(pair!.get(2)![0] as Uint8Array);
}
const names = (msg: Raw, id: number) => (msg.get(id) ?? []).map((b) => text(fields(b as Uint8Array).get(1)?.[0]));
/** A NamedAny's Any.yaml (field 2), parsed. */
const yamlOf = (any: Raw) => YAML.parse(text(any.get(2)?.[0]), { version: '1.1' });

describe('acceptsOpenApiV2Protobuf', () => {
  it('matches what kubectl and client-go send, in either spelling', () => {
    expect(acceptsOpenApiV2Protobuf('application/com.github.proto-openapi.spec.v2@v1.0+protobuf')).toBe(true);
    expect(acceptsOpenApiV2Protobuf('application/com.github.proto-openapi.spec.v2.v1.0+protobuf')).toBe(true);
    expect(acceptsOpenApiV2Protobuf('application/json, application/com.github.proto-openapi.spec.v2@v1.0+protobuf;q=0.9')).toBe(true);
    expect(acceptsOpenApiV2Protobuf('application/json')).toBe(false);
    expect(acceptsOpenApiV2Protobuf('*/*')).toBe(false);
    expect(acceptsOpenApiV2Protobuf(undefined)).toBe(false);
  });

  it('answers with the media type kube-apiserver uses, which Go can parse', () => {
    expect(OPENAPI_V2_PROTOBUF).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    expect(OPENAPI_V2_PROTOBUF).not.toContain('@');
  });
});

describe('encodeOpenApiV2: the gnostic openapi.v2.Document wire format', () => {
  const bytes = encodeOpenApiV2(doc);
  const document = fields(bytes);

  it('Document: swagger = 1, info = 2, tags = 14, vendor_extension = 16', () => {
    expect(text(document.get(1)?.[0])).toBe('2.0');
    const info = sub(document, 2);
    expect(text(info.get(1)?.[0])).toBe('Kubernetes');
    expect(text(info.get(2)?.[0])).toBe('v1.31.0');
    const tag = sub(document, 14);
    expect(text(tag.get(1)?.[0])).toBe('core_v1');
    expect(text(tag.get(2)?.[0])).toBe('the core group');
    expect(names(document, 16)).toEqual(['x-top-level']);
    expect(yamlOf(named(document, 16, 'x-top-level'))).toEqual({ generatedBy: 'virtflow' });
  });

  it('Paths = 8: path = 2 (NamedPathItem), vendor_extension = 1', () => {
    const paths = sub(document, 8);
    expect(names(paths, 2)).toEqual(['/api/v1/namespaces/{namespace}/configmaps/{name}']);
    expect(yamlOf(named(paths, 1, 'x-paths-extension'))).toEqual({ note: 'kept' });
  });

  it('PathItem: get = 2, patch = 8, parameters = 9; Operation fields and its x-kubernetes-* extensions', () => {
    const item = named(sub(document, 8), 2, '/api/v1/namespaces/{namespace}/configmaps/{name}');
    const get = sub(item, 2);
    expect(text(get.get(1)?.[0])).toBe('core_v1'); // tags
    expect(text(get.get(3)?.[0])).toBe('read the specified ConfigMap'); // description
    expect(text(get.get(5)?.[0])).toBe('readCoreV1NamespacedConfigMap'); // operation_id
    expect(get.get(6)?.map(text)).toEqual(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']); // produces
    expect(get.get(7)?.map(text)).toEqual(['*/*']); // consumes
    expect(get.get(10)?.map(text)).toEqual(['https']); // schemes
    expect(names(get, 13)).toEqual(['x-kubernetes-action', 'x-kubernetes-group-version-kind']);
    expect(yamlOf(named(get, 13, 'x-kubernetes-action'))).toBe('get');
    expect(yamlOf(named(get, 13, 'x-kubernetes-group-version-kind'))).toEqual({ group: '', kind: 'ConfigMap', version: 'v1' });

    // parameters = 8: ParametersItem.parameter = 1 → Parameter.non_body_parameter = 2 → query_parameter_sub_schema = 3
    const query = sub(sub(sub(fields(get.get(8)![0] as Uint8Array), 1), 2), 3);
    expect(text(query.get(2)?.[0])).toBe('query'); // in
    expect(text(query.get(3)?.[0])).toBe('pretty-print'); // description
    expect(text(query.get(4)?.[0])).toBe('pretty'); // name
    expect(text(query.get(6)?.[0])).toBe('string'); // type
    expect(query.get(20)).toEqual([1]); // unique_items

    const patch = sub(item, 8);
    // ParametersItem.parameter = 1 → Parameter: body_parameter = 1 or non_body_parameter = 2
    const [body, ...others] = patch.get(8)!.map((b) => sub(fields(b as Uint8Array), 1));
    expect(others.map((p) => [...p.keys()])).toEqual([[2], [2], [2], [2]]);
    // BodyParameter: name = 2, in = 3, required = 4, schema = 5 (Schema._ref = 1)
    const bodyParameter = sub(body!, 1);
    expect(text(bodyParameter.get(2)?.[0])).toBe('body');
    expect(text(bodyParameter.get(3)?.[0])).toBe('body');
    expect(bodyParameter.get(4)).toEqual([1]);
    expect(text(sub(bodyParameter, 5).get(1)?.[0])).toBe('#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch');
    // NonBodyParameter: header = 1, form_data = 2, query = 3, path = 4
    const nonBody = others.map((p) => sub(p, 2));
    expect(nonBody.map((p) => [...p.keys()])).toEqual([[3], [3], [1], [2]]);
    const form = sub(nonBody[3]!, 2);
    expect(text(form.get(9)?.[0])).toBe('multi'); // collection_format
    expect(text(sub(form, 8).get(1)?.[0])).toBe('string'); // items: PrimitivesItems.type

    // PathItem.parameters = 9: path_parameter_sub_schema = 4 {required = 1, in = 2, name = 4, type = 5}; a $ref → json_reference = 2
    const [name, , ref] = item.get(9)!.map((b) => fields(b as Uint8Array));
    const pathParam = sub(sub(sub(name!, 1), 2), 4);
    expect(pathParam.get(1)).toEqual([1]);
    expect(text(pathParam.get(2)?.[0])).toBe('path');
    expect(text(pathParam.get(4)?.[0])).toBe('name');
    expect(text(pathParam.get(5)?.[0])).toBe('string');
    expect(text(sub(ref!, 2).get(1)?.[0])).toBe('#/parameters/pretty');
  });

  it('Responses = 9: response_code = 1 → ResponseValue.response = 1 {description = 1, schema = 2 (SchemaItem.schema = 1)}; $ref → json_reference = 2', () => {
    const item = named(sub(document, 8), 2, '/api/v1/namespaces/{namespace}/configmaps/{name}');
    const responses = sub(sub(item, 2), 9);
    expect(names(responses, 1)).toEqual(['200', '401', 'default']);
    const ok = sub(named(responses, 1, '200'), 1);
    expect(text(ok.get(1)?.[0])).toBe('OK');
    expect(text(sub(sub(ok, 2), 1).get(1)?.[0])).toBe('#/definitions/io.k8s.api.core.v1.ConfigMap');
    expect(text(sub(named(responses, 1, 'default'), 2).get(1)?.[0])).toBe('#/responses/NotFound');
    const patchOk = sub(named(sub(sub(item, 8), 9), 1, '200'), 1);
    expect(text(named(sub(patchOk, 3), 1, 'X-Rate').get(1)?.[0])).toBe('integer'); // headers = 3 → Header.type = 1
  });

  it('Definitions = 9 → Schema: type = 22, properties = 25, additional_properties = 21, vendor_extension = 31', () => {
    const definitions = sub(document, 9);
    expect(names(definitions, 1)).toEqual(Object.keys(doc.definitions));
    const configMap = named(definitions, 1, 'io.k8s.api.core.v1.ConfigMap');
    expect(text(configMap.get(4)?.[0])).toBe('ConfigMap holds configuration data for pods to consume.');
    expect(sub(configMap, 22).get(1)?.map(text)).toEqual(['object']);
    const properties = sub(configMap, 25);
    expect(names(properties, 1)).toEqual(['apiVersion', 'binaryData', 'data', 'immutable', 'metadata']);
    const binaryData = named(properties, 1, 'binaryData');
    const valueSchema = sub(sub(binaryData, 21), 1);
    expect(sub(valueSchema, 22).get(1)?.map(text)).toEqual(['string']);
    expect(text(valueSchema.get(2)?.[0])).toBe('byte'); // format
    const metadata = named(properties, 1, 'metadata');
    expect(text(metadata.get(1)?.[0])).toBe(objectMetaRef); // _ref
    expect(metadata.has(22)).toBe(false); // a reference has no type, or kubectl refuses it
    expect(yamlOf(named(configMap, 31, 'x-kubernetes-group-version-kind'))).toEqual([{ group: '', kind: 'ConfigMap', version: 'v1' }]);
  });

  it('Schema validations: required = 19, enum = 20, default = 5, numbers, items = 23, all_of = 24, additionalProperties: false', () => {
    const widget = named(sub(document, 9), 1, 'com.example.v1.Widget');
    expect(widget.get(19)?.map(text)).toEqual(['spec']);
    const spec = named(sub(widget, 25), 1, 'spec');
    expect(spec.get(19)?.map(text)).toEqual(['size']);
    const props = sub(spec, 25);
    const size = named(props, 1, 'size');
    expect(yamlOf(sub(size, 5))).toBe(1); // default
    // proto3 has no presence for scalars: minimum: 0 is not on the wire (nor is it from
    // kube-apiserver, whose gnostic Document is proto3 too); kubectl reads the absence as 0.
    expect(size.has(9)).toBe(false); // minimum
    expect(size.get(7)).toEqual([100.5]); // maximum (a double, wire type 1)
    expect(size.get(8)).toEqual([1]); // exclusive_maximum
    expect(size.get(6)).toEqual([0.5]); // multiple_of
    // enum values are YAML 1.1: "yes", "no" and "0777" must stay strings for kubectl's yaml.v2
    expect(named(props, 1, 'color').get(20)?.map((b) => yamlOf(fields(b as Uint8Array)))).toEqual(['red', 'yes', 'no', '0777']);
    expect(yamlOf(named(named(props, 1, 'port'), 31, 'x-kubernetes-int-or-string'))).toBe(true);
    const tuple = named(props, 1, 'tuple');
    expect(sub(tuple, 23).get(1)).toHaveLength(2); // ItemsItem.schema = 1, repeated
    expect([tuple.get(14), tuple.get(15), tuple.get(16)]).toEqual([[2], [1], [1]]); // max_items, min_items, unique_items
    const closed = named(props, 1, 'closed');
    expect(sub(closed, 21).get(2)).toEqual([0]); // AdditionalPropertiesItem.boolean = 2, false but present
    expect([closed.get(17), closed.get(18)]).toEqual([[3], [1]]); // max_properties, min_properties
    const readOnly = named(props, 1, 'readOnly');
    expect([readOnly.get(27), text(readOnly.get(3)?.[0]), yamlOf(sub(readOnly, 30))]).toEqual([[1], 'Read only', 'sample']);
    expect(yamlOf(sub(named(props, 1, 'nothing'), 5))).toBeNull(); // default: null survives
    const metadata = named(sub(widget, 25), 1, 'metadata');
    expect(text(sub(metadata, 24).get(1)?.[0])).toBe(objectMetaRef); // all_of[0]._ref
    expect(yamlOf(named(spec, 31, 'x-kubernetes-validations'))).toEqual([{ rule: 'self.size <= 10 || has(self.color)', message: 'big widgets need a color' }]);
    const name = named(sub(named(sub(document, 9), 1, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'), 25), 1, 'name');
    expect([name.get(11), name.get(12), text(name.get(13)?.[0])]).toEqual([[253], [1], '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$']);
  });

  it('an object schema with no properties still carries an (empty) Properties, so kubectl reads it as a kind', () => {
    const bytesOf = encodeOpenApiV2({ swagger: '2.0', definitions: { Empty: { type: 'object', properties: {} } } });
    const empty = named(sub(fields(bytesOf), 9), 1, 'Empty');
    expect(empty.get(25)?.map((b) => (b as Uint8Array).length)).toEqual([0]);
  });

  it('parameters = 10, responses = 11, security = 12, security_definitions = 13', () => {
    const parameters = sub(document, 10);
    expect(names(parameters, 1)).toEqual(['pretty', 'body']);
    expect([...named(parameters, 1, 'pretty').keys()]).toEqual([2]); // Parameter.non_body_parameter
    expect([...named(parameters, 1, 'body').keys()]).toEqual([1]); // Parameter.body_parameter
    expect(text(named(sub(document, 11), 1, 'NotFound').get(1)?.[0])).toBe('Not Found');
    const security = sub(document, 12);
    expect(names(security, 1)).toEqual(['BearerToken']);
    const scheme = sub(named(sub(document, 13), 1, 'BearerToken'), 2); // api_key_security = 2
    expect([1, 2, 3, 4].map((id) => text(scheme.get(id)?.[0]))).toEqual(['apiKey', 'authorization', 'header', 'Bearer Token authentication']);
  });
});

// ---------------------------------------------------------------- decoding back to Swagger JSON

/** The inverse of the encoder, over protobufjs' decoding with the encoder's own definitions. */
function toSwagger(type: protobuf.Type, msg: Record<string, any>): unknown {
  const of = (name: string) => openapiV2Root.lookupType(`openapi.v2.${name}`);
  const extensions = (list: any[] | undefined) => Object.fromEntries((list ?? []).map((e) => [e.name, YAML.parse(e.value.yaml, { version: '1.1' })]));
  const pairs = (list: any[] | undefined, valueType: protobuf.Type | null) =>
    Object.fromEntries((list ?? []).map((p) => [p.name, valueType ? toSwagger(valueType, p.value ?? {}) : p.value]));
  const oneof = () => toSwagger(type.fields[msg.oneof]!.resolvedType as protobuf.Type, msg[msg.oneof]);
  switch (type.name) {
    case 'Any':
      return YAML.parse(msg.yaml, { version: '1.1' });
    case 'TypeItem':
      return msg.value.length === 1 ? msg.value[0] : msg.value;
    case 'StringArray':
      return msg.value ?? [];
    case 'ItemsItem':
      return msg.schema.length === 1 ? toSwagger(of('Schema'), msg.schema[0]) : msg.schema.map((s: any) => toSwagger(of('Schema'), s));
    case 'AdditionalPropertiesItem':
      return msg.oneof === 'boolean' ? msg.boolean : oneof();
    case 'ParametersItem':
    case 'Parameter':
    case 'NonBodyParameter':
    case 'ResponseValue':
    case 'SchemaItem':
    case 'SecurityDefinitionsItem':
      return oneof();
    case 'Paths':
      return { ...pairs(msg.path, of('PathItem')), ...extensions(msg.vendor_extension) };
    case 'Responses':
      return { ...pairs(msg.response_code, of('ResponseValue')), ...extensions(msg.vendor_extension) };
  }
  if (type.fieldsArray.length === 1 && type.fields.additional_properties) {
    const valueField = (type.fields.additional_properties.resolvedType as protobuf.Type).fields.value!;
    return pairs(msg.additional_properties, valueField.resolvedType as protobuf.Type | null);
  }
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(msg)) {
    if (name === 'vendor_extension') {
      Object.assign(out, extensions(value));
      continue;
    }
    const field = type.fields[name]!;
    const key = name === '_ref' ? '$ref' : name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const convert = (v: any) => (field.resolvedType instanceof protobuf.Type ? toSwagger(field.resolvedType, v) : v);
    out[key] = field.repeated ? value.map(convert) : convert(value);
  }
  return out;
}

function decodeToSwagger(bytes: Uint8Array): unknown {
  const type = openapiV2Root.lookupType('openapi.v2.Document');
  return toSwagger(type, type.toObject(type.decode(bytes), { longs: Number, oneofs: true, defaults: false, arrays: false }));
}

/**
 * The document as it reads back from any proto3 encoding (kube-apiserver's included): scalar
 * fields at their zero value (0, false, "") are absent. Values kept as YAML (default, example,
 * enum, x-*) are whole, and additionalProperties: false is a oneof member, which is always sent.
 */
function withoutProto3Zeroes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutProto3Zeroes);
  if (typeof value !== 'object' || value === null) return value;
  const whole = (key: string, v: unknown) => ['default', 'example', 'enum'].includes(key) || key.startsWith('x-') || (key === 'additionalProperties' && typeof v === 'boolean');
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k, v]) => whole(k, v) || (v !== 0 && v !== false && v !== ''))
      .map(([k, v]) => [k, whole(k, v) ? v : withoutProto3Zeroes(v)]),
  );
}

describe('encodeOpenApiV2: round trip', () => {
  it('decodes back to the same Swagger document', () => {
    const expected = withoutProto3Zeroes(doc) as typeof doc;
    expect(expected.definitions['com.example.v1.Widget'].properties.spec.properties.size).not.toHaveProperty('minimum');
    expect(decodeToSwagger(encodeOpenApiV2(doc))).toEqual(expected);
  });

  it('drops what Swagger 2.0 does not have (OpenAPI v3 keywords) instead of failing', () => {
    const v3ish = { swagger: '2.0', definitions: { A: { type: 'object', nullable: true, anyOf: [{ required: ['x'] }], properties: { x: { type: 'string', oneOf: [] } } } } };
    expect(decodeToSwagger(encodeOpenApiV2(v3ish))).toEqual({ swagger: '2.0', definitions: { A: { type: 'object', properties: { x: { type: 'string' } } } } });
  });

  it('VirtFlow\'s own /openapi/v2 document survives the round trip', () => {
    const served = openapiV2(virtflowRegistry().all());
    expect(decodeToSwagger(encodeOpenApiV2(served))).toEqual(withoutProto3Zeroes(served));
  });
});

describe('encodeOpenApiV2: errors', () => {
  it('names the place where the document is not Swagger 2.0', () => {
    expect(() => encodeOpenApiV2({ swagger: '2.0', info: { title: 7 } })).toThrow('info.title: expected a string, got a number');
    expect(() => encodeOpenApiV2({ paths: { '/x': { get: { parameters: [{ name: 'a', in: 'cookie', type: 'string' }] } } } })).toThrow(
      `paths./x.get.parameters[0]: a parameter's "in" must be body, header, formData, query or path, got "cookie"`,
    );
    expect(() => encodeOpenApiV2({ definitions: { A: { properties: { n: { maxLength: 1.5 } } } } })).toThrow('definitions.A.properties.n.maxLength: expected an integer, got 1.5');
    expect(() => encodeOpenApiV2({ definitions: { A: { required: 'x' } } })).toThrow('definitions.A.required: expected an array, got a string');
    expect(() => encodeOpenApiV2({ securityDefinitions: { S: { type: 'mutualTLS' } } })).toThrow('unknown security scheme type "mutualTLS"');
  });
});

// ---------------------------------------------------------------- the real kubectl

function virtflowRegistry(): ResourceRegistry {
  const crd = YAML.parse(readFileSync(path.join(repoRoot, 'test/e2e/fixtures/widgets.example.com.yaml'), 'utf8')) as unknown;
  const registry = new ResourceRegistry();
  registry.follow({ list: () => [{ object: crd }], onEvent: () => {} } as unknown as WatchCache);
  return registry;
}

describe('kubectl reads the encoded /openapi/v2 to validate a kind: List', () => {
  let stub: StubServer;
  let serveV2As: 'protobuf' | 'json' = 'protobuf';
  const registry = virtflowRegistry();

  function handle(req: RecordedRequest): StubReply {
    const url = new URL(req.url, 'http://stub');
    const p = url.pathname;
    if (p === '/version') return json(200, { major: '1', minor: '32', gitVersion: 'v1.32.0' });
    if (p === '/api') return json(200, apiVersions('127.0.0.1'));
    if (p === '/apis') return json(200, apiGroupList(registry));
    if (p === '/api/v1') return json(200, apiResourceList(registry, '', 'v1'));
    const gv = /^\/apis\/([^/]+)\/([^/]+)$/.exec(p);
    if (gv) return json(200, apiResourceList(registry, gv[1]!, gv[2]!));
    if (p === '/openapi/v2') {
      const document = openapiV2(registry.all());
      if (serveV2As === 'protobuf' && acceptsOpenApiV2Protobuf(req.headers.accept)) {
        return { status: 200, contentType: OPENAPI_V2_PROTOBUF, body: encodeOpenApiV2(document), headers: { Vary: 'Accept' } };
      }
      return json(200, document);
    }
    // No object exists yet: kubectl apply creates (here, a client-side dry run).
    return json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
  }

  beforeAll(async () => {
    stub = await startStubServer(handle);
  });
  afterAll(() => stub.close());

  const list = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
  const widget = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name }, spec });
  const configMap = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data: { a: 'b' } });

  it('accepts a valid List after fetching /openapi/v2 as protobuf', async () => {
    serveV2As = 'protobuf';
    const before = stub.requests.length;
    const res = await stub.kubectl(['apply', '--dry-run=client', '--validate=true', '-f', '-'], list([widget('w-list-a', { size: 1 }), configMap('cm-a')]));
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('widget.example.com/w-list-a created (dry run)\nconfigmap/cm-a created (dry run)\n');
    const fetched = stub.requests.slice(before).filter((r) => r.url.startsWith('/openapi/v2'));
    expect(fetched).toHaveLength(1);
    expect(fetched[0]!.headers.accept).toBe('application/com.github.proto-openapi.spec.v2@v1.0+protobuf');
  });

  it('validates the items with the schemas it decoded (CRD and built-in)', async () => {
    serveV2As = 'protobuf';
    const res = await stub.kubectl(
      ['apply', '--dry-run=client', '--validate=true', '-f', '-'],
      list([widget('w-bad', { size: 'big', shape: 'round' }), configMap('cm-bad', { labelz: { a: 'b' } })]),
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('unknown field "shape" in com.example.v1.Widget.spec');
    expect(res.stderr).toContain('invalid type for com.example.v1.Widget.spec.size: got "string", expected "integer"');
    expect(res.stderr).toContain('unknown field "labelz" in io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    expect(res.stderr).not.toContain('wire-format');
  });

  it('(control) fails as E2E-4 describes when /openapi/v2 answers JSON', async () => {
    serveV2As = 'json';
    const res = await stub.kubectl(['apply', '--dry-run=client', '--validate=true', '-f', '-'], list([widget('w-list-a', { size: 1 })]));
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('cannot parse invalid wire-format data');
  });
});

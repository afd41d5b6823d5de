// Encodes the Swagger 2.0 document served at /openapi/v2 as the gnostic `openapi.v2.Document`
// protobuf, which is what kube-apiserver answers to
// `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf` and all client-go's
// discovery.OpenAPISchema() can read (kubectl's v2-based validation, `kubectl apply` of a
// `kind: List`, `kubectl diff`, ...).
//
// The mapping is gnostic's (the JSON is parsed the way gnostic's ParseDocument does before
// kube-apiserver marshals it): keys become the snake_case fields of the message, `$ref`
// becomes `_ref`, `x-*` keys become `vendor_extension` NamedAny entries whose Any carries the
// value as YAML, JSON objects used as maps become repeated Named* pairs in document order, and
// the oneof wrappers (ParametersItem, Parameter, NonBodyParameter, ResponseValue, SchemaItem,
// AdditionalPropertiesItem, SecurityDefinitionsItem) pick their member from the JSON's shape.
// Keys Swagger 2.0 does not define are ignored.
import protobuf from 'protobufjs';
import { toYaml } from '../machinery/yaml.js';
import { openapiV2Proto } from './openapiv2-proto.js';

/**
 * The Content-Type to answer with. Clients ask for `...spec.v2@v1.0+protobuf` (the deprecated
 * name kubectl still sends) or `...spec.v2.v1.0+protobuf`; kube-apiserver answers both with this
 * one, and it must: client-go parses the response type with Go's mime.ParseMediaType, which
 * rejects the `@` ("mime: unexpected content after media subtype").
 */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/** True when an Accept header asks for the protobuf form of /openapi/v2 (either name). */
export function acceptsOpenApiV2Protobuf(accept: string | undefined): boolean {
  return (accept ?? '').toLowerCase().includes('application/com.github.proto-openapi.spec.v2');
}

const root = protobuf.parse(openapiV2Proto, { keepCase: true }).root;
root.resolveAll();
const documentType = root.lookupType('openapi.v2.Document');

/** The gnostic message definitions used here, for tests and for decoding. */
export const openapiV2Root: protobuf.Root = root;

type Json = unknown;
type Message = Record<string, unknown>;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(path: string, message: string): never {
  throw new Error(`cannot encode the OpenAPI v2 document as protobuf: ${path || 'document'}: ${message}`);
}

function describe(value: Json): string {
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
}

const snake = (key: string) => (key === '$ref' ? '_ref' : key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
const join = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

// The same few extension values (x-kubernetes-action, group-version-kinds) recur hundreds of
// times in a document, and YAML encoding dominates the encoding time: remember them.
const yamlCache = new Map<string, string>();

/** gnostic keeps extension and example values as YAML text; kubectl reads them with YAML 1.1. */
function anyOf(value: Json): Message {
  const key = JSON.stringify(value) ?? 'null';
  let yaml = yamlCache.get(key);
  if (yaml === undefined) {
    yaml = toYaml(value);
    if (yamlCache.size >= 4096) yamlCache.clear();
    yamlCache.set(key, yaml);
  }
  return { yaml };
}

function vendorExtension(name: string, value: Json): Message {
  return { name, value: anyOf(value) };
}

function scalar(field: protobuf.FieldBase, value: Json, path: string): unknown {
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') fail(path, `expected a string, got ${describe(value)}`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') fail(path, `expected a boolean, got ${describe(value)}`);
      return value;
    case 'double':
      if (typeof value !== 'number') fail(path, `expected a number, got ${describe(value)}`);
      return value;
    case 'int64':
      if (typeof value !== 'number' || !Number.isInteger(value)) fail(path, `expected an integer, got ${JSON.stringify(value)}`);
      return value;
    default:
      return fail(path, `internal: unsupported field type ${field.type}`);
  }
}

function fieldValue(field: protobuf.FieldBase, value: Json, path: string): unknown {
  return field.resolvedType instanceof protobuf.Type ? message(field.resolvedType, value, path) : scalar(field, value, path);
}

/** `{name: value, ...}` as the repeated Named* pairs of `type` (a Named* message). */
function namedPairs(type: protobuf.Type, value: Json, path: string, include: (key: string) => boolean = () => true): Message[] {
  if (!isObject(value)) fail(path, `expected an object, got ${describe(value)}`);
  const valueField = type.fields.value!;
  return Object.entries(value)
    .filter(([key]) => include(key))
    .map(([name, v]) => ({ name, value: fieldValue(valueField, v, join(path, name)) }));
}

function extensionsOf(value: Record<string, Json>): Message[] {
  return Object.entries(value)
    .filter(([key]) => key.startsWith('x-'))
    .map(([key, v]) => vendorExtension(key, v));
}

/** The member of a oneof wrapper: `{[member]: <that member's message>}`. */
function oneof(type: protobuf.Type, member: string, value: Json, path: string): Message {
  const field = type.fields[member];
  if (!field) fail(path, `internal: ${type.name} has no member ${member}`);
  return { [member]: fieldValue(field, value, path) };
}

const nonBodyMembers: Record<string, string> = {
  header: 'header_parameter_sub_schema',
  formData: 'form_data_parameter_sub_schema',
  query: 'query_parameter_sub_schema',
  path: 'path_parameter_sub_schema',
};

const oauth2Members: Record<string, string> = {
  implicit: 'oauth2_implicit_security',
  password: 'oauth2_password_security',
  application: 'oauth2_application_security',
  accessCode: 'oauth2_access_code_security',
};

function message(type: protobuf.Type, value: Json, path: string): Message {
  switch (type.name) {
    case 'Any':
      return anyOf(value);
    case 'TypeItem':
      return { value: (Array.isArray(value) ? value : [value]).map((t, i) => scalar(type.fields.value!, t, join(path, i))) };
    case 'StringArray':
      if (!Array.isArray(value)) fail(path, `expected an array, got ${describe(value)}`);
      return { value: value.map((t, i) => scalar(type.fields.value!, t, join(path, i))) };
    case 'ItemsItem':
      return { schema: (Array.isArray(value) ? value : [value]).map((s, i) => message(type.fields.schema!.resolvedType as protobuf.Type, s, Array.isArray(value) ? join(path, i) : path)) };
    case 'AdditionalPropertiesItem':
      return typeof value === 'boolean' ? { boolean: value } : oneof(type, 'schema', value, path);
    case 'ParametersItem':
    case 'ResponseValue':
      if (isObject(value) && typeof value.$ref === 'string') return oneof(type, 'json_reference', value, path);
      return oneof(type, type.name === 'ParametersItem' ? 'parameter' : 'response', value, path);
    case 'Parameter':
      return oneof(type, isObject(value) && value.in === 'body' ? 'body_parameter' : 'non_body_parameter', value, path);
    case 'NonBodyParameter': {
      const where = isObject(value) ? value.in : undefined;
      const member = typeof where === 'string' ? nonBodyMembers[where] : undefined;
      if (!member) fail(path, `a parameter's "in" must be body, header, formData, query or path, got ${JSON.stringify(where)}`);
      return oneof(type, member, value, path);
    }
    case 'SchemaItem':
      return oneof(type, isObject(value) && value.type === 'file' ? 'file_schema' : 'schema', value, path);
    case 'SecurityDefinitionsItem': {
      const kind = isObject(value) ? value.type : undefined;
      const member =
        kind === 'basic' ? 'basic_authentication_security' : kind === 'apiKey' ? 'api_key_security' : kind === 'oauth2' && isObject(value) ? oauth2Members[String(value.flow)] : undefined;
      if (!member) fail(path, `unknown security scheme type ${JSON.stringify(kind)}`);
      return oneof(type, member, value, path);
    }
    case 'Paths':
      if (!isObject(value)) fail(path, `expected an object, got ${describe(value)}`);
      return {
        vendor_extension: extensionsOf(value),
        path: namedPairs(type.fields.path!.resolvedType as protobuf.Type, value, path, (key) => key.startsWith('/')),
      };
    case 'Responses':
      if (!isObject(value)) fail(path, `expected an object, got ${describe(value)}`);
      return {
        response_code: namedPairs(type.fields.response_code!.resolvedType as protobuf.Type, value, path, (key) => /^([0-9]{3}|default)$/.test(key)),
        vendor_extension: extensionsOf(value),
      };
  }
  // Objects used as maps: Definitions, Properties, SecurityRequirement, Headers, ...
  const pairs = type.fields.additional_properties;
  if (pairs && type.fieldsArray.length === 1) {
    return { additional_properties: namedPairs(pairs.resolvedType as protobuf.Type, value, path) };
  }
  if (!isObject(value)) fail(path, `expected an object, got ${describe(value)}`);
  const out: Message = {};
  for (const [key, v] of Object.entries(value)) {
    const at = join(path, key);
    if (key.startsWith('x-')) {
      if (type.fields.vendor_extension) ((out.vendor_extension ??= []) as Message[]).push(vendorExtension(key, v));
      continue;
    }
    const field = type.fields[snake(key)];
    if (!field || field.name === 'vendor_extension' || v === undefined) continue;
    if (v === null && (field.resolvedType as protobuf.Type | null)?.name !== 'Any') continue;
    if (field.repeated) {
      if (!Array.isArray(v)) fail(at, `expected an array, got ${describe(v)}`);
      out[field.name] = v.map((item, i) => fieldValue(field, item, join(at, i)));
    } else {
      out[field.name] = fieldValue(field, v, at);
    }
  }
  return out;
}

/**
 * The Swagger 2.0 document as the bytes of a gnostic openapi.v2.Document. Throws when the
 * document is not Swagger 2.0 shaped (a string where an object belongs, a parameter with an
 * unknown `in`, ...).
 */
export function encodeOpenApiV2(doc: object): Uint8Array {
  const document = message(documentType, doc, '');
  return documentType.encode(document).finish();
}

// Turns a CRD's OpenAPI v3.0 schema into a JSON Schema ajv can compile, keeping Kubernetes'
// meaning: x-kubernetes-int-or-string is "integer or string", nullable admits null, the
// boolean exclusiveMinimum/Maximum of OpenAPI 3.0 become draft-07 numbers, and the object's
// apiVersion/kind/metadata are left to the server (only metadata.name/generateName rules stay).

import { Ajv, type Format, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { isPlainObject } from '../machinery/object.js';
import type { JSONSchemaProps } from '../machinery/resource.js';
import { re2Engine } from './re2-pattern.js';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/** Extensions Kubernetes defines; ajv must know them as (inert) keywords. */
const kubernetesKeywords = [
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
  'x-kubernetes-group-version-kind',
];

/** Go duration ("1h30m", "250ms"), which is what Kubernetes' "duration" format accepts. */
const goDuration = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$|^[-+]?0$/;

function createAjv(): Ajv {
  // `pattern` runs on RE2, in linear time (see re2-pattern.ts).
  const ajv = new Ajv({ strict: false, allErrors: true, verbose: true, logger: false, code: { regExp: re2Engine } });
  addFormats(ajv);
  for (const name of ['int32', 'int64', 'float', 'double', 'password']) ajv.addFormat(name, true);
  ajv.addFormat('duration', goDuration);
  ajv.addFormat('datetime', ajv.formats['date-time'] as Format);
  ajv.addFormat('cidr', /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/);
  ajv.addFormat('mac', /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/);
  for (const keyword of kubernetesKeywords) ajv.addKeyword(keyword);
  return ajv;
}

let sharedAjv: Ajv | undefined;

function ajv(): Ajv {
  sharedAjv ??= createAjv();
  return sharedAjv;
}

/** Compiles a Kubernetes object schema; compile once per schema, it is not cheap. */
export function compileAjv(schema: JSONSchemaProps): ValidateFunction {
  return ajv().compile(toAjvSchema(schema, true) as Record<string, unknown>);
}

function withNull(type: unknown): unknown {
  if (Array.isArray(type)) return type.includes('null') ? type : [...type, 'null'];
  return typeof type === 'string' ? [type, 'null'] : type;
}

export function toAjvSchema(schema: unknown, isResourceRoot: boolean): unknown {
  if (!isPlainObject(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    switch (key) {
      case 'properties':
        out.properties = convertProperties(value, isResourceRoot || schema['x-kubernetes-embedded-resource'] === true);
        break;
      case 'items':
      case 'additionalProperties':
      case 'not':
        out[key] = toAjvSchema(value, false);
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        out[key] = Array.isArray(value) ? value.map((s) => toAjvSchema(s, false)) : value;
        break;
      case 'required':
        out.required = isResourceRoot && Array.isArray(value) ? value.filter((name) => !isMetaField(name)) : value;
        break;
      case 'nullable':
      case 'default':
      case 'example':
      case 'x-kubernetes-validations':
        break;
      default:
        out[key] = value;
    }
  }
  if (schema['x-kubernetes-int-or-string'] === true && out.type === undefined) out.type = ['integer', 'string'];
  convertExclusiveBound(out, 'minimum', 'exclusiveMinimum');
  convertExclusiveBound(out, 'maximum', 'exclusiveMaximum');
  if (schema.nullable === true) {
    out.type = withNull(out.type);
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  return out;
}

function isMetaField(name: unknown): boolean {
  return name === 'apiVersion' || name === 'kind' || name === 'metadata';
}

function convertProperties(value: unknown, isResource: boolean): unknown {
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(value)) {
    if (isResource && isMetaField(name)) {
      if (name === 'metadata') out.metadata = metadataNameRules(prop);
      continue;
    }
    out[name] = toAjvSchema(prop, false);
  }
  return out;
}

/** Keeps only what a CRD may say about metadata: rules on name and generateName. */
function metadataNameRules(metadata: unknown): unknown {
  const props = isPlainObject(metadata) && isPlainObject(metadata.properties) ? metadata.properties : {};
  const kept: Record<string, unknown> = {};
  for (const name of ['name', 'generateName']) {
    if (props[name] !== undefined) kept[name] = toAjvSchema(props[name], false);
  }
  return { type: 'object', properties: kept };
}

/** OpenAPI 3.0: `minimum: 1, exclusiveMinimum: true`; draft-07: `exclusiveMinimum: 1`. */
function convertExclusiveBound(out: Record<string, unknown>, bound: string, exclusive: string): void {
  if (typeof out[exclusive] !== 'boolean') return;
  if (out[exclusive] === true && typeof out[bound] === 'number') {
    out[exclusive] = out[bound];
    delete out[bound];
  } else {
    delete out[exclusive];
  }
}

/** Compiles the schema of one field (not a whole object), e.g. to check its default. */
export function compileAjvForField(schema: JSONSchemaProps): ValidateFunction {
  return ajv().compile(toAjvSchema(schema, false) as Record<string, unknown>);
}

// Translates ajv errors into the causes kube-apiserver returns for a custom resource
// (apiextensions' kubeOpenAPIResultToFieldErrors over go-openapi messages): the field path
// in Kubernetes form and messages such as
// `Invalid value: "string": spec.replicas in body must be of type integer: "string"`.

import type { ErrorObject } from 'ajv';
import type { StatusCause } from '../machinery/errors.js';
import { isPlainObject } from '../machinery/object.js';
import { fieldError } from './field-errors.js';
import { re2PatternError } from './re2-pattern.js';

/** The JSON type name go-openapi reports for a decoded value. */
export function jsonTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function decodePointerSegment(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** "/spec/pools/0/name" -> "spec.pools[0].name", using the object to tell indexes from keys. */
export function kubernetesPath(root: unknown, instancePath: string): string {
  if (!instancePath) return '';
  let path = '';
  let current: unknown = root;
  for (const raw of instancePath.slice(1).split('/')) {
    const segment = decodePointerSegment(raw);
    if (Array.isArray(current)) {
      path += `[${segment}]`;
      current = current[Number(segment)];
    } else {
      path = path ? `${path}.${segment}` : segment;
      current = isPlainObject(current) ? current[segment] : undefined;
    }
  }
  return path;
}

function joinPath(parent: string, name: string): string {
  return parent ? `${parent}.${name}` : name;
}

function inBody(path: string, detail: string): string {
  return path ? `${path} in body ${detail}` : `in body ${detail}`;
}

function sizeOf(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  return isPlainObject(value) ? Object.keys(value).length : 0;
}

function describeAllowed(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const boundDetails: Record<string, string> = {
  minimum: 'should be greater than or equal to',
  exclusiveMinimum: 'should be greater than',
  maximum: 'should be less than or equal to',
  exclusiveMaximum: 'should be less than',
};

/** One cause per ajv error, in ajv's order. */
export function causesFromAjv(errors: ErrorObject[] | null | undefined, root: unknown): StatusCause[] {
  if (!errors) return [];
  return errors.map((error) => causeFromAjv(error, root));
}

function causeFromAjv(error: ErrorObject, root: unknown): StatusCause {
  const path = kubernetesPath(root, error.instancePath);
  const data: unknown = error.data;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return fieldError.required(joinPath(path, String(params.missingProperty)));
    case 'type': {
      const expected = Array.isArray(params.type) ? params.type.join(',') : String(params.type);
      const actual = jsonTypeName(data);
      return fieldError.typeInvalid(path, actual, inBody(path, `must be of type ${expected}: ${JSON.stringify(actual)}`));
    }
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues : [];
      return fieldError.notSupported(path, data, allowed.map(describeAllowed));
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return fieldError.invalid(path, data, inBody(path, `${boundDetails[error.keyword]} ${params.limit}`));
    case 'minLength':
      return fieldError.invalid(path, data, inBody(path, `should be at least ${params.limit} chars long`));
    case 'maxLength':
      return fieldError.tooLong(path, Number(params.limit));
    case 'minItems':
      return fieldError.invalid(path, sizeOf(data), inBody(path, `should have at least ${params.limit} items`));
    case 'maxItems':
    case 'maxProperties':
      return fieldError.tooMany(path, sizeOf(data), Number(params.limit));
    case 'minProperties':
      return fieldError.invalid(path, sizeOf(data), inBody(path, `should have at least ${params.limit} properties`));
    case 'pattern': {
      const unusable = re2PatternError(String(params.pattern));
      const detail = unusable === undefined ? '' : ` (the schema's pattern is not a valid RE2 regular expression: ${unusable})`;
      return fieldError.invalid(path, data, inBody(path, `should match '${params.pattern}'${detail}`));
    }
    case 'format':
      return fieldError.invalid(path, data, inBody(path, `must be of type ${params.format}: ${JSON.stringify(data)}`));
    case 'multipleOf':
      return fieldError.invalid(path, data, inBody(path, `should be a multiple of ${params.multipleOf}`));
    case 'uniqueItems':
      return fieldError.invalid(path, data, inBody(path, "shouldn't contain duplicates"));
    case 'additionalProperties': {
      const extra = joinPath(path, String(params.additionalProperty));
      return fieldError.invalid(extra, '', inBody(extra, 'is a forbidden property'));
    }
    case 'anyOf':
      return fieldError.invalid(path, data, inBody(path, 'must validate at least one schema (anyOf)'));
    case 'oneOf':
      return fieldError.invalid(path, data, inBody(path, 'must validate one and only one schema (oneOf)'));
    case 'not':
      return fieldError.invalid(path, data, inBody(path, 'must not validate the schema (not)'));
    default:
      return fieldError.invalid(path, data, inBody(path, error.message ?? `failed ${error.keyword}`));
  }
}

// The rules apiextensions-apiserver applies to a CRD's openAPIV3Schema before it will serve
// the kind: the API-level checks (ValidateCustomResourceDefinitionOpenAPISchema) and the
// structural-schema invariants (schema/validation.go). A structural schema is what makes
// pruning, defaulting and OpenAPI publishing well defined, so a CRD that fails them is refused.

import type { StatusCause } from '../machinery/errors.js';
import { isPlainObject } from '../machinery/object.js';
import type { JSONSchemaProps } from '../machinery/resource.js';
import { causeToString, fieldError, fieldPath } from './field-errors.js';
import { re2PatternError } from './re2-pattern.js';

export const DEFAULT_SCHEMA_PATH = 'spec.versions[0].schema.openAPIV3Schema';

const openapiV3Types = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const metaFields = new Set(['metadata', 'apiVersion', 'kind']);
const unsupportedKeywords = ['id', 'additionalItems', 'patternProperties', 'definitions', 'dependencies'];
const logicJunctors = ['allOf', 'anyOf', 'oneOf'] as const;

type Level = 'root' | 'item' | 'field';

interface Context {
  level: Level;
  insideResourceMeta: boolean;
  /** Why defaults are refused here ("in top-level metadata"), when they are. */
  forbidDefaults?: string;
}

const typeRequiredDetail: Record<Level, string> = {
  root: 'must not be empty at the root',
  item: 'must not be empty for specified array items',
  field: 'must not be empty for specified object fields',
};

/** Every violation, sorted like ValidateStructural sorts them, so output is stable. */
export function checkStructural(
  schema: JSONSchemaProps,
  path: string = DEFAULT_SCHEMA_PATH,
): StatusCause[] {
  const causes: StatusCause[] = [];
  checkNode(schema, path, { level: 'root', insideResourceMeta: false }, causes);
  checkCompleteness(schema, path, causes);
  return dedupeAndSort(causes);
}

function dedupeAndSort(causes: StatusCause[]): StatusCause[] {
  const byText = new Map<string, StatusCause>();
  for (const cause of causes) byText.set(causeToString(cause), cause);
  return [...byText.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c);
}

function schemaType(s: Record<string, unknown>): string {
  return typeof s.type === 'string' ? s.type : '';
}

function propertiesOf(s: Record<string, unknown>): Record<string, unknown> {
  return isPlainObject(s.properties) ? s.properties : {};
}

function checkNode(s: unknown, path: string, ctx: Context, out: StatusCause[]): void {
  if (!isPlainObject(s)) {
    out.push(fieldError.invalid(path, s, 'must be a JSON schema object'));
    return;
  }
  checkApiRules(s, path, ctx, out);
  checkListAndMapTypes(s, path, out);
  checkInvariants(s, path, ctx, out);
  recurse(s, path, ctx, out);
}

/** What the API validation of JSONSchemaProps refuses regardless of structure. */
function checkApiRules(s: Record<string, unknown>, path: string, ctx: Context, out: StatusCause[]): void {
  const type = s.type;
  if (type === 'null') {
    out.push(fieldError.forbidden(fieldPath.child(path, 'type'), 'type cannot be set to null, use nullable as an alternative'));
  } else if (type !== undefined && (typeof type !== 'string' || (type !== '' && !openapiV3Types.includes(type)))) {
    out.push(fieldError.notSupported(fieldPath.child(path, 'type'), type, openapiV3Types));
  }
  if (s.default !== undefined && ctx.forbidDefaults) {
    out.push(fieldError.forbidden(fieldPath.child(path, 'default'), `must not be set ${ctx.forbidDefaults}`));
  }
  for (const keyword of unsupportedKeywords) {
    if (s[keyword] !== undefined) {
      out.push(fieldError.forbidden(fieldPath.child(path, keyword), `${keyword} is not supported`));
    }
  }
  if (s.$ref !== undefined) out.push(fieldError.forbidden(fieldPath.child(path, '$ref'), '$ref is not supported'));
  if (Array.isArray(s.items)) {
    out.push(fieldError.forbidden(fieldPath.child(path, 'items'), 'items must be a schema object and not an array'));
  }
  if (ctx.insideResourceMeta && s['x-kubernetes-embedded-resource'] === true) {
    out.push(fieldError.forbidden(fieldPath.child(path, 'x-kubernetes-embedded-resource'), 'must not be used inside of resource meta'));
  }
  if (s.uniqueItems === true) {
    out.push(fieldError.forbidden(fieldPath.child(path, 'uniqueItems'), 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  }
  const additional = s.additionalProperties;
  if (additional !== undefined && Object.keys(propertiesOf(s)).length > 0 && (additional === false || isPlainObject(additional))) {
    out.push(fieldError.forbidden(fieldPath.child(path, 'additionalProperties'), 'additionalProperties and properties are mutual exclusive'));
  }
  if (s['x-kubernetes-preserve-unknown-fields'] === false) {
    out.push(fieldError.invalid(fieldPath.child(path, 'x-kubernetes-preserve-unknown-fields'), false, 'must be true or undefined'));
  }
  if (typeof s.pattern === 'string') {
    // RE2, as Go's regexp.Compile: lookarounds and backreferences are refused here.
    const error = re2PatternError(s.pattern);
    if (error !== undefined) {
      out.push(fieldError.invalid(fieldPath.child(path, 'pattern'), s.pattern, `must be a valid regular expression, but isn't: ${error}`));
    }
  }
}

function checkListAndMapTypes(s: Record<string, unknown>, path: string, out: StatusCause[]): void {
  const type = schemaType(s);
  const mapType = s['x-kubernetes-map-type'];
  if (mapType !== undefined) {
    if (type !== 'object') {
      out.push(requiredOrInvalidType(path, type, 'must be object if x-kubernetes-map-type is specified'));
    }
    if (mapType !== 'atomic' && mapType !== 'granular') {
      out.push(fieldError.notSupported(fieldPath.child(path, 'x-kubernetes-map-type'), mapType, ['atomic', 'granular']));
    }
  }
  const listType = s['x-kubernetes-list-type'];
  if (listType !== undefined) {
    if (type !== 'array') {
      out.push(requiredOrInvalidType(path, type, 'must be array if x-kubernetes-list-type is specified'));
    }
    if (listType !== 'atomic' && listType !== 'set' && listType !== 'map') {
      out.push(fieldError.notSupported(fieldPath.child(path, 'x-kubernetes-list-type'), listType, ['atomic', 'set', 'map']));
    }
  }
  const mapKeys = Array.isArray(s['x-kubernetes-list-map-keys']) ? (s['x-kubernetes-list-map-keys'] as unknown[]) : [];
  if (mapKeys.length > 0) {
    if (listType === undefined) {
      out.push(fieldError.required(fieldPath.child(path, 'x-kubernetes-list-type'), 'must be map if x-kubernetes-list-map-keys is non-empty'));
    } else if (listType !== 'map') {
      out.push(fieldError.invalid(fieldPath.child(path, 'x-kubernetes-list-type'), listType, 'must be map if x-kubernetes-list-map-keys is non-empty'));
    }
  }
  if (listType === 'map') checkMapList(s, path, mapKeys, out);
}

function checkMapList(s: Record<string, unknown>, path: string, mapKeys: unknown[], out: StatusCause[]): void {
  const keysPath = fieldPath.child(path, 'x-kubernetes-list-map-keys');
  if (mapKeys.length === 0) {
    out.push(fieldError.required(keysPath, 'must not be empty if x-kubernetes-list-type is map'));
  }
  const items = s.items;
  const itemsPath = fieldPath.child(path, 'items');
  if (items === undefined) {
    out.push(fieldError.required(itemsPath, 'must have a schema if x-kubernetes-list-type is map'));
    return;
  }
  if (!isPlainObject(items)) return;
  if (schemaType(items) !== 'object') {
    out.push(fieldError.invalid(fieldPath.child(itemsPath, 'type'), schemaType(items), "must be object if parent array's x-kubernetes-list-type is map"));
    return;
  }
  const itemProps = propertiesOf(items);
  const required = Array.isArray(items.required) ? items.required : [];
  const seen = new Set<unknown>();
  for (const key of mapKeys) {
    const prop = typeof key === 'string' ? itemProps[key] : undefined;
    if (!isPlainObject(prop)) {
      out.push(fieldError.invalid(keysPath, mapKeys, 'entries must all be names of item properties'));
    } else {
      const propPath = fieldPath.key(fieldPath.child(itemsPath, 'properties'), String(key));
      if (prop.type === 'array' || prop.type === 'object') {
        out.push(fieldError.invalid(fieldPath.child(propPath, 'type'), prop.type, "must be a scalar type if parent array's x-kubernetes-list-type is map"));
      }
      if (!required.includes(key) && prop.default === undefined) {
        out.push(fieldError.required(fieldPath.child(propPath, 'default'), 'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property'));
      }
    }
    if (seen.has(key)) out.push(fieldError.invalid(keysPath, mapKeys, 'must not contain duplicate entries'));
    seen.add(key);
  }
}

function requiredOrInvalidType(path: string, type: string, detail: string): StatusCause {
  const typePath = fieldPath.child(path, 'type');
  return type ? fieldError.invalid(typePath, type, detail) : fieldError.required(typePath, detail);
}

/** validateStructuralInvariants: every value has a type, metadata is only name/generateName. */
function checkInvariants(s: Record<string, unknown>, path: string, ctx: Context, out: StatusCause[]): void {
  const type = schemaType(s);
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;

  if (type === 'array' && s.items === undefined) {
    out.push(fieldError.required(fieldPath.child(path, 'items'), 'must be specified'));
  }
  if (s.additionalProperties !== undefined && ctx.level === 'root') {
    out.push(fieldError.forbidden(fieldPath.child(path, 'additionalProperties'), 'must not be used at the root'));
  }
  if (intOrString && preserve) {
    out.push(fieldError.invalid(fieldPath.child(path, 'x-kubernetes-preserve-unknown-fields'), true, 'must be false if x-kubernetes-int-or-string is true'));
  }
  if (intOrString && embedded) {
    out.push(fieldError.invalid(fieldPath.child(path, 'x-kubernetes-embedded-resource'), true, 'must be false if x-kubernetes-int-or-string is true'));
  }
  if (embedded && type !== 'object') {
    out.push(requiredOrInvalidType(path, type, 'must be object if x-kubernetes-embedded-resource is true'));
  } else if (!type && !intOrString && !preserve) {
    out.push(fieldError.required(fieldPath.child(path, 'type'), typeRequiredDetail[ctx.level]));
  }
  if (embedded && s.additionalProperties !== undefined) {
    out.push(fieldError.forbidden(fieldPath.child(path, 'additionalProperties'), 'must not be used if x-kubernetes-embedded-resource is set'));
  }
  if (ctx.level === 'root' && type && type !== 'object') {
    out.push(fieldError.invalid(fieldPath.child(path, 'type'), type, 'must be object at the root'));
  }
  if (ctx.level === 'root' || embedded) checkResourceFields(s, path, out);
  if (ctx.level === 'root') checkRootMetadata(s, path, out);
  if (embedded && !preserve && Object.keys(propertiesOf(s)).length === 0) {
    out.push(fieldError.required(fieldPath.child(path, 'properties'), 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
}

function checkResourceFields(s: Record<string, unknown>, path: string, out: StatusCause[]): void {
  const props = propertiesOf(s);
  const propsPath = fieldPath.child(path, 'properties');
  for (const name of ['kind', 'apiVersion']) {
    const prop = props[name];
    if (isPlainObject(prop) && prop.type !== 'string') {
      out.push(fieldError.invalid(fieldPath.child(fieldPath.key(propsPath, name), 'type'), schemaType(prop), 'must be string'));
    }
  }
  const metadata = props.metadata;
  if (isPlainObject(metadata) && metadata.type !== 'object') {
    out.push(fieldError.invalid(fieldPath.child(fieldPath.key(propsPath, 'metadata'), 'type'), schemaType(metadata), 'must be object'));
  }
}

/** Top-level metadata may only narrow name and generateName: the server owns the rest. */
function checkRootMetadata(s: Record<string, unknown>, path: string, out: StatusCause[]): void {
  const metadata = propertiesOf(s).metadata;
  if (!isPlainObject(metadata)) return;
  const allowedKeys = new Set(['type', 'properties', 'default']);
  const onlyNameRules = Object.keys(propertiesOf(metadata)).every((k) => k === 'name' || k === 'generateName');
  const onlyAllowedKeys = Object.keys(metadata).every((k) => allowedKeys.has(k));
  if (!onlyNameRules || !onlyAllowedKeys) {
    out.push(
      fieldError.forbidden(
        fieldPath.key(fieldPath.child(path, 'properties'), 'metadata'),
        'must not specify anything other than name and generateName, but metadata is implicitly specified',
      ),
    );
  }
}

function recurse(s: Record<string, unknown>, path: string, ctx: Context, out: StatusCause[]): void {
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (isPlainObject(s.items)) {
    checkNode(s.items, fieldPath.child(path, 'items'), { ...ctx, level: 'item' }, out);
  }
  for (const [name, prop] of Object.entries(propertiesOf(s))) {
    const child: Context = { ...ctx, level: 'field' };
    if ((ctx.level === 'root' || embedded) && metaFields.has(name)) {
      child.insideResourceMeta = true;
      if (ctx.level === 'root') child.forbidDefaults = `in top-level ${name}`;
    }
    checkNode(prop, fieldPath.key(fieldPath.child(path, 'properties'), name), child, out);
  }
  if (isPlainObject(s.additionalProperties)) {
    checkNode(s.additionalProperties, fieldPath.child(path, 'additionalProperties'), { ...ctx, level: 'field' }, out);
  }
  const skipAnyOf = isIntOrStringAnyOf(s.anyOf);
  const skipFirstAllOfAnyOf =
    Array.isArray(s.allOf) && isPlainObject(s.allOf[0]) && isIntOrStringAnyOf(s.allOf[0].anyOf);
  for (const junctor of logicJunctors) {
    const list = s[junctor];
    if (!Array.isArray(list)) continue;
    if (junctor === 'anyOf' && skipAnyOf) continue;
    list.forEach((nested, i) => {
      const skip = junctor === 'allOf' && i === 0 && skipFirstAllOfAnyOf;
      checkNested(nested, fieldPath.index(fieldPath.child(path, junctor), i), skip, out);
    });
  }
  if (s.not !== undefined) checkNested(s.not, fieldPath.child(path, 'not'), false, out);
}

function isIntOrStringAnyOf(anyOf: unknown): boolean {
  return (
    Array.isArray(anyOf) &&
    anyOf.length === 2 &&
    isPlainObject(anyOf[0]) &&
    isPlainObject(anyOf[1]) &&
    Object.keys(anyOf[0]).length === 1 &&
    Object.keys(anyOf[1]).length === 1 &&
    anyOf[0].type === 'integer' &&
    anyOf[1].type === 'string'
  );
}

const forbiddenInNested: Array<[string, string]> = [
  ['type', 'must be empty to be structural'],
  ['additionalProperties', 'must be undefined to be structural'],
  ['default', 'must be undefined to be structural'],
  ['title', 'must be empty to be structural'],
  ['description', 'must be empty to be structural'],
  ['nullable', 'must be false to be structural'],
  ['x-kubernetes-preserve-unknown-fields', 'must be false to be structural'],
  ['x-kubernetes-embedded-resource', 'must be false to be structural'],
  ['x-kubernetes-int-or-string', 'must be false to be structural'],
  ['x-kubernetes-list-map-keys', 'must be empty to be structural'],
  ['x-kubernetes-list-type', 'must be undefined to be structural'],
];

/** Inside allOf/anyOf/oneOf/not only value validations may appear, never structure. */
function checkNested(v: unknown, path: string, skipAnyOf: boolean, out: StatusCause[]): void {
  if (!isPlainObject(v)) {
    out.push(fieldError.invalid(path, v, 'must be a JSON schema object'));
    return;
  }
  if (v.$ref !== undefined) out.push(fieldError.forbidden(fieldPath.child(path, '$ref'), '$ref is not supported'));
  for (const [keyword, detail] of forbiddenInNested) {
    const value = v[keyword];
    const present = value !== undefined && value !== false && value !== '' && !(Array.isArray(value) && value.length === 0);
    if (present) out.push(fieldError.forbidden(fieldPath.child(path, keyword), detail));
  }
  const props = propertiesOf(v);
  if (props.metadata !== undefined) {
    out.push(fieldError.forbidden(fieldPath.key(fieldPath.child(path, 'properties'), 'metadata'), 'must not be specified in a nested context'));
  }
  for (const [name, prop] of Object.entries(props)) {
    checkNested(prop, fieldPath.key(fieldPath.child(path, 'properties'), name), false, out);
  }
  if (v.items !== undefined && !Array.isArray(v.items)) checkNested(v.items, fieldPath.child(path, 'items'), false, out);
  for (const junctor of logicJunctors) {
    const list = v[junctor];
    if (!Array.isArray(list) || (junctor === 'anyOf' && skipAnyOf)) continue;
    list.forEach((nested, i) => checkNested(nested, fieldPath.index(fieldPath.child(path, junctor), i), false, out));
  }
  if (v.not !== undefined) checkNested(v.not, fieldPath.child(path, 'not'), false, out);
}

/**
 * validateStructuralCompleteness: a field mentioned in a value validation must also be
 * specified structurally, otherwise pruning would drop what the validation talks about.
 */
function checkCompleteness(s: unknown, path: string, out: StatusCause[]): void {
  if (!isPlainObject(s)) return;
  for (const junctor of logicJunctors) {
    const list = s[junctor];
    if (!Array.isArray(list)) continue;
    list.forEach((v, i) => completenessOf(v, s, path, fieldPath.index(fieldPath.child(path, junctor), i), out));
  }
  if (s.not !== undefined) completenessOf(s.not, s, path, fieldPath.child(path, 'not'), out);
  for (const [name, prop] of Object.entries(propertiesOf(s))) {
    checkCompleteness(prop, fieldPath.key(fieldPath.child(path, 'properties'), name), out);
  }
  if (isPlainObject(s.items)) checkCompleteness(s.items, fieldPath.child(path, 'items'), out);
  if (isPlainObject(s.additionalProperties)) {
    checkCompleteness(s.additionalProperties, fieldPath.child(path, 'additionalProperties'), out);
  }
}

function completenessOf(v: unknown, s: unknown, sPath: string, vPath: string, out: StatusCause[]): void {
  if (!isPlainObject(v)) return;
  if (!isPlainObject(s)) {
    out.push(fieldError.required(sPath, `because it is defined in ${vPath}`));
    return;
  }
  if (v.items !== undefined) {
    completenessOf(v.items, s.items, fieldPath.child(sPath, 'items'), fieldPath.child(vPath, 'items'), out);
  }
  const structural = propertiesOf(s);
  for (const [name, prop] of Object.entries(propertiesOf(v))) {
    const sPropPath = fieldPath.key(fieldPath.child(sPath, 'properties'), name);
    const vPropPath = fieldPath.key(fieldPath.child(vPath, 'properties'), name);
    if (structural[name] !== undefined) {
      completenessOf(prop, structural[name], sPropPath, vPropPath, out);
    } else if (isPlainObject(s.additionalProperties)) {
      completenessOf(prop, s.additionalProperties, fieldPath.child(sPath, 'additionalProperties'), vPropPath, out);
    } else if (s['x-kubernetes-preserve-unknown-fields'] !== true) {
      out.push(fieldError.required(sPropPath, `because it is defined in ${vPropPath}`));
    }
  }
  for (const junctor of logicJunctors) {
    const list = v[junctor];
    if (!Array.isArray(list)) continue;
    list.forEach((nested, i) => completenessOf(nested, s, sPath, fieldPath.index(fieldPath.child(vPath, junctor), i), out));
  }
  if (v.not !== undefined) completenessOf(v.not, s, sPath, fieldPath.child(vPath, 'not'), out);
}

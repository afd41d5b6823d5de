// How a value at some place in an object merges and is owned, read from a CRD's structural
// schema the way the apiserver's type converter reads it: lists are atomic unless marked
// set or map, objects are granular unless marked atomic, and a place with no schema
// (preserve-unknown-fields, or a built-in kind served without one) is a granular map with
// atomic lists.

import type { JSONSchemaProps } from '../machinery/resource.js';
import { isPlainObject } from '../machinery/object.js';
import { pathElement, type PathElement } from './fieldset.js';

/** The schema at one place: a JSONSchemaProps, none (deduced), or a whole untyped kind. */
export type SchemaRef = JSONSchemaProps | undefined | typeof UNTYPED;

/** A kind served without a schema (ConfigMap, Secret...): every field counts as declared. */
export const UNTYPED = Symbol('untyped');

export type Shape =
  /** Compared, merged and owned as a whole: scalars, null, atomic lists and maps. */
  | { kind: 'leaf' }
  | { kind: 'map'; atomic: false }
  | { kind: 'list'; listType: 'set' | 'map'; keys: string[]; items: SchemaRef };

export interface FieldSchema {
  schema: SchemaRef;
  /**
   * A declared struct field rather than a free map key. Kubernetes records a map key
   * itself as owned ("." in FieldsV1) but a struct field only through its leaves.
   */
  declared: boolean;
}

const str = { type: 'string' };
const stringMap = { type: 'object', additionalProperties: str };

/** ObjectMeta as the built-in schema types it: the apiserver never takes this from a CRD. */
export const metadataSchema: JSONSchemaProps = {
  type: 'object',
  properties: {
    name: str,
    generateName: str,
    namespace: str,
    uid: str,
    resourceVersion: str,
    generation: { type: 'integer' },
    creationTimestamp: str,
    deletionTimestamp: str,
    deletionGracePeriodSeconds: { type: 'integer' },
    labels: stringMap,
    annotations: stringMap,
    finalizers: { type: 'array', items: str, 'x-kubernetes-list-type': 'set' },
    ownerReferences: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['uid'],
      items: {
        type: 'object',
        properties: {
          apiVersion: str,
          kind: str,
          name: str,
          uid: str,
          controller: { type: 'boolean' },
          blockOwnerDeletion: { type: 'boolean' },
        },
      },
    },
    managedFields: { type: 'array', items: { type: 'object' } },
  },
};

// Marks a root built for a kind with no schema: its unknown top-level fields are untyped.
const UNTYPED_REST = Symbol('untyped-rest');

/** The schema of a whole object: the kind's own schema with ObjectMeta typed as built in. */
export function rootSchema(schema: JSONSchemaProps | undefined): SchemaRef {
  if (schema === undefined) return (untypedRoot ??= buildRootSchema(undefined));
  let root = roots.get(schema);
  if (!root) roots.set(schema, (root = buildRootSchema(schema)));
  return root;
}

// Built once per schema: every write's ownership tracking starts here. Schemas are never
// changed in place (a changed CRD brings new schema objects), so the cache cannot go stale.
const roots = new WeakMap<JSONSchemaProps, SchemaRef>();
let untypedRoot: SchemaRef | undefined;

function buildRootSchema(schema: JSONSchemaProps | undefined): SchemaRef {
  const base = schema ?? { type: 'object' };
  const root: JSONSchemaProps = {
    ...base,
    properties: { ...(base.properties as object | undefined), apiVersion: str, kind: str, metadata: metadataSchema },
  };
  if (schema === undefined) (root as Record<symbol, unknown>)[UNTYPED_REST] = true;
  return root;
}

/** The schema of one field of an object at `parent`. */
export function fieldSchema(parent: SchemaRef, name: string): FieldSchema {
  if (parent === UNTYPED) return { schema: UNTYPED, declared: true };
  if (parent === undefined) return { schema: undefined, declared: false };
  const properties = parent.properties;
  if (isPlainObject(properties) && isPlainObject(properties[name])) {
    return { schema: properties[name] as JSONSchemaProps, declared: true };
  }
  if ((parent as Record<symbol, unknown>)[UNTYPED_REST] === true) return { schema: UNTYPED, declared: true };
  const additional = parent.additionalProperties;
  if (isPlainObject(additional)) return { schema: additional as JSONSchemaProps, declared: false };
  return { schema: undefined, declared: false };
}

/** How the value at a place with this schema is treated. */
export function shapeOf(schema: SchemaRef, value: unknown): Shape {
  if (Array.isArray(value)) {
    if (schema === UNTYPED || schema === undefined) return { kind: 'leaf' };
    const listType = schema['x-kubernetes-list-type'];
    const items = isPlainObject(schema.items) ? (schema.items as JSONSchemaProps) : undefined;
    if (listType === 'set') return { kind: 'list', listType: 'set', keys: [], items };
    if (listType === 'map') {
      const keys = schema['x-kubernetes-list-map-keys'];
      return {
        kind: 'list',
        listType: 'map',
        keys: Array.isArray(keys) ? keys.map(String) : [],
        items,
      };
    }
    return { kind: 'leaf' };
  }
  if (isPlainObject(value)) {
    if (schema !== UNTYPED && schema?.['x-kubernetes-map-type'] === 'atomic') return { kind: 'leaf' };
    return { kind: 'map', atomic: false };
  }
  return { kind: 'leaf' };
}

/** Same JSON kind (list, object, scalar); values of different kinds compare as leaves. */
export function sameKind(a: unknown, b: unknown): boolean {
  const kind = (v: unknown) => (Array.isArray(v) ? 'list' : isPlainObject(v) ? 'map' : 'scalar');
  return kind(a) === kind(b);
}

/** Thrown when a list item cannot be named: a map-list item without its key fields. */
export class ListItemError extends Error {}

/** The path element naming one item of a set or map list. */
export function listItemElement(shape: Extract<Shape, { kind: 'list' }>, item: unknown): PathElement {
  if (shape.listType === 'set') return pathElement.value(item);
  if (!isPlainObject(item)) {
    throw new ListItemError('associative list with keys has an element that is not a map type');
  }
  const itemProps = shape.items !== UNTYPED ? shape.items?.properties : undefined;
  const fields: Record<string, unknown> = {};
  for (const key of shape.keys) {
    let value = item[key];
    if (value === undefined && isPlainObject(itemProps) && isPlainObject(itemProps[key])) {
      value = (itemProps[key] as JSONSchemaProps).default;
    }
    if (value === undefined) {
      throw new ListItemError(
        `associative list with keys has an element that omits key field ${JSON.stringify(key)} (and doesn't have default value)`,
      );
    }
    fields[key] = value;
  }
  return pathElement.key(fields);
}

export function isEmptyContainer(value: unknown): boolean {
  if (value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isPlainObject(value) && Object.keys(value).length === 0;
}

// The fields an object sets, as typed.TypedValue.ToFieldSet lists them, minus the metadata
// the apiserver never records an owner for (stripmeta.go).

import type { JSONSchemaProps } from '../machinery/resource.js';
import { FieldSet, pathElement, type Path, type PathElement } from './fieldset.js';
import {
  fieldSchema,
  listItemElement,
  ListItemError,
  rootSchema,
  shapeOf,
  type SchemaRef,
  type Shape,
} from './schema-walk.js';

const f = pathElement.field;

/** Server-managed identity and bookkeeping; `metadata` itself is stripped but not its children. */
export const strippedFields: FieldSet = FieldSet.of([
  [f('apiVersion')],
  [f('kind')],
  [f('metadata')],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map(
    (name): Path => [f('metadata'), f(name)],
  ),
]);

/**
 * The leaf fields, list items and free map keys an object sets, as recorded for an applier.
 * `schema` is the kind's openAPIV3Schema; omit it for kinds served without one.
 * Throws ListItemError when a map-list item lacks a key field or an item is duplicated.
 */
export function fieldSetOf(obj: unknown, schema?: JSONSchemaProps): FieldSet {
  const set = new FieldSet();
  collect(obj, rootSchema(schema), [], set);
  return set.difference(strippedFields);
}

function collect(value: unknown, schema: SchemaRef, path: PathElement[], into: FieldSet): void {
  const shape = shapeOf(schema, value);
  if (shape.kind === 'leaf') {
    into.insert(path);
    return;
  }
  if (shape.kind === 'list') {
    for (const { pe, item } of indexList(shape, value as unknown[], true)) {
      const itemPath = [...path, pe];
      collect(item, shape.items, itemPath, into);
      into.insert(itemPath);
    }
    return;
  }
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (child === undefined) continue;
    const field = fieldSchema(schema, key);
    const childPath = [...path, f(key)];
    collect(child, field.schema, childPath, into);
    // An empty object or null is owned as itself; a free map key is always owned as itself.
    const emptyObject = typeof child === 'object' && child !== null && !Array.isArray(child) && Object.keys(child).length === 0;
    if (child === null || emptyObject || !field.declared) into.insert(childPath);
  }
}

export interface IndexedItem {
  pe: PathElement;
  item: unknown;
  index: number;
}

/**
 * Names every item of a set or map list. With `strict`, a duplicate is an error (an applied
 * configuration must be unambiguous); otherwise later duplicates are skipped.
 */
export function indexList(shape: Extract<Shape, { kind: 'list' }>, list: unknown[], strict: boolean): IndexedItem[] {
  const seen = new Set<PathElement>();
  const out: IndexedItem[] = [];
  list.forEach((item, index) => {
    const pe = listItemElement(shape, item);
    if (seen.has(pe)) {
      if (strict) throw new ListItemError(`duplicate entries for key ${pe.slice(2)}`);
      return;
    }
    seen.add(pe);
    out.push({ pe, item, index });
  });
  return out;
}

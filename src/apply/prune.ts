// Removing what an applier stopped applying (merge.Updater.prune): a field it applied last
// time, that its new configuration leaves out and that no other manager owns, is deleted.

import { FieldSet, fieldName, type Path, type PathElement } from './fieldset.js';
import { indexList } from './field-set-of.js';
import { fieldSchema, isEmptyContainer, shapeOf, type SchemaRef } from './schema-walk.js';

/** A copy of `value` without the members of `toRemove` (and everything below them). */
export function removePaths(value: unknown, toRemove: FieldSet, schema: SchemaRef): unknown {
  const shape = shapeOf(schema, value);
  if (shape.kind === 'leaf') return value;
  if (shape.kind === 'list') {
    let items;
    try {
      items = indexList(shape, value as unknown[], false);
    } catch {
      return value;
    }
    const out: unknown[] = [];
    for (const { pe, item } of items) {
      if (toRemove.members.has(pe)) continue;
      const below = toRemove.children.get(pe);
      out.push(below ? removePaths(item, below, shape.items) : item);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const pe = `f:${key}`;
    if (toRemove.members.has(pe)) continue;
    const below = toRemove.children.get(pe);
    out[key] = below ? removePaths(child, below, fieldSchema(schema, key).schema) : child;
  }
  return out;
}

/** The value at a path, or undefined when any step is missing. */
export function valueAt(value: unknown, schema: SchemaRef, path: Path): unknown {
  let current = value;
  let currentSchema = schema;
  for (const pe of path) {
    const name = fieldName(pe);
    const shape = shapeOf(currentSchema, current);
    if (name !== undefined && shape.kind === 'map') {
      current = (current as Record<string, unknown>)[name];
      currentSchema = fieldSchema(currentSchema, name).schema;
    } else if (name === undefined && shape.kind === 'list') {
      let found: unknown;
      try {
        found = indexList(shape, current as unknown[], false).find((e) => e.pe === pe)?.item;
      } catch {
        return undefined;
      }
      current = found;
      currentSchema = shape.items;
    } else {
      return undefined;
    }
    if (current === undefined) return undefined;
  }
  return current;
}

/**
 * Deletes from `merged` every path of `lastApplied` that nobody owns any more, keeping a node
 * while some manager still owns something below it. Struct fields the removal leaves empty
 * are deleted too (Kubernetes treats named ancestors of applied fields as applied), except
 * `metadata`, which every object keeps.
 */
export function pruneUnowned(merged: unknown, lastApplied: FieldSet | undefined, owned: FieldSet, schema: SchemaRef): unknown {
  if (!lastApplied || lastApplied.isEmpty()) return merged;
  const removable = lastApplied
    .difference(owned)
    .paths()
    .filter((p) => !owned.hasBelow(p));
  if (removable.length === 0) return merged;
  let result = removePaths(merged, FieldSet.of(removable), schema);

  const emptied = new FieldSet();
  for (const path of removable) {
    for (let depth = path.length - 1; depth >= 1; depth--) {
      const ancestor = path.slice(0, depth);
      if (!ancestor.every((pe: PathElement) => fieldName(pe) !== undefined)) break;
      if (depth === 1 && ancestor[0] === 'f:metadata') break;
      if (owned.has(ancestor) || emptied.has(ancestor)) break;
      const value = valueAt(result, schema, ancestor);
      if (value === undefined || !isEmptyContainer(value)) break;
      if (owned.hasBelow(ancestor)) break;
      emptied.insert(ancestor);
      result = removePaths(result, FieldSet.of([ancestor]), schema);
    }
  }
  return result;
}

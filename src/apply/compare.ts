// What changed between two versions of an object, as typed.Comparison reports it: leaves that
// were added, modified or removed, plus inner nodes (objects, list items) that appeared or
// vanished as a whole. Update ownership and apply conflicts are both computed from this.

import type { KubeObject } from '../machinery/object.js';
import type { JSONSchemaProps } from '../machinery/resource.js';
import { FieldSet, pathElement, type PathElement } from './fieldset.js';
import { indexList, strippedFields, type IndexedItem } from './field-set-of.js';
import { deepEqual } from './json.js';
import { fieldSchema, isEmptyContainer, rootSchema, sameKind, shapeOf, type SchemaRef, type Shape } from './schema-walk.js';

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/**
 * Compares two whole objects. Paths the apiserver never tracks are left out, and so is
 * anything at or below `exclude` (reset fields such as status on the main resource).
 */
export function compareObjects(
  before: unknown,
  after: unknown,
  schema: JSONSchemaProps | undefined,
  exclude?: FieldSet,
): Comparison {
  const result: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareValues(before ?? {}, after ?? {}, rootSchema(schema), [], result);
  return { added: tracked(result.added, exclude), modified: tracked(result.modified, exclude), removed: tracked(result.removed, exclude) };
}

/** The paths the apiserver tracks, outside `exclude` (reset fields). */
function tracked(set: FieldSet, exclude: FieldSet | undefined): FieldSet {
  const kept = set.difference(strippedFields);
  return exclude === undefined || exclude.isEmpty() ? kept : kept.recursiveDifference(exclude);
}

/**
 * What compareObjects(undefined, after, ...) reports as added, built straight into the set:
 * every write that creates an object asks for it, and the general walk's per-node
 * comparisons and path copies were most of ownership tracking's cost on create.
 */
export function addedFields(after: KubeObject, schema: JSONSchemaProps | undefined, exclude?: FieldSet): FieldSet {
  const set = new FieldSet();
  const root = rootSchema(schema);
  const body = after as unknown as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    const value = body[key];
    if (value !== undefined) addValue(value, fieldSchema(root, key).schema, set, pathElement.field(key));
  }
  return tracked(set, exclude);
}

/** compareValues with nothing on the left: `value` at `pe` below `parent` is added. */
function addValue(value: unknown, schema: SchemaRef, parent: FieldSet, pe: PathElement): void {
  const shape = leafIfMixed(schema, undefined, value);
  if (shape.kind === 'list') {
    const node = parent.descend(pe);
    for (const { pe: itemPe, item } of indexList(shape, value as unknown[], false)) addValue(item, shape.items, node, itemPe);
  } else if (shape.kind !== 'leaf') {
    const node = parent.descend(pe);
    const map = value as Record<string, unknown>;
    for (const key of Object.keys(map)) {
      const child = map[key];
      if (child !== undefined) addValue(child, fieldSchema(schema, key).schema, node, pathElement.field(key));
    }
  }
  parent.members.add(pe);
}

/** The keys of either side, each once, without building a set when one side is empty. */
function keysOfBoth(l: Record<string, unknown>, r: Record<string, unknown>): string[] {
  const right = Object.keys(r);
  const left = Object.keys(l);
  if (left.length === 0) return right;
  if (right.length === 0) return left;
  for (const key of left) if (!Object.hasOwn(r, key)) right.push(key);
  return right;
}

/** `path` is the place compared, a stack pushed and popped on the way down (never kept). */
function compareValues(lhs: unknown, rhs: unknown, schema: SchemaRef, path: PathElement[], out: Comparison): void {
  const shape = leafIfMixed(schema, lhs, rhs);
  if (shape.kind === 'leaf') {
    if (lhs === undefined) out.added.insert(path);
    else if (rhs === undefined) out.removed.insert(path);
    else if (!deepEqual(lhs, rhs)) out.modified.insert(path);
    return;
  }
  if (shape.kind === 'list') {
    const left = itemsByElement(shape, lhs);
    const right = itemsByElement(shape, rhs);
    const all = new Set<PathElement>([...left.keys(), ...right.keys()]);
    for (const pe of all) {
      path.push(pe);
      compareValues(left.get(pe)?.item, right.get(pe)?.item, shape.items, path, out);
      path.pop();
    }
  } else {
    const l = (lhs ?? {}) as Record<string, unknown>;
    const r = (rhs ?? {}) as Record<string, unknown>;
    for (const key of keysOfBoth(l, r)) {
      if (l[key] === undefined && r[key] === undefined) continue;
      path.push(pathElement.field(key));
      compareValues(l[key], r[key], fieldSchema(schema, key).schema, path, out);
      path.pop();
    }
  }
  // An inner node present on one side only is itself added or removed.
  if (lhs === undefined) out.added.insert(path);
  else if (rhs === undefined) out.removed.insert(path);
}

/**
 * The shape to compare two sides with. Mismatched kinds, and two empty (or absent)
 * containers, compare as leaves so that null/empty distinctions are preserved.
 */
function leafIfMixed(schema: SchemaRef, lhs: unknown, rhs: unknown): Shape {
  if (lhs !== undefined && rhs !== undefined && !sameKind(lhs, rhs)) return { kind: 'leaf' };
  const shape = shapeOf(schema, rhs !== undefined ? rhs : lhs);
  if (shape.kind !== 'leaf' && isEmptyContainer(lhs) && isEmptyContainer(rhs)) return { kind: 'leaf' };
  if (shape.kind === 'list' && (!indexable(shape, lhs) || !indexable(shape, rhs))) return { kind: 'leaf' };
  return shape;
}

// A stored list whose items cannot be named (a map-list item without its key) is compared
// as a whole rather than refusing the write.
function indexable(shape: Extract<Shape, { kind: 'list' }>, value: unknown): boolean {
  if (value === undefined) return true;
  try {
    indexList(shape, value as unknown[], false);
    return true;
  } catch {
    return false;
  }
}

function itemsByElement(shape: Extract<Shape, { kind: 'list' }>, value: unknown): Map<PathElement, IndexedItem> {
  const map = new Map<PathElement, IndexedItem>();
  if (value === undefined) return map;
  for (const entry of indexList(shape, value as unknown[], false)) map.set(entry.pe, entry);
  return map;
}

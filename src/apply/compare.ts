// What changed between two versions of an object, as typed.Comparison reports it: leaves that
// were added, modified or removed, plus inner nodes (objects, list items) that appeared or
// vanished as a whole. Update ownership and apply conflicts are both computed from this.

import type { KubeObject } from '../machinery/object.js';
import type { JSONSchemaProps } from '../machinery/resource.js';
import { FieldSet, comparePathElements, pathElement, type PathElement } from './fieldset.js';
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

/**
 * addedFields(after, schema, exclude).toFieldsV1(), written straight out: the FieldsV1 that
 * a create records for its manager. The paths the apiserver never tracks and those at or
 * below `exclude` are skipped on the way down instead of being built and then subtracted,
 * and no FieldSet is made at all; a create spent most of its ownership cost there.
 */
export function addedFieldsV1(after: KubeObject, schema: JSONSchemaProps | undefined, exclude?: FieldSet): FieldsV1 {
  const excluded = exclude === undefined || exclude.isEmpty() ? undefined : exclude;
  return mapV1(after as unknown as Record<string, unknown>, rootSchema(schema), strippedFields, excluded, false) ?? {};
}

type FieldsV1 = Record<string, unknown>;

// The FieldsV1 below a map or list that addValue would walk, or undefined when nothing
// below it is tracked. `stripped` and `excluded` are the parts of those filters at this
// place: a member of `stripped` is not owned itself (what is below it may be), a member of
// `excluded` is left out with everything below it. `owned` puts the "." that marks the
// node itself as owned, first, as FieldsV1 has it.

function mapV1(map: Record<string, unknown>, schema: SchemaRef, stripped: FieldSet | undefined, excluded: FieldSet | undefined, owned: boolean): FieldsV1 | undefined {
  const out: FieldsV1 = owned ? { '.': {} } : {};
  let any = false;
  // Field elements order by name, so sorted keys give FieldsV1's order.
  for (const key of Object.keys(map).sort()) {
    const child = map[key];
    if (child !== undefined) any = addV1(out, pathElement.field(key), child, fieldSchema(schema, key).schema, stripped, excluded) || any;
  }
  return any ? out : undefined;
}

function listV1(shape: Extract<Shape, { kind: 'list' }>, list: unknown[], stripped: FieldSet | undefined, excluded: FieldSet | undefined, owned: boolean): FieldsV1 | undefined {
  const out: FieldsV1 = owned ? { '.': {} } : {};
  let any = false;
  const items = indexList(shape, list, false).sort((a, b) => comparePathElements(a.pe, b.pe));
  for (const { pe, item } of items) any = addV1(out, pe, item, shape.items, stripped, excluded) || any;
  return any ? out : undefined;
}

/** Writes `value`'s entry at `pe` into `out`; false when it is not tracked at all. */
function addV1(out: FieldsV1, pe: PathElement, value: unknown, schema: SchemaRef, stripped: FieldSet | undefined, excluded: FieldSet | undefined): boolean {
  if (excluded?.members.has(pe)) return false;
  const owned = !stripped?.members.has(pe);
  const shape = leafIfMixed(schema, undefined, value);
  const strippedBelow = stripped?.children.get(pe);
  const excludedBelow = excluded?.children.get(pe);
  const below =
    shape.kind === 'list'
      ? listV1(shape, value as unknown[], strippedBelow, excludedBelow, owned)
      : shape.kind === 'map'
        ? mapV1(value as Record<string, unknown>, schema, strippedBelow, excludedBelow, owned)
        : undefined;
  if (below !== undefined) out[pe] = below;
  else if (owned) out[pe] = {};
  else return false;
  return true;
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
  // Equal sides hold no change at any depth; an update mostly leaves most of an object as it
  // was (a status write, all of the spec and metadata), and this skips walking it.
  if (typeof lhs === 'object' && lhs !== null && deepEqual(lhs, rhs)) return;
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

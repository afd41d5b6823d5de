// Merging an applied configuration into the live object, as typed.TypedValue.Merge does:
// objects merge field by field, set lists by value, map lists by key, and everything else
// (scalars, atomic lists and maps) is replaced by the configuration's value.

import { clone, isPlainObject } from '../machinery/object.js';
import type { PathElement } from './fieldset.js';
import { indexList } from './field-set-of.js';
import { fieldSchema, sameKind, shapeOf, type SchemaRef, type Shape } from './schema-walk.js';

/** Returns a new value; neither input is changed. `config` must already be validated. */
export function mergeValues(live: unknown, config: unknown, schema: SchemaRef): unknown {
  if (config === undefined) return clone(live);
  if (live === undefined || !sameKind(live, config)) return clone(config);
  const shape = shapeOf(schema, config);
  if (shape.kind === 'leaf') return clone(config);
  if (shape.kind === 'list') return mergeList(shape, live as unknown[], config as unknown[]);
  const l = live as Record<string, unknown>;
  const c = config as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(l)) {
    out[key] = key in c ? mergeValues(l[key], c[key], fieldSchema(schema, key).schema) : clone(l[key]);
  }
  for (const key of Object.keys(c)) {
    if (!(key in l)) out[key] = clone(c[key]);
  }
  return out;
}

/**
 * Keeps the live order, places shared items in the configuration's order and new items
 * where the configuration puts them (the ordering rules of typed/merge.go).
 */
function mergeList(shape: Extract<Shape, { kind: 'list' }>, live: unknown[], config: unknown[]): unknown[] {
  let lhs;
  try {
    lhs = indexList(shape, live, false);
  } catch {
    return clone(config); // a stored list that cannot be keyed is replaced as a whole
  }
  const rhs = indexList(shape, config, true);
  const lMap = new Map(lhs.map((e) => [e.pe, e.item]));
  const rMap = new Map(rhs.map((e) => [e.pe, e.item]));
  const sharedOrder = rhs.map((e) => e.pe).filter((pe) => lMap.has(pe));
  let nextShared: PathElement | undefined = sharedOrder.shift();
  const merged = new Set<PathElement>();
  const out: unknown[] = [];
  const take = (pe: PathElement) => {
    merged.add(pe);
    out.push(mergeValues(lMap.get(pe), rMap.get(pe), shape.items));
  };

  let li = 0;
  let ri = 0;
  while (li < lhs.length || ri < rhs.length) {
    if (li < lhs.length && ri < rhs.length) {
      const pe = lhs[li]!.pe;
      if (pe === rhs[ri]!.pe) {
        take(pe);
        li++;
        ri++;
        nextShared = sharedOrder.shift();
        continue;
      }
      if (rMap.has(pe) && nextShared !== undefined && nextShared !== pe) {
        li++; // a shared item, but the configuration wants another one first
        continue;
      }
    }
    if (li < lhs.length) {
      const pe = lhs[li]!.pe;
      if (!rMap.has(pe)) {
        out.push(clone(lhs[li]!.item));
        li++;
        continue;
      }
      if (merged.has(pe)) li++;
    }
    if (ri < rhs.length) {
      const pe = rhs[ri]!.pe;
      take(pe);
      ri++;
      if (nextShared === pe) nextShared = sharedOrder.shift();
    }
  }
  return out;
}

/** Drops null values: an applied null says nothing the apiserver would store. */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== null).map(withoutNulls);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = withoutNulls(v);
  return out;
}

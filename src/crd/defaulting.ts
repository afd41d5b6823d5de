// Structural defaulting as apiextensions-apiserver does it (structuraldefaulting.Default):
// a property's default fills a missing field (or a null one that is not nullable) of an
// object that exists; defaults never create the parent object. Defaulted values are then
// walked too, so defaults nested inside a defaulted object apply as well.

import { clone, isPlainObject } from '../machinery/object.js';

function propertiesOf(schema: Record<string, unknown>): Record<string, unknown> | undefined {
  return isPlainObject(schema.properties) ? schema.properties : undefined;
}

function needsDefault(value: unknown, present: boolean, prop: Record<string, unknown>): boolean {
  return prop.default !== undefined && (!present || (value === null && prop.nullable !== true));
}

/** Applies every applicable `default` of `schema` to `value`, in place. */
export function applyDefaults(value: unknown, schema: unknown): void {
  if (!isPlainObject(schema)) return;
  if (isPlainObject(value)) {
    const props = propertiesOf(schema);
    if (props) {
      for (const [name, prop] of Object.entries(props)) {
        if (isPlainObject(prop) && needsDefault(value[name], name in value, prop)) {
          value[name] = clone(prop.default);
        }
      }
    }
    for (const [name, child] of Object.entries(value)) {
      const prop = props?.[name];
      if (prop !== undefined) applyDefaults(child, prop);
      else if (isPlainObject(schema.additionalProperties)) applyDefaults(child, schema.additionalProperties);
    }
    return;
  }
  if (Array.isArray(value) && isPlainObject(schema.items)) {
    const items = schema.items;
    value.forEach((item, i) => {
      if (needsDefault(item, true, items)) value[i] = clone(items.default);
      applyDefaults(value[i], items);
    });
  }
}

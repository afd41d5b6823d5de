// Pruning of fields a structural schema does not declare (structuralpruning.Prune). The pruned
// paths are returned in the form Kubernetes reports them ("spec.foo", "spec.pools[0].bar") so
// the caller can refuse them (fieldValidation=Strict), warn (Warn) or drop them silently.

import { isPlainObject } from '../machinery/object.js';

/** Fields the server owns at a resource root; the schema never prunes them. */
const resourceMetaFields = new Set(['apiVersion', 'kind', 'metadata']);

function childPath(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

/**
 * Removes undeclared fields from `value` in place; returns their paths, sorted. `value` is a
 * whole object unless `isResourceRoot` is false (e.g. a default value of one field).
 */
export function pruneUnknownFields(value: unknown, schema: unknown, isResourceRoot = true): string[] {
  const pruned: string[] = [];
  prune(value, isPlainObject(schema) ? schema : undefined, '', isResourceRoot, pruned);
  return pruned.sort();
}

function prune(
  value: unknown,
  schema: Record<string, unknown> | undefined,
  path: string,
  isResourceRoot: boolean,
  pruned: string[],
): void {
  if (Array.isArray(value)) {
    const items = schema && isPlainObject(schema.items) ? schema.items : undefined;
    value.forEach((item, i) => prune(item, items, `${path}[${i}]`, false, pruned));
    return;
  }
  if (!isPlainObject(value)) return;

  // Without a schema (an undeclared object), everything inside is unknown.
  if (!schema) {
    for (const key of Object.keys(value)) {
      pruned.push(childPath(path, key));
      delete value[key];
    }
    return;
  }
  const preserveUnknown = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  const props = isPlainObject(schema.properties) ? schema.properties : {};
  const additional = schema.additionalProperties;

  for (const key of Object.keys(value)) {
    if ((isResourceRoot || embedded) && resourceMetaFields.has(key)) continue;
    const keyPath = childPath(path, key);
    const prop = props[key];
    if (isPlainObject(prop)) {
      prune(value[key], prop, keyPath, prop['x-kubernetes-embedded-resource'] === true, pruned);
    } else if (isPlainObject(additional)) {
      prune(value[key], additional, keyPath, false, pruned);
    } else if (additional === true || preserveUnknown) {
      continue;
    } else {
      pruned.push(keyPath);
      delete value[key];
    }
  }
}

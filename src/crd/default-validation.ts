// A CRD's defaults must themselves be valid: apiextensions prunes and defaults each default
// value and validates it against its own field's schema, so that defaulting can never turn a
// valid object into an invalid one. Only meaningful once the schema is structural.

import type { StatusCause } from '../machinery/errors.js';
import { clone, isPlainObject } from '../machinery/object.js';
import type { JSONSchemaProps } from '../machinery/resource.js';
import { causesFromAjv } from './ajv-causes.js';
import { compileAjvForField } from './ajv-schema.js';
import { applyDefaults } from './defaulting.js';
import { fieldError, fieldPath } from './field-errors.js';
import { pruneUnknownFields } from './pruning.js';

export function checkDefaults(schema: JSONSchemaProps, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  walk(schema, path, true, causes);
  return causes;
}

function walk(s: unknown, path: string, isRoot: boolean, out: StatusCause[]): void {
  if (!isPlainObject(s)) return;
  if (s.default !== undefined && !isRoot) out.push(...checkDefault(s, fieldPath.child(path, 'default')));
  if (isPlainObject(s.properties)) {
    for (const [name, prop] of Object.entries(s.properties)) {
      // Top-level metadata refuses defaults altogether (see structural.ts).
      if (isRoot && name === 'metadata') continue;
      walk(prop, fieldPath.key(fieldPath.child(path, 'properties'), name), false, out);
    }
  }
  if (isPlainObject(s.items)) walk(s.items, fieldPath.child(path, 'items'), false, out);
  if (isPlainObject(s.additionalProperties)) walk(s.additionalProperties, fieldPath.child(path, 'additionalProperties'), false, out);
}

function checkDefault(s: Record<string, unknown>, defaultPath: string): StatusCause[] {
  const value = clone(s.default);
  const unknown = pruneUnknownFields(value, s, false);
  if (unknown.length > 0) {
    return [fieldError.invalid(defaultPath, s.default, `must not have unknown fields: ${unknown.join(', ')}`)];
  }
  applyDefaults(value, s);
  const check = compileAjvForField(s);
  if (check(value)) return [];
  return causesFromAjv(check.errors, value).map((cause) => ({
    ...cause,
    field: cause.field ? `${defaultPath}${cause.field.startsWith('[') ? '' : '.'}${cause.field}` : defaultPath,
  }));
}

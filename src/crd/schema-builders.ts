// Tiny constructors for hand-written OpenAPI v3 schemas, so the built-in kinds read as a list
// of fields with their descriptions rather than as nested JSON.

import type { JSONSchemaProps } from '../machinery/resource.js';

export const componentsPrefix = '#/components/schemas/';

type Extra = Record<string, unknown>;

export const s = {
  str: (description: string, extra: Extra = {}): JSONSchemaProps => ({ type: 'string', description, ...extra }),
  int: (description: string, format = 'int32'): JSONSchemaProps => ({ type: 'integer', format, description }),
  bool: (description: string): JSONSchemaProps => ({ type: 'boolean', description }),
  time: (description: string): JSONSchemaProps => ({ type: 'string', format: 'date-time', description }),
  /** A string-to-string map such as labels or ConfigMap data. */
  map: (description: string, values: JSONSchemaProps = { type: 'string', default: '' }): JSONSchemaProps => ({
    type: 'object',
    description,
    additionalProperties: values,
  }),
  list: (description: string, items: JSONSchemaProps, extra: Extra = {}): JSONSchemaProps => ({
    type: 'array',
    description,
    items,
    ...extra,
  }),
  obj: (description: string, properties: Record<string, JSONSchemaProps>, required?: string[]): JSONSchemaProps => ({
    type: 'object',
    description,
    properties,
    ...(required ? { required } : {}),
  }),
  /** A field whose type is another definition, as Kubernetes writes it in OpenAPI v3. */
  ref: (definition: string, description: string): JSONSchemaProps => ({
    description,
    allOf: [{ $ref: componentsPrefix + definition }],
  }),
  /** An array of another definition. */
  refs: (definition: string, description: string, extra: Extra = {}): JSONSchemaProps => ({
    type: 'array',
    description,
    items: { $ref: componentsPrefix + definition },
    ...extra,
  }),
};

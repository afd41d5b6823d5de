// Walks a CRD's JSON schema, visiting every node with its Kubernetes-style field path. Tests
// use it to check rules that must hold for every field (descriptions, list-map keys).

import type { JSONSchemaProps } from '../machinery/resource.js';

export interface SchemaNode {
  /** "spec.capacity.cpu"; list items end in "[*]". */
  path: string;
  schema: JSONSchemaProps;
  /** Is this node a named property (as opposed to list items or map values). */
  isProperty: boolean;
}

export function walkSchema(root: JSONSchemaProps, visit: (node: SchemaNode) => void, path = '', isProperty = false): void {
  visit({ path, schema: root, isProperty });
  const properties = root.properties as Record<string, JSONSchemaProps> | undefined;
  for (const [name, child] of Object.entries(properties ?? {})) {
    walkSchema(child, visit, path ? `${path}.${name}` : name, true);
  }
  if (isObject(root.items)) walkSchema(root.items, visit, `${path}[*]`, false);
  if (isObject(root.additionalProperties)) walkSchema(root.additionalProperties, visit, `${path}[*]`, false);
}

/** The schema at a printer-column or selectable-field JSON path such as ".status.addresses[0].address". */
export function schemaAt(root: JSONSchemaProps, jsonPath: string): JSONSchemaProps | undefined {
  let node: JSONSchemaProps | undefined = root;
  for (const segment of jsonPath.replace(/^\./, '').split('.')) {
    const match = /^([^[]+)((\[\d+\])*)$/.exec(segment);
    if (!match || !node) return undefined;
    node = (node.properties as Record<string, JSONSchemaProps> | undefined)?.[match[1]!];
    const indexes = match[2]!.match(/\[\d+\]/g) ?? [];
    for (let i = 0; i < indexes.length && node; i++) {
      node = isObject(node.items) ? node.items : undefined;
    }
  }
  return node;
}

function isObject(value: unknown): value is JSONSchemaProps {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

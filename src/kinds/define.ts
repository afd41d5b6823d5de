// One definition per kind: the TypeBox schemas of spec and status are the single source from
// which the TypeScript types (Static<>), the JSON Schema and the CRD are all derived.

import type { Static, TSchema } from '@sinclair/typebox';
import { clone, type KubeObject } from '../machinery/object.js';
import type { JSONSchemaProps, PrinterColumn, ScaleSubresource } from '../machinery/resource.js';

export const group = 'virtflow.io';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;
/** `kubectl get virtflow` lists every kind in this category. */
export const category = 'virtflow';

export type Scope = 'Namespaced' | 'Cluster';

export interface KindOptions<Spec extends TSchema, Status extends TSchema> {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: Scope;
  spec: Spec;
  status: Status;
  /** Without an explicit Age column Kubernetes drops it once any column is declared. */
  printerColumns: PrinterColumn[];
  /** JSON paths (".spec.x") of string/integer/boolean fields usable in field selectors. */
  selectableFields?: string[];
  scale?: ScaleSubresource;
  /** What the kind is, for `kubectl explain <kind>`. */
  description: string;
}

export interface KindDefinition<Spec extends TSchema = TSchema, Status extends TSchema = TSchema>
  extends Required<Omit<KindOptions<Spec, Status>, 'scale'>> {
  group: string;
  version: string;
  apiVersion: string;
  listKind: string;
  categories: string[];
  scale?: ScaleSubresource;
}

/** The object shape a kind's documents have: Kubernetes metadata plus typed spec and status. */
export type KindObject<Spec, Status> = KubeObject & { spec: Spec; status?: Status };

/** The TypeScript type of a definition's documents. */
export type ObjectOf<D> =
  D extends KindDefinition<infer Spec, infer Status>
    ? KindObject<Static<Spec>, Static<Status>>
    : never;

export function defineKind<Spec extends TSchema, Status extends TSchema>(
  options: KindOptions<Spec, Status>,
): KindDefinition<Spec, Status> {
  return {
    ...options,
    selectableFields: options.selectableFields ?? [],
    group,
    version,
    apiVersion,
    listKind: `${options.kind}List`,
    categories: [category],
  };
}

/**
 * A TypeBox schema as plain JSON: TypeBox marks its nodes with symbol keys (Kind, Optional)
 * and may carry `$id`; neither belongs in a CRD, and symbols would not survive YAML anyway.
 * Keys are put in one canonical order (type and description first, children last) so the
 * generated YAML reads the same way for every field.
 */
export function plainSchema(schema: TSchema): JSONSchemaProps {
  return schemaNode(schema);
}

const leadingKeys = ['type', 'format', 'description'];
const trailingKeys = ['required', 'properties', 'additionalProperties', 'items'];
const droppedKeys = new Set(['$id', '$schema']);

function schemaNode(node: Record<string, unknown>): JSONSchemaProps {
  const keys = Object.keys(node).filter((key) => !droppedKeys.has(key));
  const ordered = [
    ...leadingKeys.filter((key) => keys.includes(key)),
    ...keys.filter((key) => !leadingKeys.includes(key) && !trailingKeys.includes(key)),
    ...trailingKeys.filter((key) => keys.includes(key)),
  ];
  const out: JSONSchemaProps = {};
  for (const key of ordered) out[key] = schemaChild(key, node[key]);
  return out;
}

function schemaChild(key: string, value: unknown): unknown {
  switch (key) {
    case 'properties':
      return Object.fromEntries(
        Object.entries(value as Record<string, Record<string, unknown>>).map(([name, child]) => [
          name,
          schemaNode(child),
        ]),
      );
    case 'items':
    case 'additionalProperties':
      return isSchema(value) ? schemaNode(value) : value;
    case 'anyOf':
    case 'allOf':
    case 'oneOf':
      return (value as Record<string, unknown>[]).map(schemaNode);
    default:
      // Values such as default and enum are data, copied as they are.
      return clone(value);
  }
}

function isSchema(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

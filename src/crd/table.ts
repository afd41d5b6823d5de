// Server-side Table output (meta.k8s.io/v1 Table) as apiextensions-apiserver's tableconvertor
// builds it for custom resources, which is what `kubectl get` prints: a Name column, then the
// printer columns (or a default Age column), one row per object with its cells and the object
// itself, as PartialObjectMetadata unless the client asked for the full object or none.

import { isPlainObject, type KubeObject } from '../machinery/object.js';
import type { PrinterColumn, ResourceInfo } from '../machinery/resource.js';
import { humanDuration } from './duration.js';
import { evaluateJsonPath } from './jsonpath.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export interface TableOptions {
  includeObject: IncludeObject;
  listMeta: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  /** Leave out columnDefinitions, as for a watch event after the first. */
  noHeaders?: boolean;
  /** The clock ages are measured against; injected so tests do not depend on time. */
  now?: Date;
}

export const objectMetaDescriptions = {
  name: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  creationTimestamp:
    'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
};

/** The column a custom resource without printer columns gets (serveDefaultColumnsIfEmpty). */
export const defaultAgeColumn: PrinterColumn = {
  name: 'Age',
  type: 'date',
  description: objectMetaDescriptions.creationTimestamp,
  jsonPath: '.metadata.creationTimestamp',
};

export function printerColumnsFor(info: Pick<ResourceInfo, 'printerColumns'>): PrinterColumn[] {
  return info.printerColumns.length > 0 ? info.printerColumns : [defaultAgeColumn];
}

export function columnDefinitions(columns: PrinterColumn[]): TableColumnDefinition[] {
  return [
    { name: 'Name', type: 'string', format: 'name', description: objectMetaDescriptions.name, priority: 0 },
    ...columns.map((column) => ({
      name: column.name,
      type: column.type,
      format: column.format ?? '',
      description: column.description || `Custom resource definition column (in JSONPath format): ${column.jsonPath}`,
      priority: column.priority ?? 0,
    })),
  ];
}

export function buildTable(info: ResourceInfo, objects: KubeObject[], opts: TableOptions): Table {
  const columns = printerColumnsFor(info);
  const now = opts.now ?? new Date();
  const metadata: Table['metadata'] = {};
  if (opts.listMeta.resourceVersion !== undefined) metadata.resourceVersion = opts.listMeta.resourceVersion;
  if (opts.listMeta.continue) metadata.continue = opts.listMeta.continue;
  if (opts.listMeta.remainingItemCount !== undefined) metadata.remainingItemCount = opts.listMeta.remainingItemCount;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: opts.noHeaders ? [] : columnDefinitions(columns),
    rows: objects.map((obj) => tableRow(obj, columns, opts.includeObject, now, info.nameCell)),
  };
}

export function tableRow(obj: KubeObject, columns: PrinterColumn[], includeObject: IncludeObject, now: Date, nameCell?: (obj: KubeObject) => string): TableRow {
  const cells: unknown[] = [nameCell ? nameCell(obj) : (obj.metadata?.name ?? '')];
  for (const column of columns) cells.push(cellFor(column, obj, now));
  const row: TableRow = { cells };
  if (includeObject === 'Object') row.object = obj;
  else if (includeObject === 'Metadata') {
    row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
  }
  return row;
}

function cellFor(column: PrinterColumn, obj: KubeObject, now: Date): unknown {
  if (column.cell) return column.cell(obj) ?? null;
  let values: unknown[];
  try {
    values = evaluateJsonPath(column.jsonPath, obj);
  } catch {
    return null;
  }
  // Like the tableconvertor, only the first result of a column is shown.
  if (values.length === 0 || values[0] === undefined) return null;
  const value = values[0];
  if (column.type === 'string') return goText(value);
  return typedCell(column.type, value, now);
}

function typedCell(type: string, value: unknown, now: Date): unknown {
  if (value === null) return null;
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      const at = Date.parse(value);
      if (Number.isNaN(at)) return '<invalid>';
      return humanDuration(now.getTime() - at);
    }
    default:
      return null;
  }
}

/** Text as Go's fmt.Fprint prints a decoded JSON value, which jsonpath output uses. */
export function goText(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(goText).join(' ')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort();
    return `map[${keys.map((k) => `${k}:${goText(value[k])}`).join(' ')}]`;
  }
  return String(value);
}

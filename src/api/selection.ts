// Which objects a list or watch selects: namespace, label selector, field selector.
import { parseFieldSelector, validateFieldSelector, type FieldSelector } from '../machinery/fields.js';
import { parseLabelSelector, type LabelSelector } from '../machinery/labels.js';
import type { KubeObject } from '../machinery/object.js';
import type { ResourceInfo } from '../machinery/resource.js';

export interface Selection {
  namespace?: string;
  labels?: LabelSelector;
  fields?: FieldSelector;
  /** Narrows what this caller may see (set by the authorizer, never by the query). */
  visible?: (obj: KubeObject) => boolean;
}

function valueAt(obj: KubeObject, path: string): string | undefined {
  let value: unknown = obj;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function selectableFieldNames(info: ResourceInfo): string[] {
  const names = ['metadata.name'];
  if (info.namespaced) names.push('metadata.namespace');
  for (const path of info.selectableFields) names.push(path.replace(/^\./, ''));
  return names;
}

export function parseSelection(info: ResourceInfo, query: URLSearchParams, namespace?: string): Selection {
  const selection: Selection = { namespace };
  const labelSelector = query.get('labelSelector');
  if (labelSelector) selection.labels = parseLabelSelector(labelSelector);
  const fieldSelector = query.get('fieldSelector');
  if (fieldSelector) {
    const fields = parseFieldSelector(fieldSelector);
    validateFieldSelector(fields, selectableFieldNames(info));
    selection.fields = fields;
  }
  return selection;
}

export function selects(selection: Selection, obj: KubeObject): boolean {
  if (selection.namespace !== undefined && (obj.metadata.namespace ?? '') !== selection.namespace) return false;
  if (selection.labels && !selection.labels.matches(obj.metadata.labels)) return false;
  if (selection.fields && !selection.fields.matches((field) => valueAt(obj, field))) return false;
  if (selection.visible && !selection.visible(obj)) return false;
  return true;
}

export function isUnfiltered(selection: Selection): boolean {
  return !selection.labels && !selection.fields && !selection.visible;
}

// From a stored apiextensions.k8s.io/v1 CustomResourceDefinition to what the server serves:
// one ResourceInfo per served version, and the status an accepting server writes so that
// `kubectl wait --for condition=established` returns.

import { isPlainObject, type KubeObject } from '../machinery/object.js';
import { allVerbs, type PrinterColumn, type ResourceInfo, type ScaleSubresource } from '../machinery/resource.js';

function record(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function scaleOf(subresources: Record<string, unknown>): ScaleSubresource | undefined {
  if (!isPlainObject(subresources.scale)) return undefined;
  const scale = subresources.scale;
  const out: ScaleSubresource = {
    specReplicasPath: str(scale.specReplicasPath),
    statusReplicasPath: str(scale.statusReplicasPath),
  };
  if (scale.labelSelectorPath) out.labelSelectorPath = str(scale.labelSelectorPath);
  return out;
}

function printerColumnsOf(version: Record<string, unknown>): PrinterColumn[] {
  const columns = Array.isArray(version.additionalPrinterColumns) ? version.additionalPrinterColumns : [];
  return columns.filter(isPlainObject).map((c) => {
    const column: PrinterColumn = { name: str(c.name), type: str(c.type), jsonPath: str(c.jsonPath) };
    if (c.format) column.format = str(c.format);
    if (c.description) column.description = str(c.description);
    if (typeof c.priority === 'number') column.priority = c.priority;
    return column;
  });
}

/** The names a CRD serves, with singular and listKind defaulted as the API server does. */
export function acceptedNamesOf(crd: KubeObject): Record<string, unknown> {
  const names = record(record(crd.spec).names);
  const kind = str(names.kind);
  const accepted: Record<string, unknown> = {
    plural: str(names.plural),
    singular: str(names.singular) || kind.toLowerCase(),
    kind,
    listKind: str(names.listKind) || `${kind}List`,
  };
  if (strings(names.shortNames).length) accepted.shortNames = strings(names.shortNames);
  if (strings(names.categories).length) accepted.categories = strings(names.categories);
  return accepted;
}

export function resourceInfosFromCrd(crd: KubeObject): ResourceInfo[] {
  const spec = record(crd.spec);
  const names = acceptedNamesOf(crd);
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isPlainObject) : [];
  return versions
    .filter((version) => version.served === true)
    .map((version) => {
      const subresources = record(version.subresources);
      const info: ResourceInfo = {
        group: str(spec.group),
        version: str(version.name),
        plural: str(names.plural),
        singular: str(names.singular),
        kind: str(names.kind),
        listKind: str(names.listKind),
        namespaced: spec.scope === 'Namespaced',
        shortNames: strings(names.shortNames),
        categories: strings(names.categories),
        verbs: [...allVerbs],
        subresources: { status: isPlainObject(subresources.status) },
        printerColumns: printerColumnsOf(version),
        selectableFields: (Array.isArray(version.selectableFields) ? version.selectableFields : [])
          .filter(isPlainObject)
          .map((f) => str(f.jsonPath)),
        builtin: false,
        storage: version.storage === true,
      };
      const schema = record(version.schema).openAPIV3Schema;
      if (isPlainObject(schema)) info.schema = schema;
      const scale = scaleOf(subresources);
      if (scale) info.subresources.scale = scale;
      return info;
    });
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

function condition(type: string, reason: string, message: string, previous: unknown[], now: Date): Condition {
  const before = previous.filter(isPlainObject).find((c) => c.type === type);
  const keepTime = before && before.status === 'True' && typeof before.lastTransitionTime === 'string';
  return {
    type,
    status: 'True',
    reason,
    message,
    lastTransitionTime: keepTime ? (before.lastTransitionTime as string) : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

/**
 * The status of an accepted CRD: NamesAccepted and Established true, acceptedNames, and
 * storedVersions (every version ever used for storage, which only grows).
 */
export function crdStatusFor(crd: KubeObject, now: Date = new Date()): Record<string, unknown> {
  const spec = record(crd.spec);
  const previous = record(crd.status);
  const previousConditions = Array.isArray(previous.conditions) ? previous.conditions : [];
  const storage = (Array.isArray(spec.versions) ? spec.versions.filter(isPlainObject) : [])
    .filter((v) => v.storage === true)
    .map((v) => str(v.name));
  const storedVersions = [...new Set([...strings(previous.storedVersions), ...storage])];
  return {
    conditions: [
      condition('NamesAccepted', 'NoConflicts', 'no conflicts found', previousConditions, now),
      condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted', previousConditions, now),
    ],
    acceptedNames: acceptedNamesOf(crd),
    storedVersions,
  };
}

// Validation of a CustomResourceDefinition object itself (apiextensions.k8s.io/v1), the part of
// apiextensions' ValidateCustomResourceDefinition that decides whether a kind can be served:
// names, scope, versions, printer columns, subresources, and each version's schema.

import type { StatusCause } from '../machinery/errors.js';
import { isPlainObject, type KubeObject } from '../machinery/object.js';
import { fieldError, fieldPath } from './field-errors.js';
import { checkDefaults } from './default-validation.js';
import { checkStructural } from './structural.js';

const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const dns1035Message =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const dns1123SubdomainMessage =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const printerColumnTypes = ['boolean', 'date', 'integer', 'number', 'string'];
const printerColumnFormats = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];
const maxSelectableFields = 8;

function dns1035Errors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!dns1035Label.test(value)) errs.push(dns1035Message);
  return errs;
}

function dns1123SubdomainErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push('must be no more than 253 characters');
  if (!dns1123Subdomain.test(value)) errs.push(dns1123SubdomainMessage);
  return errs;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function record(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

/**
 * The defaults the API server fills in on create (SetDefaults_CustomResourceDefinition):
 * singular and listKind from kind, conversion None. Mutates and returns the CRD.
 */
export function applyCrdDefaults(crd: KubeObject): KubeObject {
  if (!isPlainObject(crd.spec)) return crd;
  const spec = crd.spec;
  if (isPlainObject(spec.names)) {
    const names = spec.names;
    const kind = str(names.kind);
    if (!names.singular && kind) names.singular = kind.toLowerCase();
    if (!names.listKind && kind) names.listKind = `${kind}List`;
  }
  if (spec.conversion === undefined) spec.conversion = { strategy: 'None' };
  return crd;
}

/** Every reason the CRD cannot be served; empty when it can. Call after applyCrdDefaults. */
export function validateCrd(crd: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!isPlainObject(crd.spec)) return [fieldError.required('spec', '')];
  const spec = crd.spec;
  const group = str(spec.group);
  const names = record(spec.names);
  const plural = str(names.plural);

  causes.push(...validateGroup(group));
  causes.push(...validateNames(names));
  if (plural && group && crd.metadata?.name !== `${plural}.${group}`) {
    causes.push(fieldError.invalid('metadata.name', crd.metadata?.name ?? '', 'must be spec.names.plural+"."+spec.group'));
  }
  if (!spec.scope) causes.push(fieldError.required('spec.scope', ''));
  else if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
    causes.push(fieldError.notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  }
  causes.push(...validateVersions(spec.versions));
  return causes;
}

function validateGroup(group: string): StatusCause[] {
  if (!group) return [fieldError.required('spec.group', '')];
  const errs = dns1123SubdomainErrors(group);
  if (errs.length) return [fieldError.invalid('spec.group', group, errs.join(','))];
  if (!group.includes('.')) return [fieldError.invalid('spec.group', group, 'should be a domain with at least one dot')];
  return [];
}

function validateNames(names: Record<string, unknown>): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const name of ['plural', 'singular'] as const) {
    const value = str(names[name]);
    const path = `spec.names.${name}`;
    if (!value) causes.push(fieldError.required(path, ''));
    else if (dns1035Errors(value).length) causes.push(fieldError.invalid(path, value, dns1035Errors(value).join(',')));
  }
  for (const name of ['kind', 'listKind'] as const) {
    const value = str(names[name]);
    const path = `spec.names.${name}`;
    if (!value) causes.push(fieldError.required(path, ''));
    else if (dns1035Errors(value.toLowerCase()).length) {
      causes.push(fieldError.invalid(path, value, `may have mixed case, but should otherwise match: ${dns1035Errors(value.toLowerCase()).join(',')}`));
    }
  }
  if (names.kind && names.kind === names.listKind) {
    causes.push(fieldError.invalid('spec.names.listKind', names.listKind, 'kind and listKind may not be the same'));
  }
  for (const list of ['shortNames', 'categories'] as const) {
    const values = Array.isArray(names[list]) ? (names[list] as unknown[]) : [];
    values.forEach((value, i) => {
      const errs = dns1035Errors(str(value));
      if (errs.length) causes.push(fieldError.invalid(fieldPath.index(`spec.names.${list}`, i), value, errs.join(',')));
    });
  }
  return causes;
}

function validateVersions(versions: unknown): StatusCause[] {
  const list = Array.isArray(versions) ? versions.map(record) : [];
  if (list.length === 0) return [fieldError.required('spec.versions', 'must have at least one version')];
  const causes: StatusCause[] = [];
  const versionNames = list.map((v) => str(v.name));
  if (list.filter((v) => v.storage === true).length !== 1) {
    causes.push(fieldError.invalid('spec.versions', versionNames, 'must have exactly one version marked as storage version'));
  }
  if (!list.some((v) => v.served === true)) {
    causes.push(fieldError.invalid('spec.versions', versionNames, 'must have at least one served version'));
  }
  if (new Set(versionNames).size !== versionNames.length) {
    causes.push(fieldError.invalid('spec.versions', versionNames, 'must contain unique version names'));
  }
  list.forEach((version, i) => causes.push(...validateVersion(version, fieldPath.index('spec.versions', i))));
  return causes;
}

function validateVersion(version: Record<string, unknown>, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = str(version.name);
  if (!name) causes.push(fieldError.required(fieldPath.child(path, 'name'), ''));
  else if (dns1035Errors(name).length) causes.push(fieldError.invalid(fieldPath.child(path, 'name'), name, dns1035Errors(name).join(',')));

  const schemaPath = fieldPath.child(path, 'schema.openAPIV3Schema');
  const schema = record(version.schema).openAPIV3Schema;
  if (!isPlainObject(schema)) causes.push(fieldError.required(schemaPath, 'schemas are required'));
  else {
    const structural = checkStructural(schema, schemaPath);
    causes.push(...(structural.length > 0 ? structural : checkDefaults(schema, schemaPath)));
  }

  causes.push(...validatePrinterColumns(version.additionalPrinterColumns, fieldPath.child(path, 'additionalPrinterColumns')));
  causes.push(...validateSubresources(record(version.subresources), fieldPath.child(path, 'subresources')));
  causes.push(...validateSelectableFields(version.selectableFields, fieldPath.child(path, 'selectableFields')));
  return causes;
}

function validatePrinterColumns(columns: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  (Array.isArray(columns) ? columns.map(record) : []).forEach((column, i) => {
    const columnPath = fieldPath.index(path, i);
    if (!column.name) causes.push(fieldError.required(fieldPath.child(columnPath, 'name'), ''));
    if (!column.type) causes.push(fieldError.required(fieldPath.child(columnPath, 'type'), ''));
    else if (!printerColumnTypes.includes(str(column.type))) {
      causes.push(fieldError.notSupported(fieldPath.child(columnPath, 'type'), column.type, printerColumnTypes));
    }
    if (column.format && !printerColumnFormats.includes(str(column.format))) {
      causes.push(fieldError.notSupported(fieldPath.child(columnPath, 'format'), column.format, printerColumnFormats));
    }
    if (!column.jsonPath) causes.push(fieldError.required(fieldPath.child(columnPath, 'jsonPath'), ''));
  });
  return causes;
}

function validateSubresources(subresources: Record<string, unknown>, path: string): StatusCause[] {
  if (!isPlainObject(subresources.scale)) return [];
  const scale = subresources.scale;
  const causes: StatusCause[] = [];
  const checks: Array<[string, string[]]> = [
    ['specReplicasPath', ['.spec.']],
    ['statusReplicasPath', ['.status.']],
  ];
  for (const [name, prefixes] of checks) {
    const value = str(scale[name]);
    const p = fieldPath.child(path, `scale.${name}`);
    if (!value) causes.push(fieldError.required(p, ''));
    else if (!prefixes.some((prefix) => value.startsWith(prefix))) {
      causes.push(fieldError.invalid(p, value, `should be a json path under ${prefixes[0]!.slice(0, -1)}`));
    }
  }
  const selector = str(scale.labelSelectorPath);
  if (selector && !selector.startsWith('.spec.') && !selector.startsWith('.status.')) {
    causes.push(fieldError.invalid(fieldPath.child(path, 'scale.labelSelectorPath'), selector, 'should be a json path under either .spec or .status'));
  }
  return causes;
}

function validateSelectableFields(fields: unknown, path: string): StatusCause[] {
  const list = Array.isArray(fields) ? fields.map(record) : [];
  const causes: StatusCause[] = [];
  if (list.length > maxSelectableFields) causes.push(fieldError.tooMany(path, list.length, maxSelectableFields));
  const seen = new Set<string>();
  list.forEach((f, i) => {
    const jsonPath = str(f.jsonPath);
    const p = fieldPath.child(fieldPath.index(path, i), 'jsonPath');
    if (!jsonPath) causes.push(fieldError.required(p, ''));
    else if (!jsonPath.startsWith('.')) causes.push(fieldError.invalid(p, jsonPath, 'must be a simple json path starting with .'));
    else if (seen.has(jsonPath)) causes.push(fieldError.duplicate(p, jsonPath));
    seen.add(jsonPath);
  });
  return causes;
}

// ObjectMeta validation, after k8s.io/apimachinery/pkg/api/validation/objectmeta.go: the
// same checks, field paths, cause types and wording, so that errors.invalid(...) built from
// these causes reads like kube-apiserver's 422 for the same object. The input is the decoded
// request body, so every member's type is checked before its content.

import type { StatusCause } from './errors.js';
import { isPlainObject } from './object.js';
import {
  type NameRule,
  dns1123LabelErrors,
  labelValueErrors,
  qualifiedNameErrors,
  validateObjectName,
} from './names.js';

/** Total bytes of annotation keys and values an object may carry (TotalAnnotationSizeLimitB). */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export const FINALIZER_ORPHAN_DEPENDENTS = 'orphan';
export const FINALIZER_DELETE_DEPENDENTS = 'foregroundDeletion';

export interface ObjectMetaOptions {
  namespaced: boolean;
  /** On create a generateName may stand in for the name, which the server then fills in. */
  isCreate: boolean;
  /** The kind's name rule; DNS-1123 subdomain when absent. */
  nameRule?: NameRule;
}

// ---- causes worded as field.Error.ErrorBody() ------------------------------------------------

/** Go's rendering of a bad value: strings quoted, scalars bare, the rest as JSON. */
function showValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

const withDetail = (head: string, detail: string): string => (detail ? `${head}: ${detail}` : head);

const cause = {
  required: (field: string, detail = ''): StatusCause => ({
    type: 'FieldValueRequired',
    field,
    message: withDetail('Required value', detail),
  }),
  invalid: (field: string, value: unknown, detail: string): StatusCause => ({
    type: 'FieldValueInvalid',
    field,
    message: withDetail(`Invalid value: ${showValue(value)}`, detail),
  }),
  typeInvalid: (field: string, value: unknown, detail: string): StatusCause => ({
    type: 'FieldValueTypeInvalid',
    field,
    message: withDetail(`Invalid value: ${showValue(value)}`, detail),
  }),
  forbidden: (field: string, detail: string): StatusCause => ({
    type: 'FieldValueForbidden',
    field,
    message: withDetail('Forbidden', detail),
  }),
  tooLong: (field: string, max: number): StatusCause => ({
    type: 'FieldValueTooLong',
    field,
    message: `Too long: may not be more than ${max} bytes`,
  }),
};

// ---- members -----------------------------------------------------------------------------

/** A string member's value, or a type cause; absent members read as "". */
function stringMember(meta: Record<string, unknown>, key: string, causes: StatusCause[]): string {
  const value = meta[key];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') {
    causes.push(cause.typeInvalid(`metadata.${key}`, value, 'must be a string'));
    return '';
  }
  return value;
}

/** A map of strings (labels, annotations), or a type cause per bad entry. */
function stringMap(
  meta: Record<string, unknown>,
  key: string,
  causes: StatusCause[],
): Record<string, string> {
  const value = meta[key];
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) {
    causes.push(cause.typeInvalid(`metadata.${key}`, value, 'must be an object of strings'));
    return {};
  }
  // Without a prototype, a "__proto__" key is an ordinary key, so plain assignment is safe.
  const out = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') {
      out[k] = v;
    } else {
      causes.push(cause.typeInvalid(`metadata.${key}[${k}]`, v, 'must be a string'));
    }
  }
  return out;
}

function validateNames(meta: Record<string, unknown>, opts: ObjectMetaOptions, causes: StatusCause[]): void {
  const rule = opts.nameRule;
  const generateName = stringMember(meta, 'generateName', causes);
  if (generateName) {
    for (const msg of validateObjectName(generateName, { rule, prefix: true })) {
      causes.push(cause.invalid('metadata.generateName', generateName, msg));
    }
  }
  const name = stringMember(meta, 'name', causes);
  if (!name) {
    // The server fills the name from generateName on create; anywhere else it must be there.
    if (!(opts.isCreate && generateName)) {
      causes.push(cause.required('metadata.name', 'name or generateName is required'));
    }
  } else {
    for (const msg of validateObjectName(name, { rule })) causes.push(cause.invalid('metadata.name', name, msg));
  }
}

/**
 * Namespaced objects need a namespace that is a DNS label, cluster-scoped ones may not have one.
 * Handlers set the namespace from the URL (or clear it) before calling this, as upstream does.
 */
function validateNamespace(meta: Record<string, unknown>, opts: ObjectMetaOptions, causes: StatusCause[]): void {
  const namespace = stringMember(meta, 'namespace', causes);
  if (opts.namespaced) {
    if (!namespace) {
      if (meta.namespace === undefined || meta.namespace === null || meta.namespace === '') {
        causes.push(cause.required('metadata.namespace'));
      }
      return;
    }
    for (const msg of dns1123LabelErrors(namespace)) causes.push(cause.invalid('metadata.namespace', namespace, msg));
  } else if (namespace) {
    causes.push(cause.forbidden('metadata.namespace', 'not allowed on this type'));
  }
}

function validateLabels(meta: Record<string, unknown>, causes: StatusCause[]): void {
  for (const [key, value] of Object.entries(stringMap(meta, 'labels', causes))) {
    for (const msg of qualifiedNameErrors(key)) causes.push(cause.invalid('metadata.labels', key, msg));
    for (const msg of labelValueErrors(value)) causes.push(cause.invalid('metadata.labels', value, msg));
  }
}

function validateAnnotations(meta: Record<string, unknown>, causes: StatusCause[]): void {
  const annotations = stringMap(meta, 'annotations', causes);
  let size = 0;
  for (const [key, value] of Object.entries(annotations)) {
    // Annotation keys are qualified names in any case.
    for (const msg of qualifiedNameErrors(key.toLowerCase())) {
      causes.push(cause.invalid('metadata.annotations', key, msg));
    }
    size += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) {
    causes.push(cause.tooLong('metadata.annotations', TOTAL_ANNOTATION_SIZE_LIMIT));
  }
}

function validateFinalizers(meta: Record<string, unknown>, causes: StatusCause[]): void {
  const finalizers = meta.finalizers;
  if (finalizers === undefined || finalizers === null) return;
  if (!Array.isArray(finalizers)) {
    causes.push(cause.typeInvalid('metadata.finalizers', finalizers, 'must be a list of strings'));
    return;
  }
  finalizers.forEach((f: unknown, i) => {
    if (typeof f !== 'string') {
      causes.push(cause.typeInvalid(`metadata.finalizers[${i}]`, f, 'must be a string'));
      return;
    }
    for (const msg of qualifiedNameErrors(f)) causes.push(cause.invalid('metadata.finalizers', f, msg));
  });
  if (finalizers.includes(FINALIZER_ORPHAN_DEPENDENTS) && finalizers.includes(FINALIZER_DELETE_DEPENDENTS)) {
    causes.push(
      cause.invalid(
        'metadata.finalizers',
        finalizers,
        `finalizer ${FINALIZER_ORPHAN_DEPENDENTS} and ${FINALIZER_DELETE_DEPENDENTS} cannot be both set`,
      ),
    );
  }
}

/** schema.ParseGroupVersion: "v1" or "group/version"; anything else has no version. */
function versionOf(apiVersion: string): string {
  const parts = apiVersion.split('/');
  if (parts.length === 1) return parts[0]!;
  if (parts.length === 2 && parts[0] !== '') return parts[1]!;
  return '';
}

/**
 * Upstream names these fields without an index ("metadata.ownerReferences.uid"); ours carry
 * the index so that a list of several references says which one is wrong.
 */
function validateOwnerReferences(meta: Record<string, unknown>, causes: StatusCause[]): void {
  const refs = meta.ownerReferences;
  if (refs === undefined || refs === null) return;
  if (!Array.isArray(refs)) {
    causes.push(cause.typeInvalid('metadata.ownerReferences', refs, 'must be a list of owner references'));
    return;
  }
  let firstController = '';
  refs.forEach((ref: unknown, i) => {
    const path = `metadata.ownerReferences[${i}]`;
    if (!isPlainObject(ref)) {
      causes.push(cause.typeInvalid(path, ref, 'must be an owner reference object'));
      return;
    }
    const str = (key: string): string => {
      const v = ref[key];
      if (v === undefined || v === null) return '';
      if (typeof v !== 'string') {
        causes.push(cause.typeInvalid(`${path}.${key}`, v, 'must be a string'));
        return '';
      }
      return v;
    };
    const apiVersion = str('apiVersion');
    const kind = str('kind');
    const name = str('name');
    const uid = str('uid');
    if (!versionOf(apiVersion)) causes.push(cause.invalid(`${path}.apiVersion`, apiVersion, 'version must not be empty'));
    if (!kind) causes.push(cause.invalid(`${path}.kind`, kind, 'kind must not be empty'));
    if (!name) causes.push(cause.invalid(`${path}.name`, name, 'name must not be empty'));
    if (!uid) causes.push(cause.invalid(`${path}.uid`, uid, 'uid must not be empty'));
    for (const flag of ['controller', 'blockOwnerDeletion']) {
      const v = ref[flag];
      if (v !== undefined && v !== null && typeof v !== 'boolean') {
        causes.push(cause.typeInvalid(`${path}.${flag}`, v, 'must be a boolean'));
      }
    }
    if (ref.controller === true) {
      const current = `${kind}/${name}`;
      if (firstController) {
        causes.push(
          cause.invalid(
            'metadata.ownerReferences',
            refs,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      } else {
        firstController = current;
      }
    }
  });
}

function validateCounters(meta: Record<string, unknown>, causes: StatusCause[]): void {
  for (const key of ['generation', 'deletionGracePeriodSeconds']) {
    const v = meta[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      causes.push(cause.typeInvalid(`metadata.${key}`, v, 'must be an integer'));
    } else if (key === 'generation' && v < 0) {
      causes.push(cause.invalid('metadata.generation', v, 'must be greater than or equal to 0'));
    }
  }
  for (const key of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp']) {
    stringMember(meta, key, causes);
  }
}

/**
 * Every problem with an object's metadata, as causes for errors.invalid(kind, group, name,
 * causes); empty when the metadata is acceptable.
 */
export function validateObjectMeta(meta: unknown, opts: ObjectMetaOptions): StatusCause[] {
  if (meta === undefined || meta === null) return [cause.required('metadata')];
  if (!isPlainObject(meta)) return [cause.typeInvalid('metadata', meta, 'must be an object')];
  const causes: StatusCause[] = [];
  validateNames(meta, opts, causes);
  validateNamespace(meta, opts, causes);
  validateCounters(meta, causes);
  validateLabels(meta, causes);
  validateAnnotations(meta, causes);
  validateOwnerReferences(meta, causes);
  validateFinalizers(meta, causes);
  validateManagedFieldsType(meta, causes);
  return causes;
}

// Entries that cannot be decoded are dropped later (ownership starts over), as Kubernetes
// does; a value that is not a list at all is refused, as decoding ObjectMeta refuses it.
function validateManagedFieldsType(meta: Record<string, unknown>, causes: StatusCause[]): void {
  const managedFields = meta.managedFields;
  if (managedFields === undefined || managedFields === null || Array.isArray(managedFields)) return;
  causes.push(cause.typeInvalid('metadata.managedFields', managedFields, 'must be a list of managed fields entries'));
}

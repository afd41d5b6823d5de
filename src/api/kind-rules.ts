// What particular kinds add to the common write rules: schema validation for custom
// resources, Secret's stringData, a Namespace's phase, a CRD's own checks and status.
import { crdStatusFor } from '../crd/from-crd.js';
import { applyCrdDefaults, validateCrd } from '../crd/crd-validation.js';
import { compileValidator, strictDecodingError, unknownFieldMessage, type FieldValidation } from '../crd/validator.js';
import { errors, type StatusCause } from '../machinery/errors.js';
import { validateObjectMeta } from '../machinery/metadata.js';
import type { KubeObject } from '../machinery/object.js';
import { isPlainObject } from '../machinery/object.js';
import type { ResourceInfo } from '../machinery/resource.js';
import { exceedsDepth, MAX_DOCUMENT_DEPTH } from './body.js';
import { checkByteFields, unknownBuiltinFields } from './builtin-fields.js';
import { CRD_CLEANUP_FINALIZER } from './lifecycle.js';
import { invalid } from './object-rules.js';

export interface ValidationOutcome {
  warnings: string[];
}

/** Runs on every create and update after the server has set its metadata. */
export function validateObject(
  obj: KubeObject,
  info: ResourceInfo,
  opts: { fieldValidation: FieldValidation; isCreate: boolean },
): ValidationOutcome {
  const name = obj.metadata.name ?? '';
  // A patch may build, level by level, what no single body may carry.
  if (objectTooDeep(obj)) {
    throw errors.badRequest(`the object would be nested more than ${MAX_DOCUMENT_DEPTH} levels deep`);
  }
  const causes: StatusCause[] = validateObjectMeta(obj.metadata, {
    namespaced: info.namespaced,
    isCreate: opts.isCreate,
    nameRule: info.nameRule,
  });
  let warnings: string[] = [];
  if (info.builtin) {
    // As kube-apiserver's typed decoder: bad bytes always refuse; unknown fields refuse,
    // warn or vanish as fieldValidation says (a typed object cannot keep them).
    checkByteFields(obj, info);
    const unknown = unknownBuiltinFields(obj, info, opts.fieldValidation !== 'Strict');
    if (unknown.length > 0 && opts.fieldValidation === 'Strict') throw errors.badRequest(strictDecodingError(unknown));
    if (opts.fieldValidation === 'Warn') warnings = unknown.map(unknownFieldMessage);
  }
  if (info.schema) {
    const result = compileValidator(info.schema).validate(obj as Record<string, unknown>, {
      fieldValidation: opts.fieldValidation,
    });
    if (result.strictError) throw errors.badRequest(result.strictError);
    warnings = result.warnings;
    causes.push(...result.causes);
  }
  causes.push(...kindSpecificCauses(obj, info));
  if (causes.length > 0) throw invalid(info, name, causes);
  return { warnings };
}

/**
 * Whether the object nests deeper than MAX_DOCUMENT_DEPTH, leaving out the field ownership
 * the server records (it mirrors the object a few levels deeper, and is the server's own).
 */
function objectTooDeep(obj: KubeObject): boolean {
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'metadata' && isPlainObject(value)) {
      for (const [field, inner] of Object.entries(value)) {
        if (field !== 'managedFields' && exceedsDepth(inner, MAX_DOCUMENT_DEPTH, 3)) return true;
      }
    } else if (exceedsDepth(value, MAX_DOCUMENT_DEPTH, 2)) return true;
  }
  return false;
}

function kindSpecificCauses(obj: KubeObject, info: ResourceInfo): StatusCause[] {
  if (!info.builtin) return [];
  switch (info.kind) {
    case 'CustomResourceDefinition':
      return validateCrd(obj);
    case 'ConfigMap':
    case 'Secret':
      return mapOfStrings(obj, 'data').concat(info.kind === 'ConfigMap' ? mapOfStrings(obj, 'binaryData') : []);
    default:
      return [];
  }
}

function mapOfStrings(obj: KubeObject, field: string): StatusCause[] {
  const value = obj[field];
  if (value === undefined || value === null) return [];
  if (!isPlainObject(value)) {
    return [{ type: 'FieldValueInvalid', field, message: 'Invalid value: must be a map of string keys to string values' }];
  }
  return Object.entries(value)
    .filter(([, v]) => typeof v !== 'string')
    .map(([k]) => ({ type: 'FieldValueInvalid', field: `${field}[${k}]`, message: 'Invalid value: must be a string' }));
}

/** Normalizes a body of a built-in kind before validation (create and update alike). */
export function normalizeBuiltin(obj: KubeObject, info: ResourceInfo, current: KubeObject | undefined): void {
  if (!info.builtin) return;
  switch (info.kind) {
    case 'Secret': {
      const stringData = obj.stringData;
      if (isPlainObject(stringData)) {
        const data = isPlainObject(obj.data) ? (obj.data as Record<string, string>) : {};
        for (const [k, v] of Object.entries(stringData)) {
          data[k] = Buffer.from(String(v), 'utf8').toString('base64');
        }
        obj.data = data;
      }
      delete obj.stringData;
      if (obj.type === undefined) obj.type = (current?.type as string | undefined) ?? 'Opaque';
      break;
    }
    case 'Namespace': {
      const phase = current && current.metadata.deletionTimestamp ? 'Terminating' : 'Active';
      obj.status = { ...(isPlainObject(obj.status) ? obj.status : {}), phase };
      const spec = isPlainObject(obj.spec) ? obj.spec : {};
      if (!Array.isArray(spec.finalizers)) spec.finalizers = ['kubernetes'];
      obj.spec = spec;
      break;
    }
    case 'CustomResourceDefinition':
      applyCrdDefaults(obj);
      obj.status = crdStatusFor(obj);
      // The CRD's objects are removed before the CRD itself (see lifecycle.ts).
      if (!current) {
        const finalizers = obj.metadata.finalizers ?? [];
        if (!finalizers.includes(CRD_CLEANUP_FINALIZER)) obj.metadata.finalizers = [...finalizers, CRD_CLEANUP_FINALIZER];
      }
      break;
    default:
      info.applyDefaults?.(obj);
      break;
  }
}

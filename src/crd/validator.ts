// The create/update hot path for a custom resource body, in Kubernetes' order: prune fields
// the schema does not declare, apply defaults, then validate the result against the schema.
// Compiling is the expensive part, so a validator is compiled once per schema object.

import type { ValidateFunction } from 'ajv';
import type { StatusCause } from '../machinery/errors.js';
import type { JSONSchemaProps } from '../machinery/resource.js';
import { compileAjv } from './ajv-schema.js';
import { causesFromAjv } from './ajv-causes.js';
import { applyDefaults } from './defaulting.js';
import { pruneUnknownFields } from './pruning.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface ValidationResult {
  /** Schema violations: answer 422 Invalid with these causes. */
  causes: StatusCause[];
  /** Paths of the fields pruned because the schema does not declare them ("spec.foo"). */
  unknownFields: string[];
  /**
   * Under Strict with unknown fields: the 400 BadRequest message Kubernetes sends,
   * `strict decoding error: unknown field "spec.foo"`. Kubernetes checks this before schema
   * validation, so a caller should refuse with it first.
   */
  strictError?: string;
  /** Under Warn: one `unknown field "spec.foo"` per unknown field, for Warning headers. */
  warnings: string[];
}

export interface ObjectValidator {
  /** Prunes, defaults (both in place) and validates `obj`. */
  validate(obj: Record<string, unknown>, opts: { fieldValidation: FieldValidation }): ValidationResult;
}

export function unknownFieldMessage(path: string): string {
  return `unknown field ${JSON.stringify(path)}`;
}

export function strictDecodingError(unknownFields: string[]): string {
  return `strict decoding error: ${unknownFields.map(unknownFieldMessage).join(', ')}`;
}

const byIdentity = new WeakMap<JSONSchemaProps, ObjectValidator>();
// A CRD re-read from storage brings equal schemas as new objects; serializing is far cheaper
// than compiling, so equal schemas share one validator too.
const bySerialization = new Map<string, ObjectValidator>();
const maxSerializedEntries = 512;

/** A validator for objects of one kind and version; compiled once per distinct schema. */
export function compileValidator(schema: JSONSchemaProps): ObjectValidator {
  const cached = byIdentity.get(schema);
  if (cached) return cached;
  const key = JSON.stringify(schema);
  let validator = bySerialization.get(key);
  if (!validator) {
    validator = new SchemaValidator(schema, compileAjv(schema));
    if (bySerialization.size >= maxSerializedEntries) {
      bySerialization.delete(bySerialization.keys().next().value!);
    }
    bySerialization.set(key, validator);
  }
  byIdentity.set(schema, validator);
  return validator;
}

class SchemaValidator implements ObjectValidator {
  constructor(
    private readonly schema: JSONSchemaProps,
    private readonly check: ValidateFunction,
  ) {}

  validate(obj: Record<string, unknown>, opts: { fieldValidation: FieldValidation }): ValidationResult {
    const unknownFields = pruneUnknownFields(obj, this.schema);
    applyDefaults(obj, this.schema);
    const causes = this.check(obj) ? [] : causesFromAjv(this.check.errors, obj);
    const result: ValidationResult = { causes, unknownFields, warnings: [] };
    if (unknownFields.length > 0 && opts.fieldValidation === 'Strict') {
      result.strictError = strictDecodingError(unknownFields);
    }
    if (opts.fieldValidation === 'Warn') result.warnings = unknownFields.map(unknownFieldMessage);
    return result;
  }
}

/** Only the defaulting step, e.g. for objects read back from storage. */
export function defaultsOnly(schema: JSONSchemaProps, obj: Record<string, unknown>): void {
  applyDefaults(obj, schema);
}

export { pruneUnknownFields } from './pruning.js';
export { applyDefaults } from './defaulting.js';

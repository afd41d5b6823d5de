// The public face of server-side apply's field ownership; the API server's write path
// imports from here.

export { FieldSet, formatPath, parsePathElement, pathElement, type Path, type PathElement } from './fieldset.js';
export { fieldSetOf, strippedFields } from './field-set-of.js';
export { compareObjects, type Comparison } from './compare.js';
export { UNTYPED, fieldSchema, metadataSchema, rootSchema, shapeOf, type SchemaRef, type Shape } from './schema-walk.js';
export { applyObject, resetFieldsFor, type ApplyOptions, type ApplyResult } from './merge.js';
export { managerFromUserAgent, recordUpdate, type UpdateOptions } from './update.js';
export {
  decodeManagedFields,
  encodeManagedFields,
  extractManagedFieldsErrors,
  isResetManagedFields,
  managerIdentifier,
  type ManagerSet,
  type Managers,
} from './managed-fields.js';
export { conflictError, describeManager, type Conflict } from './conflict.js';
export { lastAppliedAnnotation } from './last-applied.js';

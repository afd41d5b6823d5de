// The CRD schema machinery the API server uses: pure functions, no HTTP and no storage.

export { checkStructural, DEFAULT_SCHEMA_PATH } from './structural.js';
export { validateCrd, applyCrdDefaults } from './crd-validation.js';
export {
  compileValidator,
  defaultsOnly,
  strictDecodingError,
  unknownFieldMessage,
  type FieldValidation,
  type ObjectValidator,
  type ValidationResult,
} from './validator.js';
export { evaluateJsonPath, parseJsonPath, JsonPathError } from './jsonpath.js';
export { buildTable, columnDefinitions, printerColumnsFor, defaultAgeColumn, type Table, type TableOptions, type IncludeObject } from './table.js';
export {
  openapiV3Index,
  openapiV3ForGroupVersion,
  openapiV3PathFor,
  groupByOpenapiPath,
  openapiV2,
  documentHash,
  definitionNameFor,
  kindSchemaFor,
} from './openapi.js';
export { builtinDefinitions, definitionNames } from './builtin-schemas.js';
export { resourceInfosFromCrd, crdStatusFor, acceptedNamesOf } from './from-crd.js';
export { humanDuration } from './duration.js';
export { causeToString } from './field-errors.js';

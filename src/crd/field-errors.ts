// Causes worded the way k8s.io/apimachinery/pkg/util/validation/field words them, so that a
// client reading `details.causes` (or the joined message) sees what kube-apiserver would say.
// `message` is field.Error.ErrorBody(): "<Type string>[: <value>][: <detail>]".

import type { StatusCause } from '../machinery/errors.js';

/** Renders a bad value as Go's field.Error does: strings quoted, scalars bare, the rest as JSON. */
export function formatBadValue(value: unknown): string {
  if (value === null || value === undefined) return '"null"';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return JSON.stringify(value);
}

function withDetail(head: string, detail?: string): string {
  return detail ? `${head}: ${detail}` : head;
}

export const fieldError = {
  required: (field: string, detail = ''): StatusCause => ({
    type: 'FieldValueRequired',
    field,
    message: withDetail('Required value', detail),
  }),
  forbidden: (field: string, detail = ''): StatusCause => ({
    type: 'FieldValueForbidden',
    field,
    message: withDetail('Forbidden', detail),
  }),
  invalid: (field: string, value: unknown, detail = ''): StatusCause => ({
    type: 'FieldValueInvalid',
    field,
    message: withDetail(`Invalid value: ${formatBadValue(value)}`, detail),
  }),
  typeInvalid: (field: string, value: unknown, detail = ''): StatusCause => ({
    type: 'FieldValueTypeInvalid',
    field,
    message: withDetail(`Invalid value: ${formatBadValue(value)}`, detail),
  }),
  notSupported: (field: string, value: unknown, supported: string[]): StatusCause => ({
    type: 'FieldValueNotSupported',
    field,
    message: withDetail(
      `Unsupported value: ${formatBadValue(value)}`,
      supported.length ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` : '',
    ),
  }),
  duplicate: (field: string, value: unknown): StatusCause => ({
    type: 'FieldValueDuplicate',
    field,
    message: `Duplicate value: ${formatBadValue(value)}`,
  }),
  tooLong: (field: string, max: number): StatusCause => ({
    type: 'FieldValueTooLong',
    field,
    message: `Too long: may not be more than ${max} ${max === 1 ? 'byte' : 'bytes'}`,
  }),
  tooMany: (field: string, actual: number, max: number): StatusCause => ({
    type: 'FieldValueTooMany',
    field,
    message: `Too many: ${actual}: must have at most ${max} items`,
  }),
};

/** field.Path helpers: `a.b`, `a[key]`, `a[0]`. */
export const fieldPath = {
  child: (path: string, name: string): string => (path ? `${path}.${name}` : name),
  key: (path: string, key: string): string => `${path}[${key}]`,
  index: (path: string, i: number): string => `${path}[${i}]`,
};

/** The one-line form Kubernetes prints for a cause: "field: message". */
export function causeToString(cause: StatusCause): string {
  return cause.field ? `${cause.field}: ${cause.message}` : `${cause.message}`;
}

// Fields whose value no two objects of a kind may share (API.md: a Baremetal's serialNumber, a
// Maintainer's account). The database holds the guarantee, so that it also holds for
// concurrent creates and for several API server replicas over one PostgreSQL: a partial
// unique index over the field, for the rows of that resource only. Admission checks the same
// against the cache first, for a dry run and a friendlier path; the index decides races.
import { errors, type ApiError } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';

export interface UniqueField {
  /** The storage resource, "group/plural". */
  resource: string;
  kind: string;
  group: string;
  /** The field's path in the object, e.g. ['spec', 'serialNumber']. */
  path: readonly string[];
  /** The unique index that enforces it (its name identifies a violation). */
  index: string;
}

export const UNIQUE_FIELDS: readonly UniqueField[] = [
  { resource: 'virtflow.io/baremetals', kind: 'Baremetal', group: 'virtflow.io', path: ['spec', 'serialNumber'], index: 'objects_unique_baremetal_serial_number' },
  { resource: 'virtflow.io/maintainers', kind: 'Maintainer', group: 'virtflow.io', path: ['spec', 'account'], index: 'objects_unique_maintainer_account' },
];

/** The value's expression in SQL; the same text in the index and in queries, so they match. */
export function uniqueValueSql(field: UniqueField): string {
  return `(value::jsonb #>> '{${field.path.join(',')}}')`;
}

/** The statement creating the field's index (identifiers are constants above, never input). */
export function uniqueIndexStatement(field: UniqueField): string {
  return `CREATE UNIQUE INDEX IF NOT EXISTS ${field.index} ON objects (${uniqueValueSql(field)}) WHERE resource = '${field.resource}'`;
}

export function uniqueValueOf(field: UniqueField, object: KubeObject): string | undefined {
  let node: unknown = object;
  for (const segment of field.path) node = (node as Record<string, unknown> | undefined)?.[segment];
  return typeof node === 'string' && node !== '' ? node : undefined;
}

/** The unique field a PostgreSQL error says was violated, if it is one of ours. */
export function violatedUniqueField(err: unknown): UniqueField | undefined {
  const e = err as { code?: string; constraint?: string } | undefined;
  if (e?.code !== '23505') return undefined;
  return UNIQUE_FIELDS.find((f) => f.index === e.constraint);
}

/** A write refused because another object already holds the value. */
export class UniqueValueTaken extends Error {
  constructor(
    readonly field: UniqueField,
    readonly value: string,
    /** The object that holds it (unknown when it went in between). */
    readonly holder: string | undefined,
  ) {
    super(`${field.path.join('.')} "${value}" is already used by ${field.kind} "${holder ?? '(unknown)'}"`);
    this.name = 'UniqueValueTaken';
  }
}

/** As field.Duplicate builds it: 422 Invalid with a FieldValueDuplicate cause naming the holder. */
export function duplicateValueError(field: UniqueField, name: string, value: string, holder: string | undefined): ApiError {
  const held = holder ? `: already used by ${field.kind} "${holder}"` : ': already used by another ' + field.kind;
  return errors.invalid(field.kind, field.group, name, [
    { type: 'FieldValueDuplicate', field: field.path.join('.'), message: `Duplicate value: ${JSON.stringify(value)}${held}` },
  ]);
}

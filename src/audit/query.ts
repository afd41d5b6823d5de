// One page of the audit trail as one SQL statement: the selectors become a WHERE clause, the
// page is the newest events below the continue point (keyset on (time, id), which indexes
// serve, so a page costs the same on the millionth row as on the first), and nothing else is
// ever read.
import type { FieldSelector } from '../machinery/fields.js';
import type { LabelRequirement, LabelSelector } from '../machinery/labels.js';
import { errors } from '../machinery/errors.js';
import { decodeContinueToken, encodeContinueToken } from '../api/continue-token.js';
import { AUDIT_FIELD_COLUMNS, AUDIT_LABELS, AUDIT_ROW_COLUMNS } from './resource.js';

/** The most events one page holds, whatever limit is asked for (a client follows `continue`). */
export const MAX_PAGE = 500;

/** An event's place in the trail: its time (metav1.MicroTime, exact to the microsecond) and id. */
export interface AuditPosition {
  time: string;
  id: bigint;
}

export interface AuditQuery {
  /** Only events about this namespace (a namespaced list or get). */
  namespace?: string;
  fields?: FieldSelector;
  labels?: LabelSelector;
  /** Only events older than this one (by time, then id): where the previous page ended. */
  before?: AuditPosition;
  /** Only this event (a get). */
  id?: bigint;
  limit: number;
}

const INT64_MAX = 2n ** 63n - 1n;
/** PostgreSQL timestamps run from 4713 BC to 294276 AD; these bounds sit well inside. */
const UNIX_MIN = -62_135_596_800n; // 0001-01-01
const UNIX_MAX = 253_402_300_799n; // 9999-12-31
const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;

/** A decimal id as stored (1 … 2^63-1), or undefined when the text cannot be one. */
export function parseId(text: string): bigint | undefined {
  if (!/^[1-9][0-9]{0,18}$/.test(text)) return undefined;
  const id = BigInt(text);
  return id <= INT64_MAX ? id : undefined;
}

function parseInteger(text: string): bigint | undefined {
  return /^[+-]?[0-9]{1,30}$/.test(text) ? BigInt(text) : undefined;
}

class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** `column op value` for an integer column; a value outside what the column holds decides alone. */
function compareInteger(params: Params, column: string, op: '=' | '>' | '<', value: bigint, min: bigint, max: bigint): string {
  if (value > max) return op === '<' ? 'TRUE' : 'FALSE';
  if (value < min) return op === '>' ? 'TRUE' : 'FALSE';
  return `${column} ${op} ${params.add(value.toString())}`;
}

function fieldCondition(params: Params, field: string, op: '=' | '!=', value: string): string {
  const column = AUDIT_FIELD_COLUMNS[field];
  // parseSelection has refused every other field already; this keeps SQL out of reach anyway.
  if (!column) throw errors.badRequest(`field label not supported: ${field}`);
  let equal: string;
  if (column === 'id') {
    const id = parseId(value);
    equal = id === undefined ? 'FALSE' : `id = ${params.add(id.toString())}`;
  } else if (column === 'code') {
    const code = parseInteger(value);
    equal = code === undefined ? 'FALSE' : compareInteger(params, 'code', '=', code, INT32_MIN, INT32_MAX);
  } else if (value.includes('\u0000')) {
    // PostgreSQL text holds no NUL, so nothing stored equals this value.
    equal = 'FALSE';
  } else {
    equal = `${column} = ${params.add(value)}`;
  }
  return op === '=' ? equal : `NOT (${equal})`;
}

/** One label value against the event's own label (time or code), which is always an integer. */
function labelEquals(params: Params, key: string, value: string): string {
  const n = parseInteger(value);
  // The labels are printed as plain decimals: "+5" or "05" is no value they ever have.
  if (n === undefined || n.toString() !== value) return 'FALSE';
  if (key === AUDIT_LABELS.code) return compareInteger(params, 'code', '=', n, INT32_MIN, INT32_MAX);
  if (n < UNIX_MIN || n > UNIX_MAX) return 'FALSE';
  return `(time >= to_timestamp(${params.add(n.toString())}) AND time < to_timestamp(${params.add((n + 1n).toString())}))`;
}

/** The time label is whole seconds: label > n is time >= n+1 s, label < n is time < n s (which the time index serves). */
function labelCompare(params: Params, key: string, op: 'gt' | 'lt', n: bigint): string {
  if (key === AUDIT_LABELS.code) return compareInteger(params, 'code', op === 'gt' ? '>' : '<', n, INT32_MIN, INT32_MAX);
  if (op === 'gt') {
    if (n + 1n > UNIX_MAX) return 'FALSE';
    if (n + 1n < UNIX_MIN) return 'TRUE';
    return `time >= to_timestamp(${params.add((n + 1n).toString())})`;
  }
  if (n > UNIX_MAX) return 'TRUE';
  if (n < UNIX_MIN) return 'FALSE';
  return `time < to_timestamp(${params.add(n.toString())})`;
}

/**
 * A label requirement as SQL. Every event has exactly the labels in AUDIT_LABELS, so a
 * requirement on any other key is decided without the table, as labels.Selector would decide
 * it for an object without that label.
 */
function labelCondition(params: Params, r: LabelRequirement): string {
  const own = r.key === AUDIT_LABELS.time || r.key === AUDIT_LABELS.code;
  const anyOf = () => (r.values.length === 0 ? 'FALSE' : `(${r.values.map((v) => labelEquals(params, r.key, v)).join(' OR ')})`);
  switch (r.operator) {
    case 'exists':
      return own ? 'TRUE' : 'FALSE';
    case '!':
      return own ? 'FALSE' : 'TRUE';
    case '=':
    case '==':
    case 'in':
      return own ? anyOf() : 'FALSE';
    case '!=':
    case 'notin':
      return own ? `NOT ${anyOf()}` : 'TRUE';
    case 'gt':
    case 'lt':
      return own ? labelCompare(params, r.key, r.operator, BigInt(r.values[0]!)) : 'FALSE';
  }
}

/**
 * The statement of one page: at most `limit` + 1 rows, newest first (the extra one says there
 * is more). Reads are recorded in batches, so ids alone are not in time order. It orders by
 * the columns, not by the selected texts of the same names.
 */
export function auditPageSql(q: AuditQuery): { text: string; values: unknown[] } {
  const params = new Params();
  const where: string[] = [];
  if (q.namespace !== undefined) where.push(`namespace = ${params.add(q.namespace)}`);
  if (q.id !== undefined) where.push(`id = ${params.add(q.id.toString())}`);
  if (q.before !== undefined) where.push(`(time, id) < (${params.add(q.before.time)}::timestamptz, ${params.add(q.before.id.toString())}::bigint)`);
  for (const r of q.fields?.requirements ?? []) where.push(fieldCondition(params, r.field, r.op, r.value));
  for (const r of q.labels?.requirements ?? []) where.push(labelCondition(params, r));
  const text = `SELECT ${AUDIT_ROW_COLUMNS} FROM audit_events${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
    ORDER BY audit_events.time DESC, audit_events.id DESC LIMIT ${params.add(q.limit + 1)}`;
  return { text, values: params.values };
}

/** Where the next page starts, as an opaque token. */
const CONTINUE_VERSION = 'virtflow-audit/1';

export function encodeAuditContinue(after: AuditPosition): string {
  return encodeContinueToken(CONTINUE_VERSION, { time: after.time, id: after.id.toString() });
}

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

/** A MicroTime PostgreSQL reads back as the same instant: no 30 February, no year 0. */
function microTimeOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || !MICRO_TIME.test(value) || value.startsWith('0000')) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 23) !== value.slice(0, 23)) return undefined;
  return value;
}

export function decodeAuditContinue(raw: string): AuditPosition {
  return decodeContinueToken(raw, CONTINUE_VERSION, (fields) => {
    const id = typeof fields.id === 'string' ? parseId(fields.id) : undefined;
    const time = microTimeOf(fields.time);
    return id !== undefined && time !== undefined ? { time, id } : undefined;
  });
}

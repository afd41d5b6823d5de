// How large a stored object may be, and how to tell cheaply. etcd refuses a request over 1.5 MiB
// and kube-apiserver inherits that bound; without it, a handful of patches grew one object to
// tens of megabytes, every write of which blocked the event loop for seconds.
import { errors, type ApiError } from './errors.js';

/** etcd's default --max-request-bytes: the largest object (as JSON) VirtFlow stores. */
export const MAX_OBJECT_BYTES = 1536 * 1024;

/**
 * The bytes `value` takes as JSON (UTF-8), or Infinity as soon as it passes `budget`: a walk
 * that stops early and allocates nothing, so a hostile document costs at most `budget` steps.
 * Counted as JSON.stringify writes it (close enough: control characters other than \n and \t
 * are counted at their longest escape).
 */
export function jsonSizeWithin(value: unknown, budget: number): number {
  const size = measure(value, budget);
  return size > budget ? Infinity : size;
}

function measure(value: unknown, budget: number): number {
  switch (typeof value) {
    case 'string':
      return stringSize(value);
    case 'number':
      return Number.isFinite(value) ? String(value).length : 4;
    case 'boolean':
      return value ? 4 : 5;
    case 'object':
      break;
    default:
      return 0;
  }
  if (value === null) return 4;
  let size = 2;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      size += measure(value[i], budget - size) + (i > 0 ? 1 : 0);
      if (size > budget) return size;
    }
    return size;
  }
  let first = true;
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (child === undefined) continue;
    size += stringSize(key) + 1 + (first ? 0 : 1);
    first = false;
    if (size > budget) return size;
    size += measure(child, budget - size);
    if (size > budget) return size;
  }
  return size;
}

function stringSize(text: string): number {
  if (/^[\x20-\x7e]*$/.test(text)) return text.length + 2 + countEscaped(text);
  let controls = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) controls++;
  // A control character is written as \u00XX, six bytes for one.
  return Buffer.byteLength(text, 'utf8') + 2 + countEscaped(text) + 5 * controls;
}

function countEscaped(text: string): number {
  let n = 0;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) n++;
  for (let i = text.indexOf('\\'); i >= 0; i = text.indexOf('\\', i + 1)) n++;
  return n;
}

/** The 413 kube-apiserver answers for an object over the storage limit. */
export function objectTooLarge(bytes?: number): ApiError {
  const size = bytes === undefined || !Number.isFinite(bytes) ? `more than ${MAX_OBJECT_BYTES}` : String(bytes);
  return errors.tooLarge(`Request entity too large: the object would take ${size} bytes, over the limit of ${MAX_OBJECT_BYTES} bytes`);
}

/** Refuses an object whose JSON would pass the storage limit, before any work is spent on it. */
export function checkObjectSize(value: unknown): void {
  if (jsonSizeWithin(value, MAX_OBJECT_BYTES) > MAX_OBJECT_BYTES) throw objectTooLarge();
}

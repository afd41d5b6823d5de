// JSON helpers that behave like the Go encoders Kubernetes uses, so that keys written into
// managedFields are byte-for-byte what a real API server would write.

import { isPlainObject } from '../machinery/object.js';

/**
 * JSON with object keys sorted and HTML-sensitive characters escaped, as Go's encoding/json
 * (and json-iterator in standard-library mode) writes it. Key path elements depend on this
 * being canonical: two spellings of one key must serialize identically.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)).replace(/[<>&\u2028\u2029]/g, (c) => {
    return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
  });
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key]);
  return out;
}

/** Structural equality of JSON values; object key order does not matter, list order does. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    // Undefined fields count as absent, as in JSON; counted, not filtered into new arrays,
    // since the API server compares whole objects on every update.
    let defined = 0;
    for (const k of Object.keys(a)) {
      const v = a[k];
      if (v === undefined) continue;
      defined++;
      if (!Object.prototype.hasOwnProperty.call(b, k) || !deepEqual(v, b[k])) return false;
    }
    for (const k of Object.keys(b)) if (b[k] !== undefined) defined--;
    return defined === 0;
  }
  return false;
}

/**
 * A scalar as Go's value.ToString prints it inside a field path: strings quoted, numbers and
 * booleans bare. Used only for human-readable paths in conflict messages.
 */
export function goValueString(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return '[' + value.map(goValueString).join(',') + ']';
  if (isPlainObject(value)) {
    return Object.keys(value)
      .sort()
      .map((k) => `${k}=${goValueString(value[k])}`)
      .join('');
  }
  return String(value);
}

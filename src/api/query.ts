// Query parameters read the way kube-apiserver's parameter codec reads them
// (k8s.io/apimachinery/pkg/runtime/conversion.go), so that a client that is not kubectl
// (`watch=True`, `limit=+5`) gets what kube-apiserver would give it.
import type { IncludeObject } from '../crd/table.js';
import { errors } from '../machinery/errors.js';

/**
 * Convert_Slice_string_To_bool: absent is undefined; "0" and "false" in any case are false;
 * every other value, the empty one included, is true. (Not strconv.ParseBool: kube-apiserver
 * never refuses a boolean parameter, and `watch=yes` starts a watch there.)
 */
export function queryBool(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  return !(raw === '0' || raw.toLowerCase() === 'false');
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * strconv.ParseInt(s, 10, 64), as Convert_Slice_string_To_int64 calls it: an optional sign and
 * decimal digits, within int64. Absent or empty is undefined (an empty value is what clients
 * send for "unset"). Anything else is a 400 naming the parameter, with Go's own wording.
 */
export function queryInt(query: URLSearchParams, name: string, opts: { min?: number } = {}): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^[+-]?[0-9]+$/.test(raw)) throw invalidInt(name, raw, 'invalid syntax');
  const big = BigInt(raw);
  if (big < INT64_MIN || big > INT64_MAX) throw invalidInt(name, raw, 'value out of range');
  const value = Number(big);
  if (opts.min !== undefined && value < opts.min) {
    throw errors.badRequest(`invalid value for query parameter ${JSON.stringify(name)}: ${raw}: must be greater than or equal to ${opts.min}`);
  }
  return value;
}

function invalidInt(name: string, raw: string, why: string) {
  const shown = raw.length > 64 ? `${raw.slice(0, 64)}...` : raw;
  return errors.badRequest(`invalid value for query parameter ${JSON.stringify(name)}: strconv.ParseInt: parsing ${JSON.stringify(shown)}: ${why}`);
}

/** How much of each object a Table row carries (`?includeObject=`, default Metadata). */
export function includeObjectOf(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject');
  if (v === null || v === '') return 'Metadata';
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  throw errors.badRequest(`includeObject must be one of None, Metadata or Object, got "${v}"`);
}

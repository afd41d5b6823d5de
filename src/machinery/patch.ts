// The two document patches the API accepts besides server-side apply: JSON merge patch
// (RFC 7386, `application/merge-patch+json`) and JSON patch (RFC 6902,
// `application/json-patch+json`). Neither touches its inputs: handlers patch the stored object,
// which watchers and caches may still hold.
//
// Status codes follow kube-apiserver (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/
// patch.go): a body that is not a patch at all is 400, too many operations is 413, and an
// operation that cannot be applied (missing path, failed test) is 422 Invalid. Unlike upstream,
// whose 422 says only "the server rejected our request", ours names the operation and path.

import jsonpatch from 'fast-json-patch';
import { ApiError, errors } from './errors.js';
import { isPlainObject } from './object.js';
import { jsonSizeWithin } from './size.js';

/** kube-apiserver's default cap on operations in one JSON patch. */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;
/**
 * kube-apiserver's JSONPatchMaxCopyBytes (its request body limit, 3 MiB): what the `copy`
 * operations of one patch may add up to. Each copy may double the document, so without it a
 * 1.4 KB patch of 30 copies outgrows the heap.
 */
export const MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024;
/** Deeper documents are refused before any recursive walk can exhaust the stack. */
export const MAX_PATCH_DEPTH = 1_000;

// Keys that would reach Object.prototype if a patch could name them.
const FORBIDDEN_KEYS = new Set(['__proto__']);

function tooDeep(what: string): ApiError {
  return errors.badRequest(`the ${what} is nested more than ${MAX_PATCH_DEPTH} levels deep`);
}

/** Sets an own data property even for keys that plain assignment would treat specially. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/**
 * A deep copy of a JSON value sharing nothing with the original. `checkKeys` refuses the
 * prototype-polluting keys that only a patch has reason to be checked for.
 */
function cloneJson(value: unknown, what: string, depth = 0, checkKeys = false): unknown {
  if (depth > MAX_PATCH_DEPTH) throw tooDeep(what);
  if (Array.isArray(value)) return value.map((v) => cloneJson(v, what, depth + 1, checkKeys));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (checkKeys && FORBIDDEN_KEYS.has(key)) throw forbiddenKey(what, key);
      setOwn(out, key, cloneJson(value[key], what, depth + 1, checkKeys));
    }
    return out;
  }
  return value;
}

function forbiddenKey(what: string, key: string): ApiError {
  return errors.badRequest(`the ${what} may not contain the key ${JSON.stringify(key)}`);
}

// ---- JSON merge patch ----------------------------------------------------------------------

/** RFC 7386 applied to a document this module owns (a fresh clone), so it may write into it. */
function mergeInto(target: unknown, patch: unknown, depth: number): unknown {
  if (depth > MAX_PATCH_DEPTH) throw tooDeep('merge patch');
  if (!isPlainObject(patch)) return cloneJson(patch, 'merge patch', depth, true);
  const result: Record<string, unknown> = isPlainObject(target) ? target : {};
  for (const key of Object.keys(patch)) {
    if (FORBIDDEN_KEYS.has(key)) throw forbiddenKey('merge patch', key);
    const value = patch[key];
    if (value === null) {
      delete result[key];
    } else {
      const current = Object.hasOwn(result, key) ? result[key] : undefined;
      setOwn(result, key, mergeInto(current, value, depth + 1));
    }
  }
  return result;
}

/**
 * Applies a JSON merge patch: objects merge key by key, `null` deletes, anything else (arrays
 * included) replaces. Returns a new document; neither argument is changed.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  return mergeInto(cloneJson(target, 'object'), patch, 0);
}

// ---- JSON patch ----------------------------------------------------------------------------

const OPERATIONS = ['add', 'remove', 'replace', 'move', 'copy', 'test'] as const;
type OperationName = (typeof OPERATIONS)[number];

interface Operation {
  op: OperationName;
  path: string;
  from?: string;
  value?: unknown;
}

/** Thrown inside one operation; applyJsonPatch turns it into the 422 naming that operation. */
class OperationFailure extends Error {
  constructor(
    message: string,
    readonly pointer?: string,
  ) {
    super(message);
  }
}

/** A JSON pointer's reference tokens: "/a~1b/0" is ["a/b", "0"]. */
function parsePointer(pointer: string, member: 'path' | 'from'): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) {
    throw new OperationFailure(`${member} ${JSON.stringify(pointer)} is not a JSON pointer: it must be empty or start with "/"`, pointer);
  }
  return pointer
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~(?![01])/.test(token)) {
        throw new OperationFailure(`${member} ${JSON.stringify(pointer)} has an invalid escape: only ~0 and ~1 are allowed`, pointer);
      }
      const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
      if (FORBIDDEN_KEYS.has(key)) {
        throw new OperationFailure(`${member} ${JSON.stringify(pointer)} may not name ${JSON.stringify(key)}`, pointer);
      }
      return key;
    });
}

const arrayIndexRe = /^(0|[1-9][0-9]*)$/;

/** Walks own properties only, so "/constructor" does not find Object.prototype's. */
function lookup(doc: unknown, tokens: string[]): { found: boolean; value?: unknown } {
  let node = doc;
  for (const token of tokens) {
    if (Array.isArray(node)) {
      if (!arrayIndexRe.test(token) || Number(token) >= node.length) return { found: false };
      node = node[Number(token)];
    } else if (isPlainObject(node) && Object.hasOwn(node, token)) {
      node = node[token];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: node };
}

function requireExisting(doc: unknown, pointer: string, member: 'path' | 'from'): unknown {
  const hit = lookup(doc, parsePointer(pointer, member));
  if (!hit.found) {
    throw new OperationFailure(`doc is missing ${member === 'from' ? 'from ' : ''}path ${JSON.stringify(pointer)}`, pointer);
  }
  return hit.value;
}

/** `add` needs the parent to exist; an array index may be "-" or at most the array's length. */
function requireAddable(doc: unknown, pointer: string): void {
  const tokens = parsePointer(pointer, 'path');
  if (tokens.length === 0) return;
  const parent = lookup(doc, tokens.slice(0, -1));
  const last = tokens[tokens.length - 1]!;
  if (!parent.found) {
    throw new OperationFailure(`doc is missing the parent of path ${JSON.stringify(pointer)}`, pointer);
  }
  if (Array.isArray(parent.value)) {
    if (last === '-') return;
    if (!arrayIndexRe.test(last)) {
      throw new OperationFailure(`${JSON.stringify(last)} is not an array index in path ${JSON.stringify(pointer)}`, pointer);
    }
    if (Number(last) > parent.value.length) {
      throw new OperationFailure(
        `array index ${last} is out of bounds (the array has ${parent.value.length} items) in path ${JSON.stringify(pointer)}`,
        pointer,
      );
    }
    return;
  }
  if (!isPlainObject(parent.value)) {
    throw new OperationFailure(`the parent of path ${JSON.stringify(pointer)} is neither an object nor an array`, pointer);
  }
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** Checks one decoded entry for the members its `op` needs. */
function readOperation(raw: Record<string, unknown>): Operation {
  const { op, path, from } = raw;
  if (typeof op !== 'string' || !(OPERATIONS as readonly string[]).includes(op)) {
    throw new OperationFailure(`unknown operation ${JSON.stringify(op)}: expected one of ${OPERATIONS.join(', ')}`);
  }
  if (typeof path !== 'string') throw new OperationFailure(`operation ${op} is missing "path"`);
  const operation: Operation = { op: op as OperationName, path };
  if (op === 'move' || op === 'copy') {
    if (typeof from !== 'string') throw new OperationFailure(`operation ${op} is missing "from"`, path);
    operation.from = from;
  }
  if (op === 'add' || op === 'replace' || op === 'test') {
    if (!Object.hasOwn(raw, 'value') || raw.value === undefined) {
      throw new OperationFailure(`operation ${op} is missing "value"`, path);
    }
    operation.value = cloneJson(raw.value, 'JSON patch', 1, true);
  }
  return operation;
}

/** fast-json-patch mutates `doc` in place; we only ever hand it our private clone. */
function put(doc: unknown, op: 'add' | 'replace' | 'remove', path: string, value?: unknown): unknown {
  if (path === '') return op === 'remove' ? undefined : value;
  return jsonpatch.applyOperation(doc, { op, path, value } as jsonpatch.Operation, false, true, true)
    .newDocument;
}

/** What the patch has copied so far; `copy` refuses to pass MAX_JSON_PATCH_COPY_BYTES. */
interface CopyBudget {
  copied: number;
}

function applyOne(doc: unknown, op: Operation, budget: CopyBudget): unknown {
  switch (op.op) {
    case 'add':
      requireAddable(doc, op.path);
      return put(doc, 'add', op.path, op.value);
    case 'remove':
      if (op.path === '') throw new OperationFailure('the whole document may not be removed', op.path);
      requireExisting(doc, op.path, 'path');
      return put(doc, 'remove', op.path);
    case 'replace':
      requireExisting(doc, op.path, 'path');
      return put(doc, 'replace', op.path, op.value);
    case 'test': {
      const current = requireExisting(doc, op.path, 'path');
      if (!jsonEqual(current, op.value)) {
        throw new OperationFailure(`test failed: the value at ${JSON.stringify(op.path)} is not equal to the given value`, op.path);
      }
      return doc;
    }
    case 'copy': {
      const source = requireExisting(doc, op.from!, 'from');
      // Measured before it is cloned: the clone is what would exhaust the heap.
      const size = jsonSizeWithin(source, MAX_JSON_PATCH_COPY_BYTES - budget.copied);
      if (!Number.isFinite(size)) {
        throw new OperationFailure(
          `Unable to complete the copy, the accumulated size increase of copy would exceed the limit ${MAX_JSON_PATCH_COPY_BYTES}`,
          op.path,
        );
      }
      budget.copied += size;
      const value = cloneJson(source, 'object');
      requireAddable(doc, op.path);
      return put(doc, 'add', op.path, value);
    }
    case 'move': {
      const value = requireExisting(doc, op.from!, 'from');
      if (op.path === op.from) return doc;
      if (op.path.startsWith(`${op.from}/`)) {
        throw new OperationFailure(`path ${JSON.stringify(op.path)} may not be a child of from ${JSON.stringify(op.from)}`, op.path);
      }
      // The target is checked after the removal, as RFC 6902 reads indices after it.
      const removed = put(doc, 'remove', op.from!);
      requireAddable(removed, op.path);
      return put(removed, 'add', op.path, value);
    }
  }
}

/**
 * Applies a JSON patch to a copy of `target` and returns it. `ops` is the decoded request body:
 * not a list of objects → 400; more than 10,000 operations → 413; an operation that is
 * malformed or does not apply → 422 naming the operation's index, kind and path.
 */
export function applyJsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) {
    throw errors.badRequest(`a JSON patch must be a list of operations, got ${ops === null ? 'null' : typeof ops}`);
  }
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw errors.tooLarge(
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`,
    );
  }
  ops.forEach((raw, i) => {
    if (!isPlainObject(raw)) throw errors.badRequest(`JSON patch operation ${i} is not an object`);
  });
  let doc = cloneJson(target, 'object');
  const budget: CopyBudget = { copied: 0 };
  (ops as Record<string, unknown>[]).forEach((raw, i) => {
    const where = typeof raw.path === 'string' ? ` at ${JSON.stringify(raw.path)}` : '';
    const label = `JSON patch operation ${i} (${typeof raw.op === 'string' ? raw.op : '?'}${where})`;
    try {
      doc = applyOne(doc, readOperation(raw), budget);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      const field = err instanceof OperationFailure ? err.pointer : undefined;
      throw new ApiError(422, 'Invalid', `${label} failed: ${message}`, {
        causes: [{ type: 'FieldValueInvalid', message, ...(field !== undefined ? { field } : {}) }],
      });
    }
  });
  return doc;
}

import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { MAX_JSON_PATCH_COPY_BYTES, MAX_PATCH_DEPTH, applyJsonPatch, applyMergePatch } from './patch.js';

function thrown(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

const vm = () => ({
  metadata: { name: 'vm-1', labels: { app: 'web', tier: 'front' } },
  spec: { cpu: 2, disks: ['root', 'data'], network: { vlan: 10 } },
});

function nested(depth: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

describe('applyMergePatch (RFC 7386)', () => {
  const cases: { name: string; target: unknown; patch: unknown; want: unknown }[] = [
    { name: 'a member is replaced', target: { a: 'b' }, patch: { a: 'c' }, want: { a: 'c' } },
    { name: 'a member is added', target: { a: 'b' }, patch: { b: 'c' }, want: { a: 'b', b: 'c' } },
    { name: 'null removes a member', target: { a: 'b', b: 'c' }, patch: { a: null }, want: { b: 'c' } },
    { name: 'null for a missing member changes nothing', target: { a: 'b' }, patch: { z: null }, want: { a: 'b' } },
    { name: 'nested objects merge', target: { a: { b: 'c', d: 'e' } }, patch: { a: { b: 'x' } }, want: { a: { b: 'x', d: 'e' } } },
    { name: 'arrays are replaced wholesale', target: { a: [1, 2] }, patch: { a: [3] }, want: { a: [3] } },
    { name: 'an object replaces a scalar and loses its nulls', target: { a: 'b' }, patch: { a: { c: 'd', e: null } }, want: { a: { c: 'd' } } },
    { name: 'a non-object patch replaces the document', target: { a: 'b' }, patch: ['c'], want: ['c'] },
    { name: 'an object patch on a non-object target starts from empty', target: ['a'], patch: { b: 'c' }, want: { b: 'c' } },
    { name: 'nulls inside arrays are kept', target: {}, patch: { a: [null] }, want: { a: [null] } },
    { name: 'an empty patch returns an equal document', target: { a: { b: 1 } }, patch: {}, want: { a: { b: 1 } } },
    {
      name: 'a label is removed and another added on a Kubernetes object',
      target: vm(),
      patch: { metadata: { labels: { tier: null, zone: 'a' } } },
      want: { ...vm(), metadata: { name: 'vm-1', labels: { app: 'web', zone: 'a' } } },
    },
  ];
  it.each(cases)('$name', ({ target, patch, want }) => {
    expect(applyMergePatch(target, patch)).toEqual(want);
  });

  it('changes neither the target nor the patch and shares nothing with them', () => {
    const target = vm();
    const patch = { spec: { network: { vlan: 20 }, extra: { deep: [1] } } };
    const targetCopy = structuredClone(target);
    const patchCopy = structuredClone(patch);
    const result = applyMergePatch(target, patch) as ReturnType<typeof vm> & { spec: { extra: { deep: number[] } } };
    expect(target).toEqual(targetCopy);
    expect(patch).toEqual(patchCopy);
    result.metadata.labels.app = 'changed';
    result.spec.extra.deep.push(2);
    expect(target.metadata.labels.app).toBe('web');
    expect(patch.spec.extra.deep).toEqual([1]);
  });

  it('refuses a __proto__ key instead of polluting the prototype', () => {
    const patch = JSON.parse('{"metadata": {"__proto__": {"polluted": true}}}');
    const err = thrown(() => applyMergePatch(vm(), patch));
    expect(err.code).toBe(400);
    expect(err.message).toBe('the merge patch may not contain the key "__proto__"');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('treats a constructor key as plain data', () => {
    expect(applyMergePatch({}, { constructor: { prototype: 'x' } })).toEqual({ constructor: { prototype: 'x' } });
    expect(typeof Object.prototype.constructor).toBe('function');
  });

  it('refuses a patch nested deeper than the limit', () => {
    const err = thrown(() => applyMergePatch({}, nested(MAX_PATCH_DEPTH + 5)));
    expect(err.code).toBe(400);
    expect(err.message).toContain('nested more than');
  });
});

describe('applyJsonPatch (RFC 6902) applying', () => {
  const cases: { name: string; ops: unknown[]; want: unknown }[] = [
    { name: 'add sets a new member', ops: [{ op: 'add', path: '/spec/memory', value: '4Gi' }], want: { ...vm(), spec: { ...vm().spec, memory: '4Gi' } } },
    { name: 'add inserts into an array at an index', ops: [{ op: 'add', path: '/spec/disks/1', value: 'swap' }], want: { ...vm(), spec: { ...vm().spec, disks: ['root', 'swap', 'data'] } } },
    { name: 'add appends with a dash', ops: [{ op: 'add', path: '/spec/disks/-', value: 'log' }], want: { ...vm(), spec: { ...vm().spec, disks: ['root', 'data', 'log'] } } },
    { name: 'remove deletes a member', ops: [{ op: 'remove', path: '/metadata/labels/tier' }], want: { ...vm(), metadata: { name: 'vm-1', labels: { app: 'web' } } } },
    { name: 'replace changes a value', ops: [{ op: 'replace', path: '/spec/cpu', value: 4 }], want: { ...vm(), spec: { ...vm().spec, cpu: 4 } } },
    { name: 'move relocates a value', ops: [{ op: 'move', from: '/spec/network', path: '/spec/net' }], want: { ...vm(), spec: { cpu: 2, disks: ['root', 'data'], net: { vlan: 10 } } } },
    { name: 'move within an array reads the target index after the removal', ops: [{ op: 'move', from: '/spec/disks/0', path: '/spec/disks/1' }], want: { ...vm(), spec: { ...vm().spec, disks: ['data', 'root'] } } },
    { name: 'copy duplicates a value', ops: [{ op: 'copy', from: '/spec/cpu', path: '/spec/maxCpu' }], want: { ...vm(), spec: { ...vm().spec, maxCpu: 2 } } },
    { name: 'a passing test lets later operations apply', ops: [{ op: 'test', path: '/spec/network', value: { vlan: 10 } }, { op: 'replace', path: '/spec/cpu', value: 8 }], want: { ...vm(), spec: { ...vm().spec, cpu: 8 } } },
    { name: 'escaped pointer tokens address keys with slashes and tildes', ops: [{ op: 'add', path: '/metadata/labels/virtflow.io~1tenant', value: 'a~b' }, { op: 'add', path: '/metadata/labels/x~0y', value: 'z' }], want: { ...vm(), metadata: { name: 'vm-1', labels: { app: 'web', tier: 'front', 'virtflow.io/tenant': 'a~b', 'x~y': 'z' } } } },
    { name: 'replace at the root replaces the document', ops: [{ op: 'replace', path: '', value: { a: 1 } }], want: { a: 1 } },
    { name: 'an empty patch returns an equal document', ops: [], want: vm() },
  ];
  it.each(cases)('$name', ({ ops, want }) => {
    expect(applyJsonPatch(vm(), ops)).toEqual(want);
  });

  it('changes neither the target nor the operations', () => {
    const target = vm();
    const value = { size: '10Gi' };
    const ops = [
      { op: 'add', path: '/spec/volume', value },
      { op: 'replace', path: '/spec/volume/size', value: '20Gi' },
    ];
    const result = applyJsonPatch(target, ops) as { spec: { volume: { size: string } } };
    expect(result.spec.volume.size).toBe('20Gi');
    expect(value.size).toBe('10Gi');
    expect(target).toEqual(vm());
  });
});

describe('applyJsonPatch refusals', () => {
  const cases: { name: string; ops: unknown; code: number; message: string }[] = [
    { name: 'a body that is not a list is a bad request', ops: { op: 'add' }, code: 400, message: 'a JSON patch must be a list of operations, got object' },
    { name: 'an entry that is not an object is a bad request', ops: ['add'], code: 400, message: 'JSON patch operation 0 is not an object' },
    { name: 'an unknown operation is invalid', ops: [{ op: 'merge', path: '/a' }], code: 422, message: 'JSON patch operation 0 (merge at "/a") failed: unknown operation "merge": expected one of add, remove, replace, move, copy, test' },
    { name: 'a missing path is invalid', ops: [{ op: 'remove' }], code: 422, message: 'JSON patch operation 0 (remove) failed: operation remove is missing "path"' },
    { name: 'a missing value is invalid', ops: [{ op: 'add', path: '/spec/x' }], code: 422, message: 'JSON patch operation 0 (add at "/spec/x") failed: operation add is missing "value"' },
    { name: 'a path without a leading slash is invalid', ops: [{ op: 'add', path: 'spec/x', value: 1 }], code: 422, message: 'path "spec/x" is not a JSON pointer' },
    { name: 'removing a missing member names the operation and path', ops: [{ op: 'test', path: '/spec/cpu', value: 2 }, { op: 'remove', path: '/spec/gpu' }], code: 422, message: 'JSON patch operation 1 (remove at "/spec/gpu") failed: doc is missing path "/spec/gpu"' },
    { name: 'replacing a missing member is invalid', ops: [{ op: 'replace', path: '/spec/gpu', value: 1 }], code: 422, message: 'doc is missing path "/spec/gpu"' },
    { name: 'adding under a missing parent is invalid', ops: [{ op: 'add', path: '/status/phase', value: 'Running' }], code: 422, message: 'doc is missing the parent of path "/status/phase"' },
    { name: 'adding past the end of an array is invalid', ops: [{ op: 'add', path: '/spec/disks/5', value: 'x' }], code: 422, message: 'array index 5 is out of bounds (the array has 2 items)' },
    { name: 'an array index with a leading zero is invalid', ops: [{ op: 'replace', path: '/spec/disks/01', value: 'x' }], code: 422, message: 'doc is missing path "/spec/disks/01"' },
    { name: 'a failed test names the path', ops: [{ op: 'test', path: '/spec/cpu', value: 4 }], code: 422, message: 'JSON patch operation 0 (test at "/spec/cpu") failed: test failed: the value at "/spec/cpu" is not equal to the given value' },
    { name: 'a test on a missing path fails', ops: [{ op: 'test', path: '/spec/gpu', value: null }], code: 422, message: 'doc is missing path "/spec/gpu"' },
    { name: 'moving from a missing path is invalid', ops: [{ op: 'move', from: '/spec/gpu', path: '/spec/x' }], code: 422, message: 'doc is missing from path "/spec/gpu"' },
    { name: 'moving a value into its own child is invalid', ops: [{ op: 'move', from: '/spec', path: '/spec/inner' }], code: 422, message: 'may not be a child of from "/spec"' },
    { name: 'a __proto__ path is refused', ops: [{ op: 'add', path: '/__proto__/polluted', value: true }], code: 422, message: 'may not name "__proto__"' },
    { name: 'an inherited constructor is not a member', ops: [{ op: 'copy', from: '/constructor', path: '/x' }], code: 422, message: 'doc is missing from path "/constructor"' },
    { name: 'an invalid escape in a path is refused', ops: [{ op: 'remove', path: '/a~2b' }], code: 422, message: 'has an invalid escape' },
    { name: 'removing the whole document is refused', ops: [{ op: 'remove', path: '' }], code: 422, message: 'the whole document may not be removed' },
    { name: 'more than 10,000 operations is too large', ops: Array.from({ length: 10_001 }, () => ({ op: 'test', path: '', value: 1 })), code: 413, message: 'The allowed maximum operations in a JSON patch is 10000, got 10001' },
  ];
  it.each(cases)('$name', ({ ops, code, message }) => {
    const err = thrown(() => applyJsonPatch(vm(), ops));
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a 422 carries the failing path as a cause', () => {
    const err = thrown(() => applyJsonPatch(vm(), [{ op: 'remove', path: '/spec/gpu' }]));
    expect(err.reason).toBe('Invalid');
    expect(err.details?.causes).toEqual([{ type: 'FieldValueInvalid', field: '/spec/gpu', message: 'doc is missing path "/spec/gpu"' }]);
  });

  it('a failing operation leaves the target untouched even after earlier operations applied', () => {
    const target = vm();
    thrown(() => applyJsonPatch(target, [{ op: 'remove', path: '/spec/cpu' }, { op: 'remove', path: '/spec/gpu' }]));
    expect(target).toEqual(vm());
  });

  it('refuses an operation value nested deeper than the limit', () => {
    const err = thrown(() => applyJsonPatch({}, [{ op: 'add', path: '/a', value: nested(MAX_PATCH_DEPTH + 5) }]));
    expect(err.code).toBe(400);
  });
});

describe('applyJsonPatch copy limit', () => {
  it('refuses copies that add up past MAX_JSON_PATCH_COPY_BYTES with 422 before cloning them', () => {
    // Each copy of the root doubles the document: 30 of them would be 2^30 copies.
    const ops = Array.from({ length: 30 }, (_, i) => ({ op: 'copy', from: '', path: `/c${i}` }));
    const err = thrown(() => applyJsonPatch({ data: 'x'.repeat(1000) }, ops));
    expect(err.code).toBe(422);
    expect(err.message).toContain(`exceed the limit ${MAX_JSON_PATCH_COPY_BYTES}`);
    expect(err.message).toMatch(/^JSON patch operation 1\d \(copy at "\/c1\d"\) failed/);
  });

  it('lets copies within the limit through', () => {
    const ops = Array.from({ length: 5 }, (_, i) => ({ op: 'copy', from: '/a', path: `/b${i}` }));
    expect(applyJsonPatch({ a: 'x'.repeat(1000) }, ops)).toHaveProperty('b4', 'x'.repeat(1000));
  });
});

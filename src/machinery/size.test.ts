import { describe, expect, it } from 'vitest';
import { checkObjectSize, jsonSizeWithin, MAX_OBJECT_BYTES } from './size.js';

describe('jsonSizeWithin', () => {
  it('counts what JSON.stringify writes, in UTF-8 bytes, for ordinary documents', () => {
    const docs: unknown[] = [
      null,
      true,
      false,
      0,
      -1.5e-7,
      '',
      'plain',
      'with "quotes" and \\ backslash',
      [],
      {},
      [1, 'two', { three: [3] }],
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { a: 'b' } }, data: { k: 'v' }, skipped: undefined },
      { text: '日本語 and ümlauts' },
    ];
    for (const doc of docs) expect(jsonSizeWithin(doc, Infinity), JSON.stringify(doc)).toBe(Buffer.byteLength(JSON.stringify(doc), 'utf8'));
  });

  it('never counts less than JSON.stringify writes, control characters included', () => {
    const doc = { a: 'line\nbreak\ttab\u0001' };
    expect(jsonSizeWithin(doc, Infinity)).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(doc)));
  });

  it('stops as soon as the budget is passed, answering Infinity', () => {
    const wide = Array.from({ length: 1_000_000 }, () => 'xxxxxxxxxx');
    expect(jsonSizeWithin(wide, 1000)).toBe(Infinity);
    expect(jsonSizeWithin({ a: 'x'.repeat(10) }, 18)).toBe(18);
    expect(jsonSizeWithin({ a: 'x'.repeat(11) }, 18)).toBe(Infinity);
  });

  it('refuses an object over the storage limit with 413', () => {
    expect(() => checkObjectSize({ data: { a: 'x'.repeat(MAX_OBJECT_BYTES) } })).toThrow(expect.objectContaining({ code: 413, reason: 'RequestEntityTooLarge' }));
    expect(() => checkObjectSize({ data: { a: 'x'.repeat(MAX_OBJECT_BYTES - 100) } })).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { clone } from './object.js';

describe('clone', () => {
  it('copies every level, so changing the copy leaves the original as it was', () => {
    const original = { metadata: { labels: { a: '1' }, finalizers: ['x'] }, spec: { list: [{ n: 1 }, null, 'two', true] } };
    const copy = clone(original);
    expect(copy).toEqual(original);
    copy.metadata.labels.a = 'changed';
    copy.metadata.finalizers.push('y');
    (copy.spec.list[0] as { n: number }).n = 2;
    expect(original).toEqual({ metadata: { labels: { a: '1' }, finalizers: ['x'] }, spec: { list: [{ n: 1 }, null, 'two', true] } });
  });

  it('leaves out fields whose value is undefined, as JSON does', () => {
    expect(Object.keys(clone({ a: 1, b: undefined }))).toEqual(['a']);
  });

  it('keeps a "__proto__" field of parsed JSON as data, never as the copy\'s prototype', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "spec": {}}') as Record<string, unknown>;
    const copy = clone(parsed);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect((copy as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.keys(copy)).toEqual(['__proto__', 'spec']);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(parsed));
  });

  it('answers scalars and null as they are', () => {
    for (const value of [null, 0, 'text', false, undefined]) expect(clone(value)).toBe(value);
  });
});

import { describe, expect, it } from 'vitest';
import { decodeDocument, exceedsDepth, MAX_DOCUMENT_DEPTH } from './body.js';

/** An object nested `depth` levels deep, alternating maps and lists, built without recursion. */
function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let level = depth; level >= 1; level--) value = level % 2 === 0 ? [value] : { child: value };
  return value;
}

describe('exceedsDepth', () => {
  it('counts maps and lists as levels, and scalars as none', () => {
    expect(exceedsDepth('scalar', 0)).toBe(false);
    expect(exceedsDepth(nested(3), 3)).toBe(false);
    expect(exceedsDepth(nested(4), 3)).toBe(true);
    expect(exceedsDepth({ a: 1, b: [1, { c: { d: 1 } }] }, 3)).toBe(true);
    expect(exceedsDepth({ a: 1, b: [1, { c: 1 }] }, 3)).toBe(false);
  });

  it('stops at the limit, so a document far deeper than the stack allows is refused, not crashed on', () => {
    expect(exceedsDepth(nested(MAX_DOCUMENT_DEPTH), MAX_DOCUMENT_DEPTH)).toBe(false);
    expect(exceedsDepth(nested(200_000), MAX_DOCUMENT_DEPTH)).toBe(true);
  });

  it('makes decodeDocument refuse a too deep body with a 400', () => {
    const deep = `${'['.repeat(MAX_DOCUMENT_DEPTH + 1)}${']'.repeat(MAX_DOCUMENT_DEPTH + 1)}`;
    expect(() => decodeDocument(Buffer.from(deep), 'application/json')).toThrow(/nested more than 1000 levels/);
    expect(decodeDocument(Buffer.from('{"a":[1]}'), 'application/json')).toEqual({ a: [1] });
  });
});

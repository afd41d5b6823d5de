import { describe, expect, it } from 'vitest';
import { causeToString } from './field-errors.js';
import { compileValidator } from './validator.js';

const schemaWith = (pattern: string) => ({
  type: 'object',
  properties: { spec: { type: 'object', properties: { name: { type: 'string', pattern } } } },
});

function check(pattern: string, name: string): string[] {
  const obj = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { name } };
  return compileValidator(schemaWith(pattern)).validate(obj, { fieldValidation: 'Strict' }).causes.map(causeToString);
}

describe('CRD patterns on RE2', () => {
  it('refuses a value against a catastrophic-backtracking pattern at once, instead of stalling', () => {
    const started = performance.now();
    const causes = check('^(a+)+$', `${'a'.repeat(50)}!`);
    const elapsed = performance.now() - started;
    expect(causes).toEqual([`spec.name: Invalid value: "${'a'.repeat(50)}!": spec.name in body should match '^(a+)+$'`]);
    // JavaScript's RegExp would backtrack 2^50 times here.
    expect(elapsed).toBeLessThan(1000);
  });

  it('keeps a long hostile value linear', () => {
    const started = performance.now();
    expect(check('^(a|aa)+$', `${'a'.repeat(100_000)}!`)).toHaveLength(1);
    expect(check('^(a|aa)+$', 'a'.repeat(100_000))).toEqual([]);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it.each([
    ['an unanchored pattern finds a match anywhere, as JSON Schema says', 'b', 'abc', true],
    ['an anchored pattern matches the whole value', '^[a-z]+$', 'abc', true],
    ['an anchored pattern refuses a partial match', '^[a-z]+$', 'abc1', false],
    ['Unicode classes work', '^\\p{L}+$', 'héllo', true],
    ['distinct patterns on one schema are kept apart', '^x$', 'y', false],
  ])('%s', (_why, pattern, value, valid) => {
    expect(check(pattern, value).length === 0).toBe(valid);
  });

  it('refuses every value under a pattern RE2 cannot compile (a schema stored before the check), naming why', () => {
    const causes = check('^(?=a)a$', 'a');
    expect(causes).toHaveLength(1);
    expect(causes[0]).toContain("the schema's pattern is not a valid RE2 regular expression: error parsing regexp: invalid or unsupported Perl syntax");
  });
});

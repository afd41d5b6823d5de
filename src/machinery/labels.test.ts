import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import {
  everythingSelector,
  labelSelectorFromObject,
  nothingSelector,
  parseLabelSelector,
  selectorFromSet,
} from './labels.js';

function parseError(s: string): ApiError {
  try {
    parseLabelSelector(s);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(s)} to be refused`);
}

describe('parseLabelSelector matching', () => {
  const web = { app: 'web', tier: 'front', 'virtflow.io/tenant': 'acme' };
  const cases: { name: string; selector: string; labels: Record<string, string> | undefined; want: boolean }[] = [
    { name: 'an empty selector matches any labels', selector: '', labels: web, want: true },
    { name: 'an empty selector matches an object without labels', selector: '', labels: undefined, want: true },
    { name: 'equality matches the same value', selector: 'app=web', labels: web, want: true },
    { name: 'double equals is equality', selector: 'app==web', labels: web, want: true },
    { name: 'equality fails on another value', selector: 'app=db', labels: web, want: false },
    { name: 'equality fails when the label is absent', selector: 'zone=a', labels: web, want: false },
    { name: 'inequality matches another value', selector: 'app!=db', labels: web, want: true },
    { name: 'inequality matches when the label is absent', selector: 'zone!=a', labels: web, want: true },
    { name: 'inequality fails on the same value', selector: 'app!=web', labels: web, want: false },
    { name: 'in matches one of the listed values', selector: 'app in (db,web)', labels: web, want: true },
    { name: 'in fails when the label is absent', selector: 'zone in (a,b)', labels: web, want: false },
    { name: 'notin matches when the label is absent', selector: 'zone notin (a)', labels: web, want: true },
    { name: 'notin fails on a listed value', selector: 'app notin (web)', labels: web, want: false },
    { name: 'a bare key requires the label to exist', selector: 'tier', labels: web, want: true },
    { name: 'a bare key fails without the label', selector: 'zone', labels: web, want: false },
    { name: 'a negated key requires the label to be absent', selector: '!zone', labels: web, want: true },
    { name: 'a negated key fails when the label exists', selector: '!app', labels: web, want: false },
    { name: 'all comma-joined requirements must hold', selector: 'app=web,tier=back', labels: web, want: false },
    { name: 'whitespace around tokens is ignored', selector: '  app = web ,  tier in ( front , back ) ', labels: web, want: true },
    { name: 'a prefixed key is matched whole', selector: 'virtflow.io/tenant=acme', labels: web, want: true },
    { name: 'an empty value matches an empty label', selector: 'app=', labels: { app: '' }, want: true },
    { name: 'an empty value does not match a missing label', selector: 'app=', labels: {}, want: false },
    { name: 'an empty entry in a set stands for the empty value', selector: 'app in (a,,b)', labels: { app: '' }, want: true },
    { name: 'the words in and notin are values inside a set', selector: 'op in (in,notin)', labels: { op: 'notin' }, want: true },
    { name: 'greater-than compares integers', selector: 'gen>9', labels: { gen: '10' }, want: true },
    { name: 'less-than compares integers, not strings', selector: 'gen<9', labels: { gen: '10' }, want: false },
    { name: 'greater-than does not match a non-integer label', selector: 'gen>1', labels: { gen: 'x' }, want: false },
    { name: 'an inherited property is not a label', selector: 'constructor', labels: {}, want: false },
  ];
  it.each(cases)('$name', ({ selector, labels, want }) => {
    expect(parseLabelSelector(selector).matches(labels)).toBe(want);
  });
});

describe('parseLabelSelector canonical form', () => {
  const cases: { name: string; selector: string; want: string }[] = [
    { name: 'requirements are sorted by key', selector: 'b=1,a=2', want: 'a=2,b=1' },
    { name: 'set values are sorted and de-duplicated', selector: 'a in (z,y,z)', want: 'a in (y,z)' },
    { name: 'exists and does-not-exist print as bare keys', selector: '!b, a', want: 'a,!b' },
    { name: 'double equals keeps its spelling', selector: 'a==b', want: 'a==b' },
    { name: 'greater-than prints with its symbol', selector: 'a > 3', want: 'a>3' },
  ];
  it.each(cases)('$name', ({ selector, want }) => {
    expect(parseLabelSelector(selector).toString()).toBe(want);
  });
});

describe('parseLabelSelector errors', () => {
  const cases: { name: string; selector: string; message: string }[] = [
    { name: 'a trailing comma expects another requirement', selector: 'app=web,', message: "found '', expected: identifier after ','" },
    { name: 'a leading operator is refused', selector: '=web', message: "found '=', expected: !, identifier, or 'end of string'" },
    { name: 'a set must open with a parenthesis', selector: 'app in web', message: "unable to parse requirement: found 'web' expected: '('" },
    { name: 'an unclosed set says what it expected', selector: 'app in (web', message: "unable to parse requirement: found '', expected: ',' or ')'" },
    { name: 'in without values reports the end of the string', selector: 'app in', message: "unable to parse requirement: found '' expected: '('" },
    { name: 'two values without a comma are refused', selector: 'app=web db', message: "found 'db', expected: ',' or 'end of string'" },
    { name: 'an unknown operator lists the accepted ones', selector: 'app (web)', message: "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt" },
    { name: 'an operator where a value belongs is refused', selector: 'app==!=', message: "unable to parse requirement: found '!=', expected: identifier" },
    { name: 'a negated key may not be compared', selector: '!app=web', message: "found '=', expected: ',' or 'end of string'" },
    {
      name: 'a key ending in an underscore is refused with the qualified-name rule',
      selector: 'a_=b',
      message:
        'unable to parse requirement: key: Invalid value: "a_": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyName\',  or \'my.name\',  or \'123-abc\', regex used for validation is \'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\')',
    },
    {
      name: 'a value longer than 63 characters is refused',
      selector: `a=${'v'.repeat(64)}`,
      message: `unable to parse requirement: values[0][a]: Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters`,
    },
    { name: 'greater-than needs an integer', selector: 'a>b', message: 'unable to parse requirement: values[0]: Invalid value: "b": for \'Gt\', \'Lt\' operators, the value must be an integer' },
  ];
  it.each(cases)('$name', ({ selector, message }) => {
    const err = parseError(selector);
    expect(err.code).toBe(400);
    expect(err.reason).toBe('BadRequest');
    expect(err.message).toBe(message);
  });
});

describe('labelSelectorFromObject', () => {
  const labels = { app: 'web', tier: 'front' };
  const cases: { name: string; sel: Parameters<typeof labelSelectorFromObject>[0]; want: boolean; text: string }[] = [
    { name: 'a null selector selects nothing', sel: null, want: false, text: '<null>' },
    { name: 'an undefined selector selects nothing', sel: undefined, want: false, text: '<null>' },
    { name: 'an empty selector selects everything', sel: {}, want: true, text: '' },
    { name: 'matchLabels must all be equal', sel: { matchLabels: { app: 'web', tier: 'front' } }, want: true, text: 'app=web,tier=front' },
    { name: 'one differing matchLabel fails the match', sel: { matchLabels: { app: 'db' } }, want: false, text: 'app=db' },
    { name: 'In matches a listed value', sel: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'db'] }] }, want: true, text: 'app in (db,web)' },
    { name: 'NotIn fails on a listed value', sel: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, want: false, text: 'app notin (web)' },
    { name: 'Exists needs the key', sel: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, want: true, text: 'tier' },
    { name: 'DoesNotExist needs the key absent', sel: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, want: false, text: '!tier' },
    {
      name: 'matchLabels and matchExpressions combine',
      sel: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'zone', operator: 'DoesNotExist', values: [] }] },
      want: true,
      text: 'app=web,!zone',
    },
  ];
  it.each(cases)('$name', ({ sel, want, text }) => {
    const s = labelSelectorFromObject(sel);
    expect(s.matches(labels)).toBe(want);
    expect(s.toString()).toBe(text);
  });

  const bad: { name: string; sel: unknown; message: string }[] = [
    { name: 'an unknown operator is refused as Kubernetes words it', sel: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] }, message: '"Equals" is not a valid label selector operator' },
    { name: 'In with no values is refused', sel: { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, message: "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty" },
    { name: 'Exists with values is refused', sel: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, message: 'values: Invalid value: ["x"]: values set must be empty for exists and does not exist' },
    { name: 'a non-string matchLabels value is refused', sel: { matchLabels: { a: 1 } }, message: 'matchLabels[a]: Invalid value: 1: must be a string' },
    { name: 'an invalid matchLabels key is refused', sel: { matchLabels: { 'a b': 'x' } }, message: 'key: Invalid value: "a b": name part must consist' },
    { name: 'a selector that is not an object is refused', sel: 'app=web', message: 'a label selector must be an object' },
  ];
  it.each(bad)('$name', ({ sel, message }) => {
    let caught: unknown;
    try {
      labelSelectorFromObject(sel as never);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).code).toBe(400);
    expect((caught as ApiError).message).toContain(message);
  });
});

describe('selector constructors', () => {
  it('selectorFromSet requires every pair', () => {
    const s = selectorFromSet({ b: '2', a: '1' });
    expect(s.toString()).toBe('a=1,b=2');
    expect(s.matches({ a: '1', b: '2', c: '3' })).toBe(true);
    expect(s.matches({ a: '1' })).toBe(false);
  });

  it('the everything selector is empty and the nothing selector matches nothing', () => {
    expect(everythingSelector().isEverything()).toBe(true);
    expect(everythingSelector().matches(undefined)).toBe(true);
    expect(nothingSelector().isNothing()).toBe(true);
    expect(nothingSelector().matches({})).toBe(false);
  });
});

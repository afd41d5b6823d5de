import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import {
  escapeFieldValue,
  fieldSelectorFromSet,
  parseFieldSelector,
  unescapeFieldValue,
  validateFieldSelector,
} from './fields.js';

function thrown(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('parseFieldSelector', () => {
  const cases: { name: string; selector: string; requirements: { field: string; op: string; value: string }[] }[] = [
    { name: 'an empty selector has no requirements', selector: '', requirements: [] },
    { name: 'equality is read', selector: 'metadata.name=vm-1', requirements: [{ field: 'metadata.name', op: '=', value: 'vm-1' }] },
    { name: 'double equals is read as equality', selector: 'spec.role==worker', requirements: [{ field: 'spec.role', op: '=', value: 'worker' }] },
    { name: 'inequality is read', selector: 'status.phase!=Running', requirements: [{ field: 'status.phase', op: '!=', value: 'Running' }] },
    { name: 'an empty value is allowed', selector: 'spec.node=', requirements: [{ field: 'spec.node', op: '=', value: '' }] },
    {
      name: 'terms are sorted as Kubernetes sorts them',
      selector: 'status.phase=Running,metadata.name=a',
      requirements: [
        { field: 'metadata.name', op: '=', value: 'a' },
        { field: 'status.phase', op: '=', value: 'Running' },
      ],
    },
    { name: 'empty terms between commas are skipped', selector: 'a=1,,', requirements: [{ field: 'a', op: '=', value: '1' }] },
    { name: 'an escaped comma stays in the value', selector: 'a=x\\,y', requirements: [{ field: 'a', op: '=', value: 'x,y' }] },
    { name: 'an escaped equals sign and backslash stay in the value', selector: 'a=\\=\\\\', requirements: [{ field: 'a', op: '=', value: '=\\' }] },
    { name: 'the first operator splits the term', selector: 'a!=b', requirements: [{ field: 'a', op: '!=', value: 'b' }] },
  ];
  it.each(cases)('$name', ({ selector, requirements }) => {
    expect(parseFieldSelector(selector).requirements).toEqual(requirements);
  });

  const errors: { name: string; selector: string; message: string }[] = [
    { name: 'a term without an operator is not understood', selector: 'metadata.name', message: "invalid selector: 'metadata.name'; can't understand 'metadata.name'" },
    { name: 'a bare equals sign in a value is refused', selector: 'a=b=c', message: 'invalid field selector: unescaped character in value: =' },
    { name: 'an unknown escape is refused', selector: 'a=\\n', message: 'invalid field selector: invalid escape sequence: \\n' },
    { name: 'a trailing backslash is refused', selector: 'a=b\\', message: 'invalid field selector: invalid escape sequence: \\' },
  ];
  it.each(errors)('$name', ({ selector, message }) => {
    const err = thrown(() => parseFieldSelector(selector));
    expect(err.code).toBe(400);
    expect(err.message).toBe(message);
  });
});

describe('FieldSelector.matches', () => {
  const fields: Record<string, string> = { 'metadata.name': 'vm-1', 'status.phase': 'Running' };
  const get = (f: string) => fields[f];
  const cases: { name: string; selector: string; want: boolean }[] = [
    { name: 'equality on a present field matches', selector: 'metadata.name=vm-1', want: true },
    { name: 'equality on another value fails', selector: 'metadata.name=vm-2', want: false },
    { name: 'inequality on another value matches', selector: 'status.phase!=Pending', want: true },
    { name: 'an absent field reads as empty for equality', selector: 'spec.node=', want: true },
    { name: 'an absent field differs from any non-empty value', selector: 'spec.node!=host-1', want: true },
    { name: 'every requirement must hold', selector: 'metadata.name=vm-1,status.phase=Pending', want: false },
    { name: 'the empty selector matches', selector: '', want: true },
  ];
  it.each(cases)('$name', ({ selector, want }) => {
    expect(parseFieldSelector(selector).matches(get)).toBe(want);
  });
});

describe('field selector helpers', () => {
  it('prints the canonical form with values escaped', () => {
    expect(parseFieldSelector('b==x\\,y,a!=1').toString()).toBe('a!=1,b=x\\,y');
  });

  it('escaping and unescaping are inverse', () => {
    const raw = 'a,b=c\\d';
    expect(unescapeFieldValue(escapeFieldValue(raw))).toBe(raw);
  });

  it('reports the value an equality pins a field to', () => {
    const sel = parseFieldSelector('metadata.namespace=t1,metadata.name!=x');
    expect(sel.requiresExactMatch('metadata.namespace')).toBe('t1');
    expect(sel.requiresExactMatch('metadata.name')).toBeUndefined();
  });

  it('builds a selector from a set of fields', () => {
    const sel = fieldSelectorFromSet({ 'spec.b': '2', 'spec.a': '1' });
    expect(sel.toString()).toBe('spec.a=1,spec.b=2');
  });
});

describe('validateFieldSelector', () => {
  const allowed = ['metadata.name', 'metadata.namespace', 'spec.role'];
  it('accepts selectors on allowed fields only', () => {
    expect(() => validateFieldSelector(parseFieldSelector('spec.role=worker,metadata.name=a'), allowed)).not.toThrow();
  });

  it('refuses an unknown field with the message kube-apiserver gives', () => {
    const err = thrown(() => validateFieldSelector(parseFieldSelector('spec.foo=bar'), allowed));
    expect(err.code).toBe(400);
    expect(err.reason).toBe('BadRequest');
    expect(err.message).toBe('field label not supported: spec.foo');
  });
});

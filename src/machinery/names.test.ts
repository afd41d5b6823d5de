import { describe, expect, it } from 'vitest';
import {
  MAX_GENERATE_NAME_PREFIX,
  NAME_SUFFIX_ALPHABET,
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  generateName,
  generateNameSuffix,
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  labelValueErrors,
  qualifiedNameErrors,
  validateObjectName,
} from './names.js';

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const QNAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

describe('DNS-1123 names', () => {
  const cases: { name: string; value: string; subdomain: boolean; label: boolean }[] = [
    { name: 'a plain lowercase word is both a label and a subdomain', value: 'web', subdomain: true, label: true },
    { name: 'a dotted name is a subdomain but not a label', value: 'db.example.com', subdomain: true, label: false },
    { name: 'digits may start and end a name', value: '1-2', subdomain: true, label: true },
    { name: 'an upper-case letter is refused', value: 'Web', subdomain: false, label: false },
    { name: 'a leading dash is refused', value: '-web', subdomain: false, label: false },
    { name: 'a trailing dot is refused', value: 'web.', subdomain: false, label: false },
    { name: 'an empty string is refused', value: '', subdomain: false, label: false },
    { name: 'an underscore is refused', value: 'my_vm', subdomain: false, label: false },
    { name: 'a 63-character label is accepted', value: 'a'.repeat(63), subdomain: true, label: true },
    { name: 'a 64-character label is too long but still a subdomain', value: 'a'.repeat(64), subdomain: true, label: false },
    { name: 'a 254-character subdomain is too long', value: `${'a'.repeat(63)}.`.repeat(4).slice(0, 254), subdomain: false, label: false },
  ];
  it.each(cases)('$name', ({ value, subdomain, label }) => {
    expect(isDns1123Subdomain(value)).toBe(subdomain);
    expect(isDns1123Label(value)).toBe(label);
  });

  it('words the subdomain error exactly as Kubernetes does', () => {
    expect(dns1123SubdomainErrors('Bad_Name')).toEqual([SUBDOMAIN_MSG]);
  });

  it('words the label error, with its doubled space, exactly as Kubernetes does', () => {
    expect(dns1123LabelErrors('a.b')).toEqual([LABEL_MSG]);
  });

  it('reports both the length and the pattern when a label is too long and malformed', () => {
    expect(dns1123LabelErrors(`${'A'.repeat(64)}`)).toEqual(['must be no more than 63 characters', LABEL_MSG]);
  });
});

describe('qualified names and label values', () => {
  const cases: { name: string; value: string; errors: string[] }[] = [
    { name: 'a bare name is qualified', value: 'app', errors: [] },
    { name: 'a prefixed name is qualified', value: 'virtflow.io/tenant', errors: [] },
    { name: 'upper case is allowed in the name part', value: 'example.com/MyName', errors: [] },
    { name: 'an empty prefix is refused', value: '/app', errors: ['prefix part must be non-empty'] },
    { name: 'an empty name part is refused', value: 'virtflow.io/', errors: ['name part must be non-empty', `name part ${QNAME_MSG}`] },
    { name: 'a prefix that is not a subdomain is refused', value: 'Virtflow.io/app', errors: [`prefix part ${SUBDOMAIN_MSG}`] },
    { name: 'a name part of 64 characters is too long', value: 'a'.repeat(64), errors: ['name part must be no more than 63 characters'] },
    {
      name: 'two slashes make it no qualified name at all',
      value: 'a/b/c',
      errors: [`a qualified name ${QNAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`],
    },
  ];
  it.each(cases)('$name', ({ value, errors }) => {
    expect(qualifiedNameErrors(value)).toEqual(errors);
    expect(isQualifiedName(value)).toBe(errors.length === 0);
  });

  const values: { name: string; value: string; ok: boolean }[] = [
    { name: 'an empty label value is valid', value: '', ok: true },
    { name: 'a value with dots, dashes and underscores inside is valid', value: 'v1.2_3-x', ok: true },
    { name: 'a value may not end with a dash', value: 'abc-', ok: false },
    { name: 'a value may not contain a slash', value: 'a/b', ok: false },
    { name: 'a value of 64 characters is too long', value: 'a'.repeat(64), ok: false },
  ];
  it.each(values)('$name', ({ value, ok }) => {
    expect(isValidLabelValue(value)).toBe(ok);
  });

  it('words the label value error as Kubernetes does', () => {
    expect(labelValueErrors('a b')).toEqual([
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ]);
  });
});

describe('validateObjectName', () => {
  const cases: { name: string; value: string; opts?: Parameters<typeof validateObjectName>[1]; errors: string[] }[] = [
    { name: 'a subdomain name is accepted by default', value: 'vm-1.lab', errors: [] },
    { name: 'an upper-case name is refused by default with the subdomain message', value: 'VM', errors: [SUBDOMAIN_MSG] },
    { name: 'a dotted name is refused under the label rule', value: 'a.b', opts: { rule: 'dns1123Label' }, errors: [LABEL_MSG] },
    { name: 'a generateName prefix may end with a dash', value: 'web-', opts: { prefix: true }, errors: [] },
    { name: 'a generateName prefix may not start with a dash', value: '-web-', opts: { prefix: true }, errors: [SUBDOMAIN_MSG] },
    { name: 'the path-segment rule refuses a single dot', value: '.', opts: { rule: 'pathSegment' }, errors: ["may not be '.'"] },
    { name: 'the path-segment rule refuses two dots', value: '..', opts: { rule: 'pathSegment' }, errors: ["may not be '..'"] },
    { name: 'the path-segment rule refuses slash and percent', value: 'a/b%c', opts: { rule: 'pathSegment' }, errors: ["may not contain '/'", "may not contain '%'"] },
    { name: 'the path-segment rule accepts upper case and colons', value: 'system:Admin', opts: { rule: 'pathSegment' }, errors: [] },
    { name: 'a path-segment prefix may be a dot, since a suffix follows', value: '.', opts: { rule: 'pathSegment', prefix: true }, errors: [] },
  ];
  it.each(cases)('$name', ({ value, opts, errors }) => {
    expect(validateObjectName(value, opts)).toEqual(errors);
  });
});

describe('generated names', () => {
  it('makes five characters from the Kubernetes alphabet', () => {
    const suffix = generateNameSuffix();
    expect(suffix).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('maps the random source onto the alphabet deterministically', () => {
    const draws = [0, 0.999999, 0.5, 1, Number.NaN];
    let i = 0;
    const suffix = generateNameSuffix(() => draws[i++]!);
    const last = NAME_SUFFIX_ALPHABET[NAME_SUFFIX_ALPHABET.length - 1];
    expect(suffix).toBe(`b${last}${NAME_SUFFIX_ALPHABET[13]}${last}b`);
  });

  it('cuts a long prefix to 58 characters so the name stays within 63', () => {
    const name = generateName('x'.repeat(100), () => 0);
    expect(MAX_GENERATE_NAME_PREFIX).toBe(58);
    expect(name).toBe(`${'x'.repeat(58)}bbbbb`);
    expect(name).toHaveLength(63);
  });

  it('keeps a short prefix whole', () => {
    expect(generateName('web-', () => 0)).toBe('web-bbbbb');
  });
});

// Name rules from k8s.io/apimachinery/pkg/util/validation and api/validation/path. The
// messages are worded exactly as Kubernetes words them, because clients and people compare
// our 422s with what kube-apiserver says for the same mistake.

export const DNS1123_LABEL_MAX_LENGTH = 63;
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
export const QUALIFIED_NAME_MAX_LENGTH = 63;
export const LABEL_VALUE_MAX_LENGTH = 63;

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const qualifiedNameFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const labelValueFmt = `(${qualifiedNameFmt})?`;

const dns1123LabelRe = new RegExp(`^${dns1123LabelFmt}$`);
const dns1123SubdomainRe = new RegExp(`^${dns1123SubdomainFmt}$`);
const qualifiedNameRe = new RegExp(`^${qualifiedNameFmt}$`);
const labelValueRe = new RegExp(`^${labelValueFmt}$`);

const dns1123LabelErrMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const dns1123SubdomainErrMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const qualifiedNameErrMsg =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const labelValueErrMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** validation.RegexError, including the double space its "'a',  or 'b'" punctuation makes. */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  const eg = examples.map((e) => `'${e}', `).join(' or ');
  return `${msg} (e.g. ${eg}regex used for validation is '${fmt}')`;
}

export const maxLenError = (n: number): string => `must be no more than ${n} characters`;
export const emptyError = (): string => 'must be non-empty';

/** Problems with a DNS-1123 label (namespace names, some kinds' names); empty when valid. */
export function dns1123LabelErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1123_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!dns1123LabelRe.test(value)) {
    errs.push(regexError(dns1123LabelErrMsg, dns1123LabelFmt, 'my-name', '123-abc'));
  }
  return errs;
}

/** Problems with a DNS-1123 subdomain (the default rule for object names); empty when valid. */
export function dns1123SubdomainErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX_LENGTH) {
    errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  }
  if (!dns1123SubdomainRe.test(value)) {
    errs.push(regexError(dns1123SubdomainErrMsg, dns1123SubdomainFmt, 'example.com'));
  }
  return errs;
}

export const isDns1123Label = (value: string): boolean => dns1123LabelErrors(value).length === 0;
export const isDns1123Subdomain = (value: string): boolean =>
  dns1123SubdomainErrors(value).length === 0;

/**
 * Problems with a qualified name, `[prefix/]name`: label keys, annotation keys, finalizers.
 * The prefix is a DNS subdomain; the name part at most 63 characters.
 */
export function qualifiedNameErrors(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) {
      errs.push(`prefix part ${emptyError()}`);
    } else {
      for (const msg of dns1123SubdomainErrors(prefix)) errs.push(`prefix part ${msg}`);
    }
  } else {
    return [
      `a qualified name ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')}` +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) {
    errs.push(`name part ${emptyError()}`);
  } else if (name.length > QUALIFIED_NAME_MAX_LENGTH) {
    errs.push(`name part ${maxLenError(QUALIFIED_NAME_MAX_LENGTH)}`);
  }
  if (!qualifiedNameRe.test(name)) {
    errs.push(
      `name part ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')}`,
    );
  }
  return errs;
}

export const isQualifiedName = (value: string): boolean => qualifiedNameErrors(value).length === 0;

/** Problems with a label value: empty, or a qualified-name-like word of at most 63 characters. */
export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > LABEL_VALUE_MAX_LENGTH) errs.push(maxLenError(LABEL_VALUE_MAX_LENGTH));
  if (!labelValueRe.test(value)) {
    errs.push(regexError(labelValueErrMsg, labelValueFmt, 'MyValue', 'my_value', '12345'));
  }
  return errs;
}

export const isValidLabelValue = (value: string): boolean => labelValueErrors(value).length === 0;

/**
 * Names become URL path segments, so some strings can never be names whatever the kind's rule:
 * path.IsValidPathSegmentName. A generateName prefix is only checked for the characters.
 */
export function pathSegmentNameErrors(name: string, prefix = false): string[] {
  const errs: string[] = [];
  if (!prefix && (name === '.' || name === '..')) errs.push(`may not be '${name}'`);
  for (const bad of ['/', '%']) {
    if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  }
  return errs;
}

/** Which rule a kind's names follow: most kinds use DNS subdomains, namespaces use labels. */
export type NameRule = 'dns1123Subdomain' | 'dns1123Label' | 'pathSegment';

export interface NameOptions {
  /** The kind's rule; DNS-1123 subdomain when absent, as for custom resources. */
  rule?: NameRule;
  /** Validate a generateName prefix rather than a whole name. */
  prefix?: boolean;
}

/**
 * Kubernetes masks one trailing dash of a generateName prefix before checking it, since a
 * random suffix follows. It keeps upstream's exact arithmetic (the last two characters become
 * "a") so that the same prefixes pass and fail.
 */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
}

/**
 * Everything wrong with an object name (or a generateName prefix) under the kind's rule, as
 * Kubernetes' messages; an empty array means the name is acceptable.
 */
export function validateObjectName(name: string, opts: NameOptions = {}): string[] {
  const rule = opts.rule ?? 'dns1123Subdomain';
  const prefix = opts.prefix ?? false;
  if (rule === 'pathSegment') return pathSegmentNameErrors(name, prefix);
  const candidate = prefix ? maskTrailingDash(name) : name;
  return rule === 'dns1123Label'
    ? dns1123LabelErrors(candidate)
    : dns1123SubdomainErrors(candidate);
}

/** The alphabet of k8s.io/apimachinery/pkg/util/rand: no vowels, so no words, and no 0/1/3. */
export const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export const GENERATED_SUFFIX_LENGTH = 5;
/** Generated names stay within a DNS label: 63 minus the 5-character suffix. */
export const MAX_GENERATE_NAME_PREFIX = DNS1123_LABEL_MAX_LENGTH - GENERATED_SUFFIX_LENGTH;

/** Five random characters from Kubernetes' alphabet; `random` returns [0, 1) like Math.random. */
export function generateNameSuffix(random: () => number = Math.random): string {
  let out = '';
  for (let i = 0; i < GENERATED_SUFFIX_LENGTH; i++) {
    // Clamp so that a sloppy random source (1.0, NaN) still yields a character of the alphabet.
    const r = random();
    const scaled = Number.isFinite(r) ? Math.floor(r * NAME_SUFFIX_ALPHABET.length) : 0;
    const index = Math.min(NAME_SUFFIX_ALPHABET.length - 1, Math.max(0, scaled));
    out += NAME_SUFFIX_ALPHABET[index];
  }
  return out;
}

/** SimpleNameGenerator: the prefix cut to 58 characters, then the random suffix. */
export function generateName(prefix: string, random: () => number = Math.random): string {
  return prefix.slice(0, MAX_GENERATE_NAME_PREFIX) + generateNameSuffix(random);
}

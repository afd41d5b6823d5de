// Field selectors (`?fieldSelector=`), after k8s.io/apimachinery/pkg/fields/selector.go:
// only `=`, `==` and `!=`, terms joined by commas, and `\` escaping `\`, `,` and `=` in values.

import { errors } from './errors.js';

export type FieldOperator = '=' | '!=';

export interface FieldRequirement {
  field: string;
  /** `==` is read as `=`, as Kubernetes does. */
  op: FieldOperator;
  value: string;
}

export interface FieldSelector {
  /** Sorted as Kubernetes sorts the terms; empty when the selector selects everything. */
  readonly requirements: readonly FieldRequirement[];
  /** `get` answers a field's value; an absent field reads as "", as in a fields.Set. */
  matches(get: (field: string) => string | undefined): boolean;
  isEverything(): boolean;
  /** The value the selector pins `field` to with `=`, if it does (RequiresExactMatch). */
  requiresExactMatch(field: string): string | undefined;
  toString(): string;
}

/** Escapes a value for the string form: fields.EscapeValue. */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** fields.UnescapeValue: only `\\`, `\,` and `\=` are escapes; bare `,` and `=` are errors. */
export function unescapeFieldValue(s: string): string {
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') {
        throw errors.badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      inSlash = false;
    } else if (c === '\\') {
      inSlash = true;
    } else if (c === ',' || c === '=') {
      throw errors.badRequest(`invalid field selector: unescaped character in value: ${c}`);
    } else {
      out += c;
    }
  }
  if (inSlash) throw errors.badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Splits on commas that are not escaped; the escapes stay for unescapeFieldValue. */
function splitTerms(selector: string): string[] {
  if (selector === '') return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

// "!=" and "==" are tried before "=" at each position, so "a!=b" is not read as "a!" = "b".
const termOperators = ['!=', '==', '='] as const;

function splitTerm(term: string): { field: string; op: string; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of termOperators) {
      if (term.startsWith(op, i)) return { field: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

class RequirementsFieldSelector implements FieldSelector {
  constructor(readonly requirements: readonly FieldRequirement[]) {}
  matches(get: (field: string) => string | undefined): boolean {
    return this.requirements.every((r) => {
      const value = get(r.field) ?? '';
      return r.op === '=' ? value === r.value : value !== r.value;
    });
  }
  isEverything(): boolean {
    return this.requirements.length === 0;
  }
  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.op === '=')?.value;
  }
  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.op}${escapeFieldValue(r.value)}`).join(',');
  }
}

/** Parses `?fieldSelector=`; the empty string selects everything. Mistakes answer 400. */
export function parseFieldSelector(s: string): FieldSelector {
  // Kubernetes sorts the raw terms before reading them; the order is then stable for printing.
  const terms = splitTerms(s).sort();
  const requirements: FieldRequirement[] = [];
  for (const term of terms) {
    if (term === '') continue;
    const parts = splitTerm(term);
    if (!parts) throw errors.badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    requirements.push({
      field: parts.field,
      op: parts.op === '!=' ? '!=' : '=',
      value: unescapeFieldValue(parts.rhs),
    });
  }
  return new RequirementsFieldSelector(requirements);
}

/** A selector requiring each given field to equal its value (fields.SelectorFromSet). */
export function fieldSelectorFromSet(set: Record<string, string>): FieldSelector {
  const requirements = Object.keys(set)
    .sort()
    .map((field): FieldRequirement => ({ field, op: '=', value: set[field]! }));
  return new RequirementsFieldSelector(requirements);
}

/**
 * Refuses a selector on a field the resource does not index, with the message kube-apiserver
 * gives ("field label not supported: spec.foo"). `allowed` is the full list for the resource:
 * metadata.name, metadata.namespace (namespaced resources only) and its selectable fields.
 */
export function validateFieldSelector(sel: FieldSelector, allowed: readonly string[]): void {
  for (const r of sel.requirements) {
    if (!allowed.includes(r.field)) throw errors.badRequest(`field label not supported: ${r.field}`);
  }
}

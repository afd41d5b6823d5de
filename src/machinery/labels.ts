// Label selectors: the `?labelSelector=` string syntax and the metav1.LabelSelector object
// form, both turned into one matcher. The parser follows k8s.io/apimachinery/pkg/labels
// (selector.go) token by token so that the same strings are accepted, with the same errors.

import { errors } from './errors.js';
import { isPlainObject } from './object.js';
import { labelValueErrors, qualifiedNameErrors } from './names.js';

/** selection.Operator spellings. */
export type LabelOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** Sorted and de-duplicated, like Kubernetes' string set; empty for exists and `!`. */
  values: string[];
}

export type Labels = Record<string, string> | undefined | null;

export interface LabelSelector {
  /** Sorted by key; empty for the select-everything and select-nothing selectors. */
  readonly requirements: readonly LabelRequirement[];
  matches(labels: Labels): boolean;
  /** True when the selector does not restrict anything. */
  isEverything(): boolean;
  /** True for the selector of a null metav1.LabelSelector: it matches no object. */
  isNothing(): boolean;
  /** The canonical string form, as Kubernetes prints it ("a=b,c in (d,e)"). */
  toString(): string;
}

function hasLabel(labels: Labels, key: string): labels is Record<string, string> {
  return !!labels && Object.hasOwn(labels, key);
}

const integerRe = /^[+-]?\d+$/;

export function requirementMatches(r: LabelRequirement, labels: Labels): boolean {
  switch (r.operator) {
    case '=':
    case '==':
    case 'in':
      return hasLabel(labels, r.key) && r.values.includes(labels[r.key]!);
    case '!=':
    case 'notin':
      return !hasLabel(labels, r.key) || !r.values.includes(labels[r.key]!);
    case 'exists':
      return hasLabel(labels, r.key);
    case '!':
      return !hasLabel(labels, r.key);
    case 'gt':
    case 'lt': {
      // Kubernetes compares as 64-bit integers and treats an unparsable label as no match.
      if (!hasLabel(labels, r.key)) return false;
      const have = labels[r.key]!;
      if (!integerRe.test(have)) return false;
      const a = BigInt(have);
      const b = BigInt(r.values[0]!);
      return r.operator === 'gt' ? a > b : a < b;
    }
  }
}

export function requirementToString(r: LabelRequirement): string {
  switch (r.operator) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.operator} (${r.values.join(',')})`;
    case 'gt':
      return `${r.key}>${r.values[0]}`;
    case 'lt':
      return `${r.key}<${r.values[0]}`;
    default:
      return `${r.key}${r.operator}${r.values[0]}`;
  }
}

class RequirementsSelector implements LabelSelector {
  readonly requirements: readonly LabelRequirement[];
  constructor(requirements: LabelRequirement[]) {
    // Sorting by key gives one string form per selector, as labels.Parse does.
    this.requirements = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
  matches(labels: Labels): boolean {
    return this.requirements.every((r) => requirementMatches(r, labels));
  }
  isEverything(): boolean {
    return this.requirements.length === 0;
  }
  isNothing(): boolean {
    return false;
  }
  toString(): string {
    return this.requirements.map(requirementToString).join(',');
  }
}

const nothing: LabelSelector = {
  requirements: [],
  matches: () => false,
  isEverything: () => false,
  isNothing: () => true,
  toString: () => '<null>',
};

export const everythingSelector = (): LabelSelector => new RequirementsSelector([]);
export const nothingSelector = (): LabelSelector => nothing;

/** A selector requiring each given label to equal its value (labels.SelectorFromSet). */
export function selectorFromSet(set: Record<string, string>): LabelSelector {
  return new RequirementsSelector(
    Object.entries(set).map(([key, value]) => newRequirement(key, '=', [value])),
  );
}

// ---- requirement construction (labels.NewRequirement) --------------------------------------

/** A problem found while building a requirement, as field.Error prints it. */
class RequirementError extends Error {}

function quote(v: unknown): string {
  return JSON.stringify(v);
}

function keyProblems(key: string, path: string): string | undefined {
  const errs = qualifiedNameErrors(key);
  return errs.length ? `${path}: Invalid value: ${quote(key)}: ${errs.join('; ')}` : undefined;
}

/**
 * Validates and builds one requirement; throws RequirementError with every problem, joined the
 * way an aggregate of field errors prints ("[a, b]" when there are several).
 */
function newRequirement(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
  const problems: string[] = [];
  const keyProblem = keyProblems(key, 'key');
  if (keyProblem) problems.push(keyProblem);
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) {
        problems.push(`values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty`);
      }
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) {
        problems.push(`values: Invalid value: ${quote(values)}: exact-match compatibility requires one single value`);
      }
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) {
        problems.push(`values: Invalid value: ${quote(values)}: values set must be empty for exists and does not exist`);
      }
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) {
        problems.push(`values: Invalid value: ${quote(values)}: for 'Gt', 'Lt' operators, exactly one value is required`);
      }
      values.forEach((v, i) => {
        if (!integerRe.test(v)) {
          problems.push(`values[${i}]: Invalid value: ${quote(v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
        }
      });
      break;
  }
  values.forEach((v, i) => {
    const errs = labelValueErrors(v);
    if (errs.length) problems.push(`values[${i}][${key}]: Invalid value: ${quote(v)}: ${errs.join('; ')}`);
  });
  if (problems.length === 1) throw new RequirementError(problems[0]);
  if (problems.length > 1) throw new RequirementError(`[${problems.join(', ')}]`);
  return { key, operator, values: [...new Set(values)].sort() };
}

// ---- lexer ---------------------------------------------------------------------------------

type Token =
  | 'error'
  | 'eos'
  | ')'
  | ','
  | '!'
  | '=='
  | '='
  | '>'
  | 'identifier'
  | 'in'
  | '<'
  | '!='
  | 'notin'
  | '(';

interface Scanned {
  tok: Token;
  lit: string;
}

const literalTokens: Record<string, Token> = {
  ')': ')',
  ',': ',',
  '!': '!',
  '==': '==',
  '=': '=',
  '>': '>',
  in: 'in',
  '<': '<',
  '!=': '!=',
  notin: 'notin',
  '(': '(',
};

const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecialSymbol = (ch: string): boolean => '=!(),><'.includes(ch);

function lex(s: string): Scanned[] {
  const out: Scanned[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos]!)) pos++;
    if (pos >= s.length) {
      out.push({ tok: 'eos', lit: '' });
      return out;
    }
    if (isSpecialSymbol(s[pos]!)) {
      // Longest run of symbols that is still a token: "!=" rather than "!" then "=".
      let buffer = '';
      let last: Scanned | undefined;
      while (pos < s.length && isSpecialSymbol(s[pos]!)) {
        const next = buffer + s[pos];
        const tok = Object.hasOwn(literalTokens, next) ? literalTokens[next] : undefined;
        if (tok) {
          last = { tok, lit: next };
        } else if (last) {
          break;
        }
        buffer = next;
        pos++;
      }
      out.push(last ?? { tok: 'error', lit: `error expected: keyword found '${buffer}'` });
      if (!last) return [...out, { tok: 'eos', lit: '' }];
      continue;
    }
    const start = pos;
    while (pos < s.length && !isSpecialSymbol(s[pos]!) && !isWhitespace(s[pos]!)) pos++;
    const word = s.slice(start, pos);
    const keyword = word === 'in' || word === 'notin' ? (word as Token) : undefined;
    out.push({ tok: keyword ?? 'identifier', lit: word });
  }
}

// ---- parser --------------------------------------------------------------------------------

/** In value position "in" and "notin" are plain words: `a in (in, notin)` is legal. */
type Context = 'keyAndOperator' | 'values';

class Parser {
  private position = 0;
  constructor(private readonly items: Scanned[]) {}

  private at(context: Context, advance: boolean): Scanned {
    // A lexer error ends the stream, so the position never passes the final 'eos'.
    const item = this.items[Math.min(this.position, this.items.length - 1)]!;
    if (advance) this.position++;
    if (context === 'values' && (item.tok === 'in' || item.tok === 'notin')) {
      return { tok: 'identifier', lit: item.lit };
    }
    return item;
  }
  lookahead(context: Context): Scanned {
    return this.at(context, false);
  }
  consume(context: Context): Scanned {
    return this.at(context, true);
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.lookahead('values');
      if (tok === 'eos') return requirements;
      if (tok !== 'identifier' && tok !== '!') {
        throw new RequirementError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
      let requirement: LabelRequirement;
      try {
        requirement = this.parseRequirement();
      } catch (err) {
        if (err instanceof RequirementError) {
          throw new RequirementError(`unable to parse requirement: ${err.message}`);
        }
        throw err;
      }
      requirements.push(requirement);
      const after = this.consume('values');
      if (after.tok === 'eos') return requirements;
      if (after.tok !== ',') {
        throw new RequirementError(`found '${after.lit}', expected: ',' or 'end of string'`);
      }
      const next = this.lookahead('values');
      if (next.tok !== 'identifier' && next.tok !== '!') {
        throw new RequirementError(`found '${next.lit}', expected: identifier after ','`);
      }
    }
  }

  private parseRequirement(): LabelRequirement {
    let negated = false;
    let item = this.consume('values');
    if (item.tok === '!') {
      negated = true;
      item = this.consume('values');
    }
    if (item.tok !== 'identifier') {
      throw new RequirementError(`found '${item.lit}', expected: identifier`);
    }
    const key = item.lit;
    const keyProblem = keyProblems(key, 'key');
    if (keyProblem) throw new RequirementError(keyProblem);
    const next = this.lookahead('values').tok;
    // Upstream lets "!a=b" silently become "a=b"; here "!key" always ends the requirement,
    // so the stray operator is reported by the caller instead.
    if (negated) return newRequirement(key, '!', []);
    if (next === 'eos' || next === ',') return newRequirement(key, 'exists', []);
    const operator = this.parseOperator();
    const values =
      operator === 'in' || operator === 'notin' ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, operator, values);
  }

  private parseOperator(): LabelOperator {
    const { tok, lit } = this.consume('keyAndOperator');
    switch (tok) {
      case 'in':
      case 'notin':
      case '=':
      case '==':
      case '!=':
        return tok;
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      default:
        throw new RequirementError(`found '${lit}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }

  private parseValues(): string[] {
    const open = this.consume('values');
    if (open.tok !== '(') throw new RequirementError(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.lookahead('values');
    if (tok === ')') {
      this.consume('values');
      return [''];
    }
    if (tok !== 'identifier' && tok !== ',') {
      throw new RequirementError(`found '${lit}', expected: ',', ')' or identifier`);
    }
    const values = this.parseIdentifiersList();
    const close = this.consume('values');
    if (close.tok !== ')') throw new RequirementError(`found '${close.lit}', expected: ')'`);
    return values;
  }

  /** A comma-separated list in which empty entries stand for the empty value: "(a,,b)". */
  private parseIdentifiersList(): string[] {
    const values = new Set<string>();
    for (;;) {
      const { tok, lit } = this.consume('values');
      if (tok === 'identifier') {
        values.add(lit);
        const next = this.lookahead('values');
        if (next.tok === ',') continue;
        if (next.tok === ')') return [...values];
        throw new RequirementError(`found '${next.lit}', expected: ',' or ')'`);
      }
      if (tok === ',') {
        if (values.size === 0) values.add('');
        const next = this.lookahead('values').tok;
        if (next === ')') {
          values.add('');
          return [...values];
        }
        if (next === ',') {
          this.consume('values');
          values.add('');
        }
        continue;
      }
      throw new RequirementError(`found '${lit}', expected: ',', or identifier`);
    }
  }

  private parseExactValue(): string[] {
    const next = this.lookahead('values');
    if (next.tok === 'eos' || next.tok === ',') return [''];
    const { tok, lit } = this.consume('values');
    if (tok === 'identifier') return [lit];
    throw new RequirementError(`found '${lit}', expected: identifier`);
  }
}

/**
 * Parses the `labelSelector` query syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
 * `a`, `!a`, `a>1`, `a<1`, joined by commas. The empty string selects everything. A mistake is
 * answered with 400 BadRequest and Kubernetes' wording.
 */
export function parseLabelSelector(s: string): LabelSelector {
  try {
    return new RequirementsSelector(new Parser(lex(s)).parse());
  } catch (err) {
    if (err instanceof RequirementError) throw errors.badRequest(err.message);
    throw err;
  }
}

/** The metav1.LabelSelector object form. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

const expressionOperators: Record<string, LabelOperator> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

function requirementsFromObject(sel: Record<string, unknown>): LabelRequirement[] {
  const requirements: LabelRequirement[] = [];
  const { matchLabels, matchExpressions } = sel;
  if (matchLabels !== undefined && matchLabels !== null) {
    if (!isPlainObject(matchLabels)) throw new RequirementError('matchLabels: must be an object of strings');
    for (const [key, value] of Object.entries(matchLabels)) {
      if (typeof value !== 'string') {
        throw new RequirementError(`matchLabels[${key}]: Invalid value: ${quote(value)}: must be a string`);
      }
      requirements.push(newRequirement(key, '=', [value]));
    }
  }
  if (matchExpressions !== undefined && matchExpressions !== null) {
    if (!Array.isArray(matchExpressions)) throw new RequirementError('matchExpressions: must be a list');
    matchExpressions.forEach((expr: unknown, i) => {
      if (!isPlainObject(expr) || typeof expr.key !== 'string') {
        throw new RequirementError(`matchExpressions[${i}].key: Required value`);
      }
      const op = typeof expr.operator === 'string' && Object.hasOwn(expressionOperators, expr.operator)
        ? expressionOperators[expr.operator]!
        : undefined;
      if (!op) throw new RequirementError(`${quote(expr.operator)} is not a valid label selector operator`);
      const values = expr.values ?? [];
      if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
        throw new RequirementError(`matchExpressions[${i}].values: must be a list of strings`);
      }
      requirements.push(newRequirement(expr.key, op, values as string[]));
    });
  }
  return requirements;
}

/**
 * metav1.LabelSelectorAsSelector: null or undefined selects nothing, `{}` selects everything,
 * otherwise every matchLabels entry and matchExpression must hold. Bad selectors throw 400.
 */
export function labelSelectorFromObject(sel: LabelSelectorObject | null | undefined): LabelSelector {
  if (sel === null || sel === undefined) return nothing;
  try {
    // Typed for callers, checked anyway: selectors arrive inside user-written objects.
    const untrusted: unknown = sel;
    if (!isPlainObject(untrusted)) throw new RequirementError('a label selector must be an object');
    return new RequirementsSelector(requirementsFromObject(untrusted));
  } catch (err) {
    if (err instanceof RequirementError) throw errors.badRequest(err.message);
    throw err;
  }
}

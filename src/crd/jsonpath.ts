// The JSONPath dialect kubectl and CRD printer columns use (k8s.io/client-go/util/jsonpath),
// limited to what column and field definitions need: `.a.b`, `['a.b']`, `[0]`, `[-1]`,
// `[1:3]`, `[*]`, `.*`, `..name` and filters `[?(@.type=="Ready")]`. Missing keys yield no
// values rather than errors, as with AllowMissingKeys(true).

import { isPlainObject } from '../machinery/object.js';

type Comparison = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type JsonPathStep =
  | { kind: 'field'; names: string[] }
  | { kind: 'wildcard' }
  | { kind: 'recursive'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start?: number; end?: number; step?: number }
  | { kind: 'filter'; path: JsonPathStep[]; op?: Comparison; literal?: unknown };

export class JsonPathError extends Error {
  constructor(expression: string, why: string) {
    super(`invalid JSONPath ${JSON.stringify(expression)}: ${why}`);
    this.name = 'JsonPathError';
  }
}

const parsed = new Map<string, JsonPathStep[]>();

/** Parses once per distinct expression; printer columns are evaluated for every row. */
export function parseJsonPath(expression: string): JsonPathStep[] {
  const cached = parsed.get(expression);
  if (cached) return cached;
  let body = expression.trim();
  if (body.startsWith('{') && body.endsWith('}')) body = body.slice(1, -1).trim();
  if (body.startsWith('$')) body = body.slice(1);
  const steps = new Parser(expression, body).steps();
  parsed.set(expression, steps);
  return steps;
}

/** Every value the expression selects from `root`, in document order. */
export function evaluateJsonPath(expression: string, root: unknown): unknown[] {
  return applySteps(parseJsonPath(expression), [root]);
}

class Parser {
  private pos = 0;

  constructor(
    private readonly expression: string,
    private readonly text: string,
  ) {}

  steps(until?: (ch: string) => boolean): JsonPathStep[] {
    const steps: JsonPathStep[] = [];
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos]!;
      if (until?.(ch)) break;
      if (ch === '.') steps.push(this.dotStep());
      else if (ch === '[') steps.push(this.bracketStep());
      else if (ch === '@' && steps.length === 0) this.pos++;
      else if (steps.length === 0 && /[A-Za-z_]/.test(ch)) steps.push({ kind: 'field', names: [this.identifier()] });
      else throw this.error(`unexpected ${JSON.stringify(ch)} at ${this.pos}`);
    }
    return steps;
  }

  private error(why: string): JsonPathError {
    return new JsonPathError(this.expression, why);
  }

  private identifier(): string {
    const start = this.pos;
    while (this.pos < this.text.length && !/[.[\]\s=!<>)&|]/.test(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private dotStep(): JsonPathStep {
    this.pos++;
    if (this.text[this.pos] === '.') {
      this.pos++;
      return { kind: 'recursive', name: this.identifier() };
    }
    if (this.text[this.pos] === '*') {
      this.pos++;
      return { kind: 'wildcard' };
    }
    const name = this.identifier();
    if (!name) throw this.error(`empty field name at ${this.pos}`);
    return { kind: 'field', names: [name] };
  }

  private bracketStep(): JsonPathStep {
    this.pos++;
    this.skipSpaces();
    const ch = this.text[this.pos];
    let step: JsonPathStep;
    if (ch === '?') step = this.filter();
    else if (ch === '*') {
      this.pos++;
      step = { kind: 'wildcard' };
    } else if (ch === '"' || ch === "'") step = { kind: 'field', names: this.quotedList() };
    else step = this.indexOrSlice();
    this.skipSpaces();
    if (this.text[this.pos] !== ']') throw this.error(`missing "]" at ${this.pos}`);
    this.pos++;
    return step;
  }

  private skipSpaces(): void {
    while (this.text[this.pos] === ' ') this.pos++;
  }

  private quoted(): string {
    const quote = this.text[this.pos];
    const end = this.text.indexOf(quote!, this.pos + 1);
    if (end < 0) throw this.error('unterminated string');
    const value = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return value;
  }

  private quotedList(): string[] {
    const names = [this.quoted()];
    this.skipSpaces();
    while (this.text[this.pos] === ',') {
      this.pos++;
      this.skipSpaces();
      names.push(this.quoted());
      this.skipSpaces();
    }
    return names;
  }

  private indexOrSlice(): JsonPathStep {
    const end = this.text.indexOf(']', this.pos);
    if (end < 0) throw this.error('missing "]"');
    const inside = this.text.slice(this.pos, end).trim();
    this.pos = end;
    const parts = inside.split(':').map((p) => p.trim());
    const toNumber = (p: string | undefined): number | undefined => {
      if (p === undefined || p === '') return undefined;
      if (!/^-?\d+$/.test(p)) throw this.error(`bad index ${JSON.stringify(p)}`);
      return Number(p);
    };
    if (parts.length === 1) return { kind: 'index', index: toNumber(parts[0]) ?? 0 };
    if (parts.length > 3) throw this.error(`bad slice ${JSON.stringify(inside)}`);
    return { kind: 'slice', start: toNumber(parts[0]), end: toNumber(parts[1]), step: toNumber(parts[2]) };
  }

  private filter(): JsonPathStep {
    this.pos++;
    if (this.text[this.pos] !== '(') throw this.error('expected "(" after "?"');
    this.pos++;
    this.skipSpaces();
    const path = this.steps((ch) => ch === ' ' || ch === ')' || ch === '=' || ch === '!' || ch === '<' || ch === '>');
    this.skipSpaces();
    let op: Comparison | undefined;
    let literal: unknown;
    const opMatch = /^(==|!=|<=|>=|<|>)/.exec(this.text.slice(this.pos));
    if (opMatch) {
      op = opMatch[1] as Comparison;
      this.pos += op.length;
      this.skipSpaces();
      literal = this.literal();
      this.skipSpaces();
    }
    if (this.text[this.pos] !== ')') throw this.error(`missing ")" at ${this.pos}`);
    this.pos++;
    return { kind: 'filter', path, op, literal };
  }

  private literal(): unknown {
    const ch = this.text[this.pos];
    if (ch === '"' || ch === "'") return this.quoted();
    const match = /^(true|false|null|-?\d+(\.\d+)?)/.exec(this.text.slice(this.pos));
    if (!match) throw this.error(`bad literal at ${this.pos}`);
    this.pos += match[0].length;
    return JSON.parse(match[0]);
  }
}

function childrenOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isPlainObject(value)) return Object.values(value);
  return [];
}

function collectRecursive(value: unknown, name: string, out: unknown[]): void {
  if (isPlainObject(value) && name in value) out.push(value[name]);
  for (const child of childrenOf(value)) collectRecursive(child, name, out);
}

function compare(left: unknown, op: Comparison, right: unknown): boolean {
  switch (op) {
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    default: {
      if (typeof left !== typeof right || (typeof left !== 'number' && typeof left !== 'string')) return false;
      const l = left as number | string;
      const r = right as number | string;
      return op === '<' ? l < r : op === '<=' ? l <= r : op === '>' ? l > r : l >= r;
    }
  }
}

function sliceOf(list: unknown[], step: { start?: number; end?: number; step?: number }): unknown[] {
  const by = step.step ?? 1;
  const norm = (i: number) => (i < 0 ? Math.max(list.length + i, 0) : Math.min(i, list.length));
  const start = norm(step.start ?? 0);
  const end = norm(step.end ?? list.length);
  const out: unknown[] = [];
  for (let i = start; i < end; i += by > 0 ? by : 1) out.push(list[i]);
  return out;
}

function applyStep(step: JsonPathStep, value: unknown, out: unknown[]): void {
  switch (step.kind) {
    case 'field':
      if (isPlainObject(value)) for (const name of step.names) if (name in value) out.push(value[name]);
      return;
    case 'wildcard':
      out.push(...childrenOf(value));
      return;
    case 'recursive':
      collectRecursive(value, step.name, out);
      return;
    case 'index':
      if (Array.isArray(value)) {
        const i = step.index < 0 ? value.length + step.index : step.index;
        if (i >= 0 && i < value.length) out.push(value[i]);
      }
      return;
    case 'slice':
      if (Array.isArray(value)) out.push(...sliceOf(value, step));
      return;
    case 'filter':
      for (const item of childrenOf(value)) {
        const found = applySteps(step.path, [item]);
        const keep = step.op === undefined ? found.length > 0 : found.some((v) => compare(v, step.op!, step.literal));
        if (keep) out.push(item);
      }
  }
}

function applySteps(steps: JsonPathStep[], start: unknown[]): unknown[] {
  let current = start;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of current) applyStep(step, value, next);
    current = next;
  }
  return current;
}

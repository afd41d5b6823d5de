// A set of field paths, and its FieldsV1 wire form, after structured-merge-diff's fieldpath
// package. A path element is kept in its serialized form ("f:spec", 'k:{"name":"a"}',
// "v:\"x\"", "i:0") so that it can be a Map key and be written back unchanged.

import { isPlainObject } from '../machinery/object.js';
import { goJson, goValueString } from './json.js';

/** One serialized path element: `f:<name>`, `k:<json object>`, `v:<json>` or `i:<n>`. */
export type PathElement = string;
export type Path = readonly PathElement[];

export const pathElement = {
  field: (name: string): PathElement => `f:${name}`,
  /** An associative-list item by its key fields; keys are sorted as Kubernetes does. */
  key: (fields: Record<string, unknown>): PathElement => `k:${goJson(fields)}`,
  value: (value: unknown): PathElement => `v:${goJson(value)}`,
  index: (index: number): PathElement => `i:${index}`,
};

/** The field name of an `f:` element, or undefined for other kinds. */
export function fieldName(pe: PathElement): string | undefined {
  return pe.startsWith('f:') ? pe.slice(2) : undefined;
}

// Members and children are ordered as fieldpath.PathElement.Compare orders them: field
// names first, then keys, values, indexes. FieldsV1 output and conflict order follow it.
const kindRank: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

export function comparePathElements(a: PathElement, b: PathElement): number {
  const rank = kindRank[a[0]!]! - kindRank[b[0]!]!;
  if (rank !== 0) return rank;
  if (a[0] === 'i') return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Parse and canonicalize one serialized path element; throws on a malformed one. */
export function parsePathElement(raw: string): PathElement {
  if (raw.length < 2 || raw[1] !== ':') throw new Error(`invalid path element ${JSON.stringify(raw)}`);
  const body = raw.slice(2);
  switch (raw[0]) {
    case 'f':
      return raw;
    case 'k': {
      const parsed = parseJson(raw, body);
      if (!isPlainObject(parsed)) throw new Error(`key path element is not an object: ${raw}`);
      return pathElement.key(parsed);
    }
    case 'v':
      return pathElement.value(parseJson(raw, body));
    case 'i':
      if (!/^-?\d+$/.test(body)) throw new Error(`index path element is not an integer: ${raw}`);
      return pathElement.index(Number(body));
    default:
      throw new Error(`unknown path element type in ${JSON.stringify(raw)}`);
  }
}

function parseJson(raw: string, body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new Error(`invalid JSON in path element ${JSON.stringify(raw)}`);
  }
}

/** A path as Kubernetes prints it in conflicts: `.spec.pools[name="a"].size`. */
export function formatPath(path: Path): string {
  return path
    .map((pe) => {
      const body = pe.slice(2);
      switch (pe[0]) {
        case 'f':
          return `.${body}`;
        case 'k': {
          const fields = JSON.parse(body) as Record<string, unknown>;
          const parts = Object.keys(fields).map((k) => `${k}=${goValueString(fields[k])}`);
          return `[${parts.join(',')}]`;
        }
        case 'v':
          return `[=${goValueString(JSON.parse(body))}]`;
        default:
          return `[${body}]`;
      }
    })
    .join('');
}

/**
 * A set of paths stored as a tree: `members` are the elements owned at this level, `children`
 * the subtrees below. A node can be both (FieldsV1 writes that as `".": {}`).
 */
export class FieldSet {
  readonly members = new Set<PathElement>();
  readonly children = new Map<PathElement, FieldSet>();

  static of(paths: Iterable<Path>): FieldSet {
    const set = new FieldSet();
    for (const path of paths) set.insert(path);
    return set;
  }

  /** Adds a path; the empty path (the root itself) is not representable and is ignored. */
  insert(path: Path): this {
    if (path.length === 0) return this;
    let node: FieldSet = this;
    const last = path.length - 1;
    for (let i = 0; i < last; i++) node = node.descend(path[i]!);
    node.members.add(path[last]!);
    return this;
  }

  has(path: Path): boolean {
    if (path.length === 0) return false;
    const parent = this.at(path.slice(0, -1));
    return parent !== undefined && parent.members.has(path[path.length - 1]!);
  }

  /** The subtree below a path prefix, if any. */
  at(prefix: Path): FieldSet | undefined {
    let node: FieldSet | undefined = this;
    for (const pe of prefix) {
      node = node.children.get(pe);
      if (!node) return undefined;
    }
    return node;
  }

  /** True if the set holds any path strictly below the prefix. */
  hasBelow(prefix: Path): boolean {
    const node = this.at(prefix);
    return node !== undefined && !node.isEmpty();
  }

  isEmpty(): boolean {
    if (this.members.size > 0) return false;
    for (const child of this.children.values()) if (!child.isEmpty()) return false;
    return true;
  }

  union(other: FieldSet): FieldSet {
    const out = this.copy();
    out.addAll(other);
    return out;
  }

  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (!other.members.has(m)) out.members.add(m);
    for (const [pe, child] of this.children) {
      const theirs = other.children.get(pe);
      const rest = theirs ? child.difference(theirs) : child.copy();
      if (!rest.isEmpty()) out.children.set(pe, rest);
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (other.members.has(m)) out.members.add(m);
    for (const [pe, child] of this.children) {
      const theirs = other.children.get(pe);
      if (!theirs) continue;
      const both = child.intersection(theirs);
      if (!both.isEmpty()) out.children.set(pe, both);
    }
    return out;
  }

  /** Removes every path that equals or lies below a member of `other` (an exclude filter). */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (!other.members.has(m)) out.members.add(m);
    for (const [pe, child] of this.children) {
      if (other.members.has(pe)) continue;
      const theirs = other.children.get(pe);
      const rest = theirs ? child.recursiveDifference(theirs) : child.copy();
      if (!rest.isEmpty()) out.children.set(pe, rest);
    }
    return out;
  }

  equals(other: FieldSet): boolean {
    return this.difference(other).isEmpty() && other.difference(this).isEmpty();
  }

  /** Every path, in fieldpath.Set.Iterate order: a level's members before its children. */
  paths(): Path[] {
    const out: Path[] = [];
    const walk = (set: FieldSet, prefix: PathElement[]) => {
      for (const m of [...set.members].sort(comparePathElements)) out.push([...prefix, m]);
      for (const pe of [...set.children.keys()].sort(comparePathElements)) {
        walk(set.children.get(pe)!, [...prefix, pe]);
      }
    };
    walk(this, []);
    return out;
  }

  copy(): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) out.members.add(m);
    for (const [pe, child] of this.children) out.children.set(pe, child.copy());
    return out;
  }

  toFieldsV1(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const elements = new Set<PathElement>([...this.members, ...this.children.keys()]);
    for (const pe of [...elements].sort(comparePathElements)) {
      const child = this.children.get(pe);
      const hasChildren = child !== undefined && !child.isEmpty();
      if (!hasChildren) {
        out[pe] = {};
        continue;
      }
      const body = child.toFieldsV1();
      out[pe] = this.members.has(pe) ? { '.': {}, ...body } : body;
    }
    return out;
  }

  /** Reads FieldsV1; throws an Error naming the problem when the document is malformed. */
  static fromFieldsV1(doc: unknown): FieldSet {
    if (!isPlainObject(doc)) throw new Error('fieldsV1 must be a JSON object');
    const set = new FieldSet();
    readLevel(doc, set);
    return set;
  }

  /** The subtree at `pe`, created empty when missing (an empty subtree holds no paths). */
  descend(pe: PathElement): FieldSet {
    let child = this.children.get(pe);
    if (!child) {
      child = new FieldSet();
      this.children.set(pe, child);
    }
    return child;
  }

  private addAll(other: FieldSet): void {
    for (const m of other.members) this.members.add(m);
    for (const [pe, child] of other.children) this.descend(pe).addAll(child);
  }
}

// An empty object marks a leaf member; "." marks an inner node that is itself owned.
function readLevel(doc: Record<string, unknown>, into: FieldSet): void {
  for (const [raw, body] of Object.entries(doc)) {
    if (raw === '.') continue;
    const pe = parsePathElement(raw);
    if (!isPlainObject(body)) throw new Error(`value of ${JSON.stringify(raw)} must be an object`);
    const keys = Object.keys(body);
    if (keys.length === 0 || keys.includes('.')) into.members.add(pe);
    if (keys.some((k) => k !== '.')) {
      const child = new FieldSet();
      readLevel(body, child);
      if (!child.isEmpty()) into.children.set(pe, child);
    }
  }
}

// Decoding a YAML request body without letting it hold the event loop. The YAML parser costs
// tens of microseconds a node and checks duplicate keys pairwise: a 280 KB map of 20,000 keys
// blocked the server for 10 s, 100,000 keys for 7 minutes, and 20,000 nested brackets for a
// second. So JSON (which is YAML, and what kubectl sends as an apply patch) is parsed as JSON;
// real YAML is measured first, bounded in nesting and size, and its duplicate keys found in
// one pass.
import YAML, { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import { ApiError, errors } from '../machinery/errors.js';

/** Lines plus flow items a YAML body may have (larger documents can be sent as JSON). */
export const MAX_YAML_NODES = 5_000;
const MAX_ALIASES = 100;

export function decodeYaml(text: string, maxDepth: number): unknown {
  if (/^\s*[{[]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // YAML flow style that is not JSON: read below.
    }
  }
  checkShape(text, maxDepth);
  try {
    const doc = YAML.parseDocument(text, { uniqueKeys: false });
    if (doc.errors.length > 0) throw new Error(doc.errors[0]!.message);
    const duplicate = firstDuplicateKey(doc.contents);
    if (duplicate !== undefined) throw new Error(`Map keys must be unique: ${JSON.stringify(duplicate)} appears twice`);
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw errors.badRequest(`the request body is not valid YAML: ${(err as Error).message}`);
  }
}

/** One pass over the text: flow brackets deeper than `maxDepth`, or too many nodes, refuse it. */
function checkShape(text: string, maxDepth: number): void {
  let nodes = 0;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x2c) nodes++;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) throw errors.badRequest(`the request body is nested more than ${maxDepth} levels deep`);
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  if (nodes > MAX_YAML_NODES) {
    throw errors.tooLarge(`a YAML request body may have at most ${MAX_YAML_NODES} lines and flow items; send a larger document as JSON`);
  }
}

/** The first key that a map holds twice, found with one set per map and no recursion. */
function firstDuplicateKey(root: unknown): string | undefined {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        // JSON (and so every Kubernetes object) has only string keys; a map or list as a key
        // cannot be an object's field.
        if (isMap(pair.key) || isSeq(pair.key)) throw errors.badRequest('the request body is not valid: a map key must be a scalar, not a map or a list');
        const key = isScalar(pair.key) ? String(pair.key.value) : isAlias(pair.key) ? undefined : String(pair.key);
        if (key !== undefined) {
          if (seen.has(key)) return key;
          seen.add(key);
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return undefined;
}

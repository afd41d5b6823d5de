// Random requests for fuzzing the API (seeded, so a failure can be replayed): methods, paths,
// query strings, media types and bodies, some random and some mutated from valid objects.
// Shared by test/integration/fuzz.test.ts and the hostile-input flood (hostile.ts).
import { TEST_GROUP, widget } from './api.js';

/** mulberry32: small, seeded, good enough to pick from lists. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
export type Rng = ReturnType<typeof prng>;

export const WORDS = ['fuzz-a', 'fuzz-b', 'fuzz-c', 'Fuzz_Bad', '', '..', '%2e%2e', '%00', '%2F', '%ZZ', '%', 'a'.repeat(300), 'ünïcode', '~', '$', 'default', 'status', 'scale'];
export const RESOURCES = ['configmaps', 'secrets', 'events', 'namespaces', 'widgets', 'leases', 'customresourcedefinitions', 'nothings'];

export function randomPath(rng: Rng, method: string): string {
  const ns = rng.pick(['fuzz', 'default', 'nope', ...WORDS]);
  const name = rng.pick(WORDS);
  const res = rng.pick(RESOURCES);
  const sub = rng.pick(['', '', '', 'status', 'scale', 'finalize', 'exec', 'x/y']);
  const named = rng.chance(0.7);
  // A collection delete stays inside the fuzz namespace, away from the canaries.
  if (method === 'DELETE' && !named) return `/api/v1/namespaces/fuzz/${rng.pick(['configmaps', 'secrets', 'events'])}`;
  const tail = `${res}${named ? `/${name}` : ''}${sub ? `/${sub}` : ''}`;
  const base = rng.pick([
    '/api/v1',
    '/api/v1',
    `/apis/${TEST_GROUP}/v1`,
    '/apis/coordination.k8s.io/v1',
    '/apis/apiextensions.k8s.io/v1',
    '/apis/nope.example.com/v1',
    '/api/v2',
    '/apis',
    '/api',
    `/openapi/v3/apis/${TEST_GROUP}/v1`,
    '/openapi/v2',
    '',
  ]);
  const namespaced = rng.chance(0.6) ? `/namespaces/${ns}` : '';
  const path = `${base}${namespaced}/${tail}`;
  return rng.chance(0.05) ? path.replace(/\//g, '//') : path;
}

const QUERY_KEYS = [
  'watch', 'labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'resourceVersionMatch', 'dryRun',
  'fieldValidation', 'fieldManager', 'force', 'timeoutSeconds', 'propagationPolicy', 'gracePeriodSeconds', 'includeObject',
  'sendInitialEvents', 'allowWatchBookmarks', 'pretty', 'orphanDependents',
];
const QUERY_VALUES = [
  'true', 'false', '0', '1', '-1', '99999999999999999999', 'NaN', 'All', 'Strict', 'Warn', 'Ignore', 'Exact', 'NotOlderThan',
  'a=b', 'a in (b', 'a!=b,c', 'metadata.name=fuzz-a', 'spec.color=red', 'x'.repeat(2000), '%', '\u0000', '"quoted"', 'Object', 'None',
  'Orphan', 'Foreground', 'bG9s', 'eyJ2IjoidmlydGZsb3cvMSIsInJ2IjoxLCJzdGFydCI6MX0',
];

export function randomQuery(rng: Rng): string {
  const parts: string[] = [];
  const n = rng.int(4);
  for (let i = 0; i < n; i++) parts.push(`${rng.pick(QUERY_KEYS)}=${encodeURIComponent(rng.pick(QUERY_VALUES))}`);
  // A watch must end by itself.
  if (parts.some((p) => p.startsWith('watch='))) parts.push('timeoutSeconds=1');
  return parts.length ? `?${parts.join('&')}` : '';
}

export function randomValue(rng: Rng, depth = 0): unknown {
  const kind = rng.int(depth > 3 ? 5 : 8);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1]);
    case 3:
      return rng.pick(WORDS);
    case 4:
      return rng.pick(['', 'x', '{}', '[]']);
    case 5:
      return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
    default: {
      const obj: Record<string, unknown> = {};
      for (let i = rng.int(4); i > 0; i--) {
        obj[rng.pick(['metadata', 'spec', 'status', 'data', 'kind', 'apiVersion', 'name', 'labels', '__proto__', 'constructor', 'finalizers', 'op', 'path', 'value'])] =
          randomValue(rng, depth + 1);
      }
      return obj;
    }
  }
}

export function mutate(rng: Rng, base: Record<string, any>): unknown {
  const copy = structuredClone(base);
  const paths: (string[])[] = [['metadata'], ['metadata', 'name'], ['metadata', 'labels'], ['metadata', 'finalizers'], ['metadata', 'uid'],
    ['metadata', 'resourceVersion'], ['metadata', 'managedFields'], ['metadata', 'ownerReferences'], ['spec'], ['spec', 'size'], ['spec', 'ports'],
    ['status'], ['data'], ['kind'], ['apiVersion'], ['stringData'], ['metadata', 'generateName'], ['metadata', 'annotations']];
  for (let i = 1 + rng.int(3); i > 0; i--) {
    const path = rng.pick(paths);
    let node = copy;
    for (const key of path.slice(0, -1)) {
      if (node[key] === null || typeof node[key] !== 'object') node[key] = {};
      node = node[key];
    }
    node[path.at(-1)!] = randomValue(rng);
  }
  return copy;
}

export function randomBody(rng: Rng): { body?: string; type?: string } {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: rng.pick(['fuzz-a', 'fuzz-b', 'fuzz-c']), namespace: 'fuzz' }, data: { a: '1' } };
  const wd = { ...widget(rng.pick(['fuzz-a', 'fuzz-b'])), spec: { color: 'red', size: 3, ports: [{ name: 'p', port: 1 }] } };
  const type = rng.pick([
    'application/json', 'application/json', 'application/merge-patch+json', 'application/json-patch+json',
    'application/strategic-merge-patch+json', 'application/apply-patch+yaml', 'application/yaml', 'text/plain', 'application/vnd.kubernetes.protobuf', '',
  ]);
  switch (rng.int(7)) {
    case 0:
      return { type };
    case 1:
      return { type, body: JSON.stringify(randomValue(rng)) };
    case 2:
      return { type, body: JSON.stringify(mutate(rng, rng.chance(0.5) ? cm : wd)) };
    case 3:
      return {
        type: 'application/json-patch+json',
        body: JSON.stringify(Array.from({ length: 1 + rng.int(3) }, () => ({
          op: rng.pick(['add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus']),
          path: rng.pick(['/spec', '/spec/size', '/metadata/name', '/metadata/labels/x', '/data/a', '', '/', '/a~2b', '/status', '/metadata/uid', '/kind']),
          from: rng.pick(['/spec', '/data', undefined, '/metadata']),
          value: randomValue(rng),
        }))),
      };
    case 4: {
      const bytes = Buffer.alloc(1 + rng.int(200));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
      return { type, body: bytes.toString('latin1') };
    }
    case 5:
      return { type, body: `${'['.repeat(2000)}${']'.repeat(rng.chance(0.5) ? 2000 : 10)}` };
    default:
      return { type: rng.pick(['application/yaml', 'application/apply-patch+yaml']), body: rng.pick([
        'a: &a [1]\nb: *a\n',
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fuzz-a}\ndata: {a: !!binary aGk=}\n',
        `apiVersion: ${TEST_GROUP}/v1\nkind: Widget\nmetadata:\n  name: fuzz-a\nspec:\n  size: "big"\n`,
        '--- \n--- \n',
        ': : :\n',
        '{a: 1, a: 2}\n',
      ]) };
  }
}


// A little fuzzing: random methods, paths, query strings, media types and bodies (seeded, so
// a failure can be replayed). Nothing may answer 500, every refusal is a metav1.Status, the
// server keeps answering, and the stored objects stay intact and agree with the cache.
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gadgetCrd, installCrd, TEST_GROUP, widget, widgetCrd, widgets } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

let vf: TestServer;
let dispatcher: Agent;
beforeAll(async () => {
  vf = await startTestServer();
  await installCrd(vf, widgetCrd());
  await installCrd(vf, gadgetCrd());
  dispatcher = new Agent({ connect: { ca: vf.caCert }, connections: 16 });
});
afterAll(async () => {
  await dispatcher?.close();
  await vf?.stop();
});

/** mulberry32: small, seeded, good enough to pick from lists. */
function prng(seed: number) {
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
type Rng = ReturnType<typeof prng>;

const WORDS = ['fuzz-a', 'fuzz-b', 'fuzz-c', 'Fuzz_Bad', '', '..', '%2e%2e', '%00', '%2F', '%ZZ', '%', 'a'.repeat(300), 'ünïcode', '~', '$', 'default', 'status', 'scale'];
const RESOURCES = ['configmaps', 'secrets', 'events', 'namespaces', 'widgets', 'leases', 'customresourcedefinitions', 'nothings'];

function randomPath(rng: Rng, method: string): string {
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

function randomQuery(rng: Rng): string {
  const parts: string[] = [];
  const n = rng.int(4);
  for (let i = 0; i < n; i++) parts.push(`${rng.pick(QUERY_KEYS)}=${encodeURIComponent(rng.pick(QUERY_VALUES))}`);
  // A watch must end by itself.
  if (parts.some((p) => p.startsWith('watch='))) parts.push('timeoutSeconds=1');
  return parts.length ? `?${parts.join('&')}` : '';
}

function randomValue(rng: Rng, depth = 0): unknown {
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

function mutate(rng: Rng, base: Record<string, any>): unknown {
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

function randomBody(rng: Rng): { body?: string; type?: string } {
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

interface Outcome {
  status: number;
  body: string;
  contentType: string;
}

async function send(method: string, path: string, body: string | undefined, type: string | undefined): Promise<Outcome> {
  const headers: Record<string, string> = { authorization: `Bearer ${vf.token}` };
  if (type) headers['content-type'] = type;
  const res = await request(`${vf.url}${path}`, {
    method: method as 'GET',
    dispatcher,
    headers,
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text, contentType: String(res.headers['content-type'] ?? '') };
}

describe('fuzzing the API', () => {
  it('never answers 500, always answers a Status for a refusal, and corrupts nothing', async () => {
    for (const name of ['fuzz', 'canaries']) {
      expect((await vf.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })).status).toBe(201);
    }
    // Canaries the fuzzer never names: they must come out byte for byte the same.
    const canaries = [
      await vf.call('POST', '/api/v1/namespaces/canaries/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'canary' }, data: { keep: 'me' } }),
      await vf.call('POST', widgets('canaries'), widget('canary', { color: 'green', size: 7, ports: [{ name: 'x', port: 9 }] })),
    ];
    for (const c of canaries) expect(c.status).toBe(201);

    const seed = Number(process.env.FUZZ_SEED ?? 20261129);
    const rng = prng(seed);
    const failures: string[] = [];
    const requests = 600;
    const run = async (i: number) => {
      const method = rng.pick(['GET', 'GET', 'POST', 'PUT', 'PATCH', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']);
      const path = `${randomPath(rng, method)}${randomQuery(rng)}`;
      const { body, type } = method === 'GET' || method === 'HEAD' ? { body: undefined, type: undefined } : randomBody(rng);
      let outcome: Outcome;
      try {
        outcome = await send(method, path, body, type);
      } catch (err) {
        failures.push(`#${i} ${method} ${path}: request failed: ${(err as Error).message}`);
        return;
      }
      const what = `#${i} seed ${seed} ${method} ${path} [${type}] ${body?.slice(0, 200)} -> ${outcome.status} ${outcome.body.slice(0, 300)}`;
      if (outcome.status >= 500 && outcome.status !== 504) failures.push(what);
      if (outcome.status >= 400 && method !== 'HEAD' && outcome.contentType.startsWith('application/json')) {
        try {
          const status = JSON.parse(outcome.body) as { kind?: string; code?: number };
          if (status.kind !== 'Status' || status.code !== outcome.status) failures.push(`not a Status: ${what}`);
        } catch {
          failures.push(`unparsable error body: ${what}`);
        }
      }
    };
    // A few at a time, so that writes race each other as well.
    for (let i = 0; i < requests; i += 6) await Promise.all([0, 1, 2, 3, 4, 5].map((k) => run(i + k)));
    expect(failures, failures.join('\n')).toEqual([]);

    // Still answering, and unharmed.
    expect((await vf.call('GET', '/readyz', undefined, { authorization: '' })).status).toBe(200);
    const cm = await vf.call('GET', '/api/v1/namespaces/canaries/configmaps/canary');
    expect(cm.body).toEqual(canaries[0]!.body);
    const wd = await vf.call('GET', widgets('canaries', 'canary'));
    expect(wd.body).toEqual(canaries[1]!.body);

    // Every stored object is well formed, carries its row's revision, and the cache agrees.
    const rows = await vf.db.query<{ key: string; resource: string; namespace: string; name: string; revision: string; value: string }>(
      'SELECT key, resource, namespace, name, revision, value FROM objects',
    );
    await vf.store.syncCache();
    for (const row of rows) {
      // Secrets are sealed at rest; the store's keys open them.
      const obj = JSON.parse(vf.store.objects.encryption.open(row.key, row.value, Number(row.revision)));
      expect(obj.metadata.name, row.key).toBe(row.name);
      expect(obj.metadata.resourceVersion, row.key).toBe(row.revision);
      expect(typeof obj.metadata.uid, row.key).toBe('string');
      expect(typeof obj.kind, row.key).toBe('string');
      expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
      expect(vf.store.cache.get(row.resource, row.key)?.object, row.key).toEqual(obj);
    }
    const cached = vf.store.cache.resources().reduce((n, r) => n + vf.store.cache.count(r), 0);
    expect(cached).toBe(rows.length);
    // Nothing reached Object.prototype.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses documents nested deeper than 1000 levels with 400, also when a patch would build one', async () => {
    const gadgets = `/apis/${TEST_GROUP}/v1/gadgets`;
    const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const lists = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const ok = await vf.call('POST', gadgets, `{"apiVersion":"${TEST_GROUP}/v1","kind":"Gadget","metadata":{"name":"deep"},"spec":{"a":${nested(900)}}}`);
    expect(ok.status).toBe(201);
    for (const [body, type] of [
      [`{"apiVersion":"${TEST_GROUP}/v1","kind":"Gadget","metadata":{"name":"deeper"},"spec":{"a":${nested(5000)}}}`, 'application/json'],
      [`{"apiVersion":"${TEST_GROUP}/v1","kind":"Gadget","metadata":{"name":"deeper"},"spec":{"a":${lists(200000)}}}`, 'application/json'],
      [`apiVersion: ${TEST_GROUP}/v1\nkind: Gadget\nmetadata: {name: deeper}\nspec: {a: ${lists(20000)}}\n`, 'application/yaml'],
    ] as const) {
      const res = await vf.call('POST', gadgets, body, { 'content-type': type });
      expect(res.status, res.text.slice(0, 200)).toBe(400);
      expect(res.body.kind).toBe('Status');
    }
    // 900 levels of path plus 900 of value: each part is allowed, the result is not.
    const path = `/spec/a${'/a'.repeat(898)}`;
    const grow = await vf.call('PATCH', `${gadgets}/deep`, JSON.stringify([{ op: 'replace', path, value: JSON.parse(nested(900)) }]), {
      'content-type': 'application/json-patch+json',
    });
    expect(grow.status, grow.text.slice(0, 200)).toBe(400);
    const after = await vf.call('GET', `${gadgets}/deep`);
    expect(after.body).toEqual(ok.body);
    const update = await vf.call('PATCH', `${gadgets}/deep`, { metadata: { labels: { still: 'writable' } } }, { 'content-type': 'application/merge-patch+json' });
    expect(update.status).toBe(200);
    expect((await vf.call('GET', '/readyz', undefined, { authorization: '' })).status).toBe(200);
  });
});

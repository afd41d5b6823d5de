// A little fuzzing: random methods, paths, query strings, media types and bodies (seeded, so
// a failure can be replayed). Nothing may answer 500, every refusal is a metav1.Status, the
// server keeps answering, and the stored objects stay intact and agree with the cache.
import { Agent, request } from 'undici';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gadgetCrd, installCrd, TEST_GROUP, widget, widgetCrd, widgets } from '../support/api.js';
import { prng, randomBody, randomPath, randomQuery } from '../support/fuzz.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { MAX_DOCUMENT_DEPTH } from '../../src/api/body.js';

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

  it(`stores nothing nested deeper than ${MAX_DOCUMENT_DEPTH} levels, and serves what it stores in every format`, async () => {
    const gadgets = `/apis/${TEST_GROUP}/v1/gadgets`;
    const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const lists = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const gadget = (name: string, depth: number) => `{"apiVersion":"${TEST_GROUP}/v1","kind":"Gadget","metadata":{"name":"${name}"},"spec":{"a":${nested(depth)}}}`;
    // The object is level 1, spec level 2: spec.a may nest MAX - 2 more levels.
    const ok = await vf.call('POST', gadgets, gadget('deep', MAX_DOCUMENT_DEPTH - 2));
    expect(ok.status, ok.text.slice(0, 200)).toBe(201);
    const oneTooDeep = await vf.call('POST', gadgets, gadget('deeper', MAX_DOCUMENT_DEPTH - 1));
    expect(oneTooDeep.status).toBe(400);
    expect(oneTooDeep.body.message).toContain(`nested more than ${MAX_DOCUMENT_DEPTH} levels deep`);
    for (const [body, type] of [
      [gadget('deeper', 999), 'application/json'],
      [gadget('deeper', 5000), 'application/json'],
      [`{"apiVersion":"${TEST_GROUP}/v1","kind":"Gadget","metadata":{"name":"deeper"},"spec":{"a":${lists(200000)}}}`, 'application/json'],
      [`apiVersion: ${TEST_GROUP}/v1\nkind: Gadget\nmetadata: {name: deeper}\nspec: {a: ${lists(20000)}}\n`, 'application/yaml'],
    ] as const) {
      const res = await vf.call('POST', gadgets, body, { 'content-type': type });
      expect(res.status, res.text.slice(0, 200)).toBe(400);
      expect(res.body.kind).toBe('Status');
    }
    // A patch may not build, level by level, what no body may carry.
    const path = `/spec/a${'/a'.repeat(MAX_DOCUMENT_DEPTH - 4)}`;
    const grow = await vf.call('PATCH', `${gadgets}/deep`, JSON.stringify([{ op: 'replace', path, value: JSON.parse(nested(50)) }]), {
      'content-type': 'application/json-patch+json',
    });
    expect(grow.status, grow.text.slice(0, 200)).toBe(400);
    const after = await vf.call('GET', `${gadgets}/deep`);
    expect(after.body).toEqual(ok.body);

    // What is stored is served in every output format, one object and in lists (where it
    // sits two levels deeper), and written again with server-side apply's field ownership.
    const applied = await vf.call('PATCH', `${gadgets}/deep?fieldManager=deep-test`, gadget('deep', MAX_DOCUMENT_DEPTH - 2), {
      'content-type': 'application/apply-patch+yaml',
    });
    expect(applied.status, applied.text.slice(0, 200)).toBe(200);
    const update = await vf.call('PATCH', `${gadgets}/deep`, { metadata: { labels: { still: 'writable' } } }, { 'content-type': 'application/merge-patch+json' });
    expect(update.status, update.text.slice(0, 200)).toBe(200);
    const stored = update.body;
    const table = 'application/json;as=Table;v=v1;g=meta.k8s.io';
    for (const [what, url, accept] of [
      ['JSON', `${gadgets}/deep`, 'application/json'],
      ['YAML', `${gadgets}/deep`, 'application/yaml'],
      ['Table', `${gadgets}/deep?includeObject=Object`, table],
      ['JSON list', gadgets, 'application/json'],
      ['YAML list', gadgets, 'application/yaml'],
      ['Table list', `${gadgets}?includeObject=Object`, table],
    ] as const) {
      const res = await vf.call('GET', url, undefined, { accept });
      expect(res.status, `${what}: ${res.text.slice(0, 200)}`).toBe(200);
      const doc = accept === 'application/yaml' ? YAML.parse(res.text) : res.body;
      const served = doc.kind === 'Table' ? doc.rows.find((r: any) => r.object.metadata.name === 'deep').object : doc.items ? doc.items.find((o: any) => o.metadata.name === 'deep') : doc;
      expect(served, what).toEqual(stored);
    }
    // A watch sends it too.
    const watch = await vf.call('GET', `${gadgets}?watch=true&timeoutSeconds=1&fieldSelector=metadata.name%3Ddeep`);
    expect(watch.status).toBe(200);
    expect(JSON.parse(watch.text.split('\n')[0]!).object).toEqual(stored);
    expect((await vf.call('GET', '/readyz', undefined, { authorization: '' })).status).toBe(200);
  });
});

// The API server under requests meant to crash it, exhaust it or slip past its rules, each
// answered as kube-apiserver answers it: patch bombs and oversized objects (413/422), the
// all-namespaces collection (405), strict decoding of built-in kinds, request lines and
// headers over the limit (414/431), slow clients (408), warnings that are not Latin-1,
// per-user limits (429), a lost database (503), and query parameters as Go parses them.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_PATCH_COPY_BYTES } from '../../src/machinery/patch.js';
import { MAX_OBJECT_BYTES } from '../../src/machinery/size.js';
import { installCrd, openWatch, TEST_GROUP, widget, widgetCrd, widgets } from '../support/api.js';
import { createTestDatabase } from '../support/database.js';
import { parseRawResponse, rawExchange } from '../support/raw-http.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

let vf: TestServer;
beforeAll(async () => {
  vf = await startTestServer();
  await installCrd(vf, widgetCrd());
  for (const name of ['hard', 'other']) {
    expect((await vf.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })).status).toBe(201);
  }
});
afterAll(async () => {
  await vf?.stop();
});

const cms = (ns = 'hard', name?: string) => `/api/v1/namespaces/${ns}/configmaps${name ? `/${name}` : ''}`;
const configMap = (name: string, data: Record<string, string> = {}, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data,
  ...extra,
});
const jsonPatch = { 'content-type': 'application/json-patch+json' };
const mergePatch = { 'content-type': 'application/merge-patch+json' };

describe('object size', () => {
  it('refuses a JSON patch whose copies would pass the copy limit with 422, and lives', async () => {
    expect((await vf.call('POST', cms(), configMap('bomb', { a: 'x'.repeat(1000) }))).status).toBe(201);
    // Each copy of the whole document doubles it: 30 of them would make 2^30 copies.
    const ops = Array.from({ length: 30 }, (_, i) => ({ op: 'copy', from: '', path: `/c${i}` }));
    const body = JSON.stringify(ops);
    expect(body.length).toBeLessThan(1500);
    const res = await vf.call('PATCH', cms('hard', 'bomb'), body, jsonPatch);
    expect(res.status, res.text.slice(0, 300)).toBe(422);
    expect(res.body.reason).toBe('Invalid');
    expect(res.body.message).toContain(`exceed the limit ${MAX_JSON_PATCH_COPY_BYTES}`);
    const after = await vf.call('GET', cms('hard', 'bomb'));
    expect(after.status).toBe(200);
    expect(Object.keys(after.body)).not.toContain('c0');
  });

  it('refuses any write that would store more than 1.5 MiB with 413, whatever the verb', async () => {
    const half = 'x'.repeat(1_000_000);
    const tooBig = 'x'.repeat(MAX_OBJECT_BYTES + 1);
    const refused = (res: { status: number; body: any; text: string }, what: string) => {
      expect(res.status, `${what}: ${res.text.slice(0, 200)}`).toBe(413);
      expect(res.body.reason, what).toBe('RequestEntityTooLarge');
      expect(res.body.message, what).toContain(String(MAX_OBJECT_BYTES));
    };
    refused(await vf.call('POST', cms(), configMap('big', { a: tooBig })), 'create');
    expect((await vf.call('POST', cms(), configMap('grow', { a: half }))).status).toBe(201);
    // Merge patches once grew one ConfigMap to 30 MiB, one megabyte at a time.
    refused(await vf.call('PATCH', cms('hard', 'grow'), { data: { b: half } }, mergePatch), 'merge patch');
    refused(await vf.call('PATCH', cms('hard', 'grow'), { data: { b: half } }, { 'content-type': 'application/strategic-merge-patch+json' }), 'strategic merge patch');
    refused(await vf.call('PATCH', cms('hard', 'grow'), JSON.stringify([{ op: 'add', path: '/data/b', value: half }]), jsonPatch), 'JSON patch');
    refused(
      await vf.call('PATCH', cms('hard', 'grow'), JSON.stringify([{ op: 'copy', from: '/data/a', path: '/data/b' }]), jsonPatch),
      'JSON patch copy within the copy limit',
    );
    refused(
      await vf.call('PATCH', `${cms('hard', 'grow')}?fieldManager=test`, JSON.stringify(configMap('grow', { b: half })), {
        'content-type': 'application/apply-patch+yaml',
      }),
      'server-side apply',
    );
    const current = (await vf.call('GET', cms('hard', 'grow'))).body;
    refused(await vf.call('PUT', cms('hard', 'grow'), { ...current, data: { a: half, b: half } }), 'update');
    expect((await vf.call('GET', cms('hard', 'grow'))).body).toEqual(current);

    // The status subresource of a custom resource too.
    const created = await vf.call('POST', widgets('hard'), widget('big-status', { color: 'red' }));
    expect(created.status).toBe(201);
    refused(await vf.call('PUT', `${widgets('hard', 'big-status')}/status`, { ...created.body, status: { phase: tooBig } }), 'status update');
    refused(await vf.call('PATCH', `${widgets('hard', 'big-status')}/status`, { status: { phase: half, selector: half } }, mergePatch), 'status patch');
  });
});

describe('the all-namespaces path', () => {
  it('serves list and watch only, answering 405 to a collection delete or a create there', async () => {
    for (const ns of ['hard', 'other']) expect((await vf.call('POST', cms(ns), configMap('keep-me'))).status).toBe(201);
    expect((await vf.call('POST', widgets('other'), widget('keep-me'))).status).toBe(201);
    for (const [method, path, body] of [
      ['DELETE', '/api/v1/configmaps', undefined],
      ['DELETE', `/apis/${TEST_GROUP}/v1/widgets`, undefined],
      ['POST', '/api/v1/configmaps', { ...configMap('sneaky'), metadata: { name: 'sneaky', namespace: 'other' } }],
    ] as const) {
      const res = await vf.call(method, path, body);
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(405);
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'MethodNotAllowed', code: 405 });
    }
    for (const ns of ['hard', 'other']) expect((await vf.call('GET', cms(ns, 'keep-me'))).status).toBe(200);
    expect((await vf.call('GET', widgets('other', 'keep-me'))).status).toBe(200);
    expect((await vf.call('GET', cms('other', 'sneaky'))).status).toBe(404);
    expect((await vf.call('GET', '/api/v1/configmaps')).status).toBe(200);
    // A collection delete inside one namespace still works.
    expect((await vf.call('DELETE', '/api/v1/namespaces/other/configmaps?labelSelector=none%3Dhere')).status).toBe(200);
  });
});

describe('strict decoding of built-in kinds', () => {
  const unknownFields = { bogus: 1, metadata: { name: 'x', bogus: 'y', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: 'u', extra: true }] } };

  it('refuses unknown fields of a ConfigMap or Secret under Strict (the default), naming each', async () => {
    for (const [path, body] of [
      [cms(), { ...configMap('strict'), ...unknownFields, metadata: { ...unknownFields.metadata, name: 'strict' } }],
      ['/api/v1/namespaces/hard/secrets', { apiVersion: 'v1', kind: 'Secret', ...unknownFields, metadata: { ...unknownFields.metadata, name: 'strict' } }],
    ] as const) {
      const res = await vf.call('POST', path, body);
      expect(res.status, res.text).toBe(400);
      expect(res.body.message).toBe(
        'strict decoding error: unknown field "bogus", unknown field "metadata.bogus", unknown field "metadata.ownerReferences[0].extra"',
      );
    }
  });

  it('warns of them under Warn and drops them under Warn and Ignore', async () => {
    const warn = await vf.call('POST', `${cms()}?fieldValidation=Warn`, { ...configMap('warned', { a: '1' }), bogus: 1, metadata: { name: 'warned', bogus: 'y' } });
    expect(warn.status, warn.text).toBe(201);
    expect(warn.headers.warning).toEqual(['299 - "unknown field \\"bogus\\""', '299 - "unknown field \\"metadata.bogus\\""']);
    const ignore = await vf.call('POST', `${cms()}?fieldValidation=Ignore`, { ...configMap('ignored', { a: '1' }), bogus: 1, metadata: { name: 'ignored', bogus: 'y' } });
    expect(ignore.status).toBe(201);
    expect(ignore.headers.warning).toBeUndefined();
    for (const name of ['warned', 'ignored']) {
      const stored = (await vf.call('GET', cms('hard', name))).body;
      expect(stored.bogus, name).toBeUndefined();
      expect(stored.metadata.bogus, name).toBeUndefined();
      expect(stored.data, name).toEqual({ a: '1' });
    }
  });

  it('refuses data that is not base64 in a Secret or binaryData of a ConfigMap, whatever the field validation', async () => {
    for (const validation of ['Strict', 'Warn', 'Ignore']) {
      const secret = await vf.call('POST', `/api/v1/namespaces/hard/secrets?fieldValidation=${validation}`, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: `bad-${validation.toLowerCase()}` },
        data: { good: 'aGk=', bad: 'not base64!' },
      });
      expect(secret.status, secret.text).toBe(400);
      expect(secret.body.message).toBe('Secret in version "v1" cannot be handled as a Secret: data["bad"]: illegal base64 data at input byte 3');
      const cm = await vf.call('POST', `${cms()}?fieldValidation=${validation}`, configMap(`bad-${validation.toLowerCase()}`, {}, { binaryData: { b: 'aGk' } }));
      expect(cm.status, cm.text).toBe(400);
      expect(cm.body.message).toContain('binaryData["b"]: illegal base64 data');
    }
    const ok = await vf.call('POST', '/api/v1/namespaces/hard/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'good' }, data: { a: 'aGk=', b: 'aGVsbG8h\r\n' } });
    expect(ok.status, ok.text).toBe(201);
    const patched = await vf.call('PATCH', '/api/v1/namespaces/hard/secrets/good', { data: { c: '***' } }, mergePatch);
    expect(patched.status).toBe(400);
  });
});

describe('warnings', () => {
  it('sends a warning about a field that is not Latin-1 as UTF-8, after a write that succeeded', async () => {
    const res = await vf.call('POST', `${widgets('hard')}?fieldValidation=Warn`, widget('unicode', { color: 'red', 日本: 1, 'quote"d\\': 2 }));
    expect(res.status, res.text).toBe(201);
    const headers = ([] as string[]).concat(res.headers.warning ?? []);
    // Header bytes are UTF-8 on the wire, as kube-apiserver sends them; read them as such.
    const texts = headers.map((h) => (/[\u00c0-\u00ff]/.test(h) ? Buffer.from(h, 'latin1').toString('utf8') : h));
    expect(texts).toContain('299 - "unknown field \\"spec.日本\\""');
    expect(texts).toContain('299 - "unknown field \\"spec.quote\\\\\\"d\\\\\\\\\\""');
    expect((await vf.call('GET', widgets('hard', 'unicode'))).status).toBe(200);
  });
});

describe('query parameters', () => {
  it('reads booleans as kube-apiserver does: only "0" and "false" in any case are false', async () => {
    await Promise.all(
      ['True', 'TRUE', 'true', '1', 't', 'yes'].map(async (value) => {
        const res = await vf.call('GET', `${cms()}?watch=${value}&timeoutSeconds=1`);
        expect(res.status, value).toBe(200);
        const first = JSON.parse(res.text.split('\n')[0]!);
        expect(first.type, `watch=${value} starts a watch`).toBe('ADDED');
      }),
    );
    for (const value of ['0', 'false', 'False', 'FALSE']) {
      const res = await vf.call('GET', `${cms()}?watch=${value}`);
      expect(res.body.kind, `watch=${value} lists`).toBe('ConfigMapList');
    }
  });

  it('reads integers as Go strconv.ParseInt does, and refuses anything else with a 400 naming the parameter', async () => {
    const one = await vf.call('GET', `${cms()}?limit=%2B1`);
    expect(one.status).toBe(200);
    expect(one.body.items).toHaveLength(1);
    expect(one.body.metadata.continue).toBeTruthy();
    expect((await vf.call('GET', `${cms()}?limit=0`)).body.metadata.continue).toBeUndefined();
    for (const [query, why] of [
      ['limit=abc', 'invalid syntax'],
      ['limit=1.5', 'invalid syntax'],
      ['limit=1e3', 'invalid syntax'],
      ['limit=0x10', 'invalid syntax'],
      ['limit=99999999999999999999', 'value out of range'],
      ['limit=-1', 'must be greater than or equal to 0'],
      ['watch=1&timeoutSeconds=soon', 'invalid syntax'],
      ['watch=1&timeoutSeconds=-5', 'must be greater than or equal to 0'],
    ]) {
      const res = await vf.call('GET', `${cms()}?${query}`);
      expect(res.status, query).toBe(400);
      const name = query.includes('timeoutSeconds') ? 'timeoutSeconds' : 'limit';
      expect(res.body.message, query).toContain(`query parameter "${name}"`);
      expect(res.body.message, query).toContain(why);
    }
    const grace = await vf.call('DELETE', `${cms('hard', 'bomb')}?gracePeriodSeconds=later`);
    expect(grace.status).toBe(400);
    expect(grace.body.message).toContain('"gracePeriodSeconds"');
  });
});

describe('request lines and headers', () => {
  it('answers 414 to a request target over the limit and 431 to headers over the limit', async () => {
    const longUrl = await vf.call('GET', `${cms()}?labelSelector=a%3D${'x'.repeat(vf.server.limits.maxUrlBytes)}`);
    expect(longUrl.status).toBe(414);
    expect(longUrl.body).toMatchObject({ kind: 'Status', code: 414 });
    const big = await rawExchange(vf.url, vf.caCert, `GET /api HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(vf.server.limits.maxHeaderBytes + 1)}\r\n\r\n`);
    const answer = parseRawResponse(await big.closed());
    expect(answer.status).toBe(431);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', code: 431 });
    const garbage = await rawExchange(vf.url, vf.caCert, 'NOT HTTP AT ALL\r\n\r\n');
    expect(parseRawResponse(await garbage.closed()).status).toBe(400);
    expect((await vf.call('GET', '/readyz', undefined, { authorization: '' })).status).toBe(200);
  });
});

describe('per-user limits and slow clients', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ limits: { maxInflightPerUser: 2, maxWatchesPerUser: 2, headersTimeoutMs: 500, requestTimeoutMs: 5000 } });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  it('answers 429 with Retry-After to a watch past the per-user limit, and takes one again once one ends', async () => {
    const path = '/api/v1/namespaces/default/configmaps?watch=1';
    const held = [await openWatch(limited, path), await openWatch(limited, path)];
    for (const w of held) expect(w.status).toBe(200);
    const third = await openWatch(limited, path);
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('1');
    expect(third.body).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429, details: { retryAfterSeconds: 1 } });
    // Another user is not held back by this one.
    const other = await limited.call('GET', '/apis/virtflow.io/v1alpha1/virtualmachines?watch=1&timeoutSeconds=1', undefined, {
      authorization: `Bearer ${limited.statusToken}`,
    });
    expect(other.status).toBe(200);
    await held[0]!.close();
    let again: Awaited<ReturnType<typeof openWatch>> | undefined;
    await waitUntil(async () => {
      again = await openWatch(limited, path);
      if (again.status === 200) return true;
      return false;
    }, 'a watch to be taken once one was closed');
    await again!.close();
    await held[1]!.close();
  });

  it('answers 429 to a request past the per-user in-flight limit', async () => {
    // Two creates whose bodies have not arrived are in flight until they do.
    const head = `POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${limited.token}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{`;
    const slow = [await rawExchange(limited.url, limited.caCert, head), await rawExchange(limited.url, limited.caCert, head)];
    await waitUntil(() => limited.server.limiter.held('admin').inflight === 2, 'two requests in flight');
    const refused = await limited.call('GET', '/api/v1/namespaces/default/configmaps');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body.message).toBe('Too many requests, please try again later.');
    for (const s of slow) s.write(`${' '.repeat(199)}`);
    for (const s of slow) await waitUntil(() => s.status() !== undefined, 'the slow request to be answered');
    await waitUntil(() => limited.server.limiter.held('admin').inflight === 0, 'the requests to end');
    expect((await limited.call('GET', '/api/v1/namespaces/default/configmaps')).status).toBe(200);
    for (const s of slow) s.destroy();
  });

  it('counts the operations console\'s requests against the same per-user in-flight limit', async () => {
    // Two console creates whose bodies have not arrived hold both of admin's places.
    const head = `POST /api/k8s/clusters HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${limited.token}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{`;
    const slow = [await rawExchange(limited.url, limited.caCert, head), await rawExchange(limited.url, limited.caCert, head)];
    await waitUntil(() => limited.server.limiter.held('admin').inflight === 2, 'two console requests in flight');
    // The Kubernetes API is refused for them, and the console answers in its own envelope.
    expect((await limited.call('GET', '/api/v1/namespaces/default/configmaps')).status).toBe(429);
    const refused = await limited.call('GET', '/api/k8s/clusters');
    expect(refused.status, refused.text).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toMatchObject({ success: false, error_code: 'TOO_MANY_REQUESTS', details: 'TooManyRequests' });
    expect(refused.body.suggestions[0]).toContain('wait 1 s');
    for (const s of slow) s.write(`${' '.repeat(199)}`);
    for (const s of slow) await waitUntil(() => s.status() !== undefined, 'the slow console request to be answered');
    await waitUntil(() => limited.server.limiter.held('admin').inflight === 0, 'the console requests to end');
    expect((await limited.call('GET', '/api/k8s/clusters')).status).toBe(200);
    for (const s of slow) s.destroy();
  });

  it('answers 408 and closes a connection whose headers do not arrive in time (slowloris)', async () => {
    const slow = await rawExchange(limited.url, limited.caCert, 'GET /api HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    const answer = parseRawResponse(await slow.closed(10_000));
    expect(answer.status).toBe(408);
    expect((await limited.call('GET', '/readyz', undefined, { authorization: '' })).status).toBe(200);
  });
});

/** A TCP proxy to PostgreSQL that can be cut and restored, standing in for a lost database. */
async function databaseProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  let listening = false;
  const open = async () => {
    if (listening) return;
    listening = true;
    server = net.createServer((client) => {
      // The run's PostgreSQL listens on a Unix socket (its directory is the URL's host).
      const host = decodeURIComponent(target.hostname);
      const port = Number(target.port || 5432);
      const upstream = host.startsWith('/') ? net.connect({ path: `${host}/.s.PGSQL.${port}` }) : net.connect(port, host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  };
  await open();
  return {
    url: () => {
      const url = new URL(target);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    cut: async () => {
      listening = false;
      const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    restore: open,
  };
}

describe('a lost database', () => {
  it('makes /readyz and the API answer 503 without the driver message, and both recover with it', async () => {
    const proxy = await databaseProxy(new URL(await createTestDatabase()));
    const lonely = await startTestServer({ databaseUrl: proxy.url() });
    try {
      expect((await lonely.call('POST', '/api/v1/namespaces/default/configmaps', configMap('before'))).status).toBe(201);
      await proxy.cut();
      await waitUntil(async () => (await lonely.call('GET', '/readyz', undefined, { authorization: '' })).status === 503, '/readyz to report the database');
      for (const [method, path, body] of [
        ['GET', '/api/v1/namespaces/default/configmaps/before', undefined],
        ['GET', '/api/v1/namespaces/default/configmaps', undefined],
        ['POST', '/api/v1/namespaces/default/configmaps', configMap('during')],
      ] as const) {
        const res = await lonely.call(method, path, body);
        expect(res.status, `${method} ${path}: ${res.text}`).toBe(503);
        expect(res.body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503, message: 'the database is unavailable; please try again later' });
        expect(res.headers['retry-after']).toBe('1');
        expect(res.text).not.toMatch(/ECONN|127\.0\.0\.1|terminated|postgres/i);
      }
      await proxy.restore();
      await waitUntil(async () => (await lonely.call('GET', '/readyz', undefined, { authorization: '' })).status === 200, '/readyz to recover', 30_000);
      await waitUntil(async () => (await lonely.call('GET', '/api/v1/namespaces/default/configmaps/before')).status === 200, 'reads to recover', 30_000);
      expect((await lonely.call('POST', '/api/v1/namespaces/default/configmaps', configMap('after'))).status).toBe(201);
    } finally {
      await proxy.restore();
      await lonely.stop();
      await proxy.cut();
    }
  });
});

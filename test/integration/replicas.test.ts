// Several API servers over one database, and restarts: a change written through one reaches
// watchers of the other at once; a watch resumed at revision N after a restart delivers every
// later change exactly once, in order; no resourceVersion is reused or skipped in a way a
// watcher can see, also with writes still in flight or rolled back.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWatch, type WatchEvent, type WatchStream } from '../support/api.js';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';

let databaseUrl: string;
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  a = await startTestServer({ databaseUrl });
  b = await startTestServer({ databaseUrl });
  for (const ns of ['r1', 'r2', 'r3', 'r4', 'r5']) {
    const res = await a.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
});

const cms = (ns: string, name = '') => `/api/v1/namespaces/${ns}/configmaps${name ? `/${name}` : ''}`;
const MERGE = { 'content-type': 'application/merge-patch+json' };
const rvOf = (e: WatchEvent) => Number(e.object.metadata.resourceVersion);

function cm(name: string, data: Record<string, string> = {}) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
}

function expectExactlyInOrder(watch: WatchStream, revisions: number[]) {
  const seen = watch.events.filter((e) => e.type !== 'BOOKMARK').map(rvOf);
  expect(seen).toEqual([...revisions].sort((x, y) => x - y));
}

describe('two servers over one database', () => {
  it('accept each other\'s ServiceAccount tokens, and a deletion through one revokes them on both', async () => {
    expect((await a.call('POST', '/api/v1/namespaces/r5/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' } })).status).toBe(201);
    const issued = await a.call('POST', '/api/v1/namespaces/r5/serviceaccounts/robot/token', { spec: {} });
    expect(issued.status).toBe(201);
    const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };
    const whoami = (server: TestServer) =>
      server.call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', review, { authorization: `Bearer ${issued.body.status.token}` });
    let onB = await whoami(b);
    for (let i = 0; onB.status === 401 && i < 100; i++) {
      // b learns of the ServiceAccount through the change feed.
      await b.store.syncCache();
      onB = await whoami(b);
    }
    expect(onB.body.status.userInfo.username).toBe('system:serviceaccount:r5:robot');
    expect((await a.call('DELETE', '/api/v1/namespaces/r5/serviceaccounts/robot')).status).toBe(200);
    await b.store.syncCache();
    expect((await whoami(b)).status).toBe(401);
  });

  it('serve the same objects, tokens and CRDs', async () => {
    const created = await a.call('POST', cms('r1'), cm('shared'));
    expect(created.status).toBe(201);
    const got = await b.call('GET', cms('r1', 'shared'));
    expect(got.status).toBe(200);
    expect(got.body.metadata.uid).toBe(created.body.metadata.uid);
    // b's admin token is a's as well: the tokens live in the database.
    expect(b.token).not.toBe('');
    const conflict = await b.call('PUT', cms('r1', 'shared'), { ...created.body, data: { x: '1' } });
    expect(conflict.status).toBe(200);
    const stale = await a.call('PUT', cms('r1', 'shared'), { ...created.body, data: { x: '2' } });
    expect(stale.status).toBe(409);
  });

  it('deliver a change written through one to watchers of the other at once', async () => {
    const start = await b.call('GET', cms('r2'));
    const watch = await openWatch(b, `${cms('r2')}?watch=true&resourceVersion=${start.body.metadata.resourceVersion}`);
    const latencies: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = Date.now();
      const res = await a.call('POST', cms('r2'), cm(`fast-${i}`));
      expect(res.status).toBe(201);
      await watch.waitFor((e) => e.object.metadata.name === `fast-${i}`, `fast-${i} on the other server`);
      latencies.push(Date.now() - t0);
    }
    latencies.sort((x, y) => x - y);
    // NOTIFY wakes the other server; its fallback poll is a second.
    expect(latencies[Math.floor(latencies.length / 2)]!).toBeLessThan(250);
    expect(latencies.at(-1)!).toBeLessThan(900);
    await watch.close();
  });

  it('keep strict order under concurrent writers on both, rolled-back writes included', async () => {
    const start = await a.call('GET', cms('r3'));
    const from = start.body.metadata.resourceVersion;
    const watchA = await openWatch(a, `${cms('r3')}?watch=true&resourceVersion=${from}`);
    const watchB = await openWatch(b, `${cms('r3')}?watch=true&resourceVersion=${from}`);
    const written: number[] = [];
    const writer = async (server: TestServer, prefix: string) => {
      for (let i = 0; i < 25; i++) {
        const res = await server.call('POST', cms('r3'), cm(`${prefix}-${i}`));
        expect(res.status).toBe(201);
        written.push(Number(res.body.metadata.resourceVersion));
        // A create that clashes rolls back after taking a revision: a hole in the sequence.
        const clash = await server.call('POST', cms('r3'), cm(`${prefix}-${i}`));
        expect(clash.status).toBe(409);
        const patched = await server.call('PATCH', cms('r3', `${prefix}-${i}`), { data: { n: String(i) } }, MERGE);
        expect(patched.status).toBe(200);
        written.push(Number(patched.body.metadata.resourceVersion));
      }
    };
    await Promise.all([writer(a, 'a1'), writer(a, 'a2'), writer(b, 'b1'), writer(b, 'b2')]);
    expect(new Set(written).size).toBe(written.length);
    await watchA.waitForCount(written.length);
    await watchB.waitForCount(written.length);
    expectExactlyInOrder(watchA, written);
    expectExactlyInOrder(watchB, written);
    // Both lists agree with what the watchers built.
    const listA = await a.call('GET', cms('r3'));
    const listB = await b.call('GET', cms('r3'));
    expect(listA.body.items).toEqual(listB.body.items);
    expect(listA.body.items).toHaveLength(100);
    await Promise.all([watchA.close(), watchB.close()]);
  });

  it('wait for a write still in flight instead of skipping its revision, and skip one rolled back', async () => {
    const start = await a.call('GET', cms('r4'));
    const watch = await openWatch(b, `${cms('r4')}?watch=true&resourceVersion=${start.body.metadata.resourceVersion}`);
    const slow = new pg.Client({ connectionString: databaseUrl });
    const doomed = new pg.Client({ connectionString: databaseUrl });
    await slow.connect();
    await doomed.connect();
    try {
      // Two writers take revisions, as the store's write path does, and hold them.
      await slow.query('BEGIN');
      const held = Number((await slow.query(`SELECT s.id, pg_advisory_xact_lock(s.id) FROM (SELECT nextval('revision_seq') AS id) s`)).rows[0].id);
      await doomed.query('BEGIN');
      const lost = Number((await doomed.query(`SELECT s.id, pg_advisory_xact_lock(s.id) FROM (SELECT nextval('revision_seq') AS id) s`)).rows[0].id);
      expect(lost).toBeGreaterThan(held);
      // Later writes commit meanwhile, through both servers.
      const later: number[] = [];
      for (const [server, name] of [[a, 'after-1'], [b, 'after-2']] as const) {
        const res = await server.call('POST', cms('r4'), cm(name));
        expect(res.status).toBe(201);
        later.push(Number(res.body.metadata.resourceVersion));
      }
      const value = JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'slow', namespace: 'r4', uid: '11111111-1111-1111-1111-111111111111', creationTimestamp: '2026-01-01T00:00:00Z', resourceVersion: String(held) },
      });
      await slow.query(
        `INSERT INTO objects (key, resource, namespace, name, revision, create_revision, value) VALUES ('/configmaps/r4/slow', '/configmaps', 'r4', 'slow', $1, $1, $2)`,
        [held, value],
      );
      await slow.query(`INSERT INTO changes (id, key, resource, namespace, name, type, value) VALUES ($1, '/configmaps/r4/slow', '/configmaps', 'r4', 'slow', 'ADDED', $2)`, [held, value]);
      await doomed.query('ROLLBACK');
      await slow.query('COMMIT');
      await slow.query(`SELECT pg_notify('virtflow_changes', $1::text)`, [String(held)]);
      await watch.waitForCount(3);
      expect(watch.events.map((e) => e.object.metadata.name)).toEqual(['slow', 'after-1', 'after-2']);
      expectExactlyInOrder(watch, [held, ...later]);
      expect((await a.call('GET', cms('r4', 'slow'))).status).toBe(200);
    } finally {
      await slow.end();
      await doomed.end();
      await watch.close();
    }
  });

  it('resume a watch at revision N after a restart with every later change exactly once, in order', async () => {
    const first = await a.call('POST', cms('r5'), cm('before', { v: '0' }));
    const resumeAt = Number(first.body.metadata.resourceVersion);
    const expected: number[] = [];
    const record = (res: { status: number; body: { metadata: { resourceVersion: string } } }) => {
      expect(res.status).toBeLessThan(300);
      expected.push(Number(res.body.metadata.resourceVersion));
    };
    record(await a.call('PATCH', cms('r5', 'before'), { data: { v: '1' } }, MERGE));
    record(await b.call('POST', cms('r5'), cm('during-a')));
    await a.stop();
    // Written while server a is down.
    record(await b.call('POST', cms('r5'), cm('while-down')));
    record(await b.call('PATCH', cms('r5', 'before'), { data: { v: '2' } }, MERGE));
    const del = await b.call('DELETE', cms('r5', 'during-a'));
    expect(del.status).toBe(200);
    const restarted = await startTestServer({ databaseUrl });
    a = restarted;
    const watch = await openWatch(a, `${cms('r5')}?watch=true&resourceVersion=${resumeAt}`);
    // The delete's revision is the one the DELETED event carries.
    const deleted = await watch.waitFor((e) => e.type === 'DELETED', 'the delete made while down');
    expected.push(rvOf(deleted));
    record(await a.call('POST', cms('r5'), cm('after-restart')));
    await watch.waitForCount(expected.length);
    expectExactlyInOrder(watch, expected);
    expect(watch.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
      'MODIFIED before',
      'ADDED during-a',
      'ADDED while-down',
      'MODIFIED before',
      'DELETED during-a',
      'ADDED after-restart',
    ]);
    // A label-selected watch resumed after the restart knows what changed before it too.
    const list = await a.call('GET', cms('r5'));
    expect(list.body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['after-restart', 'before', 'while-down']);
    const exact = await a.call('GET', `${cms('r5')}?resourceVersion=${resumeAt}&resourceVersionMatch=Exact`);
    expect(exact.status).toBe(200);
    expect(exact.body.items.map((i: { metadata: { name: string }; data: { v: string } }) => `${i.metadata.name}=${i.data.v}`)).toEqual(['before=0']);
    await watch.close();
  });

  it('write on the stored object when the writing server\'s cache is behind: no lost update, no false conflict', async () => {
    const created = await b.call('POST', cms('r3'), cm('behind', { v: '0' }));
    expect(created.status).toBe(201);
    await b.store.syncCache();
    // b's cache stops taking changes, as it would while its feed is slow to hear of them.
    const held: Parameters<typeof b.store.cache.apply>[0][] = [];
    const apply = b.store.cache.apply.bind(b.store.cache);
    b.store.cache.apply = (change) => void held.push(change);
    try {
      const newer = await a.call('PATCH', cms('r3', 'behind'), { data: { v: '1', fromA: 'yes' } }, MERGE);
      expect(newer.status).toBe(200);
      // A PUT with the version a returned: b must not refuse it for its cache's older one.
      const put = await b.call('PUT', cms('r3', 'behind'), { ...newer.body, data: { ...newer.body.data, v: '2' } });
      expect(put.status).toBe(200);
      expect(put.body.data).toEqual({ v: '2', fromA: 'yes' });
      // A patch through b applies to what is stored, not to its cache's copy.
      const patched = await b.call('PATCH', cms('r3', 'behind'), { data: { fromB: 'yes' } }, MERGE);
      expect(patched.status).toBe(200);
      expect(patched.body.data).toEqual({ v: '2', fromA: 'yes', fromB: 'yes' });
      // A patch that the cache's copy (v: 0) would show as no change is still made.
      const again = await a.call('PATCH', cms('r3', 'behind'), { data: { v: '3' } }, MERGE);
      const undo = await b.call('PATCH', cms('r3', 'behind'), { data: { v: '0' } }, MERGE);
      expect(undo.status).toBe(200);
      expect(undo.body.data.v).toBe('0');
      expect(Number(undo.body.metadata.resourceVersion)).toBeGreaterThan(Number(again.body.metadata.resourceVersion));
      // A stale version is refused as ever, and a delete's precondition is checked on the stored object.
      expect((await b.call('PUT', cms('r3', 'behind'), created.body)).status).toBe(409);
      const gone = await b.call('DELETE', cms('r3', 'behind'), { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: undo.body.metadata.resourceVersion } });
      expect(gone.status).toBe(200);
    } finally {
      b.store.cache.apply = apply;
      for (const change of held) apply(change);
    }
    await b.store.syncCache();
    expect((await b.call('GET', cms('r3', 'behind'))).status).toBe(404);
  });

  it('never hands out a resourceVersion twice, across both servers', async () => {
    const rows = await a.db.query<{ n: number; distinct: number }>('SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct FROM changes');
    expect(rows[0]!.n).toBe(rows[0]!.distinct);
    const objects = await a.db.query<{ value: string; revision: string }>('SELECT value, revision FROM objects');
    for (const row of objects) expect(JSON.parse(row.value).metadata.resourceVersion).toBe(row.revision);
  });
});

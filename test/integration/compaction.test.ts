// Compaction: the change log stays bounded, runs on its own, and watches, exact lists and
// continue tokens from a compacted revision get 410 Gone (reason Expired).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWatch } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

const RETAIN = 10;
let vf: TestServer;
beforeAll(async () => {
  vf = await startTestServer({ store: { retainRevisions: RETAIN, compactIntervalMs: 50 } });
});
afterAll(async () => {
  await vf?.stop();
});

const cms = (name = '') => `/api/v1/namespaces/default/configmaps${name ? `/${name}` : ''}`;

async function compactRevision(): Promise<number> {
  const rows = await vf.db.query<{ value: string }>("SELECT value FROM store_settings WHERE name = 'compact_revision'");
  return Number(rows[0]!.value);
}

async function logRows(): Promise<{ n: number; min: number }> {
  const rows = await vf.db.query<{ n: number; min: string | null }>('SELECT count(*)::int AS n, min(id) AS min FROM changes');
  return { n: rows[0]!.n, min: Number(rows[0]!.min ?? 0) };
}

describe('compaction', () => {
  it('runs periodically, keeps the log bounded, and expires what it removed', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await vf.call('POST', cms(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}` } })).status).toBe(201);
    }
    const firstPage = await vf.call('GET', `${cms()}?limit=2`);
    const token = firstPage.body.metadata.continue as string;
    expect(token).toBeTruthy();
    const early = Number(firstPage.body.metadata.resourceVersion);

    let last = 0;
    for (let i = 0; i < 60; i++) {
      const res = await vf.call('PATCH', cms('c0'), { data: { i: String(i) } }, { 'content-type': 'application/merge-patch+json' });
      expect(res.status).toBe(200);
      last = Number(res.body.metadata.resourceVersion);
    }
    await waitUntil(async () => (await compactRevision()) >= last - RETAIN, 'the log compacted up to the retained window');
    const { n, min } = await logRows();
    expect(n).toBeLessThanOrEqual(RETAIN);
    expect(min).toBeGreaterThan(early);

    // A watch from a compacted revision: 200, then one ERROR event carrying 410 Expired.
    const old = await openWatch(vf, `${cms()}?watch=true&resourceVersion=${early}`);
    expect(old.status).toBe(200);
    await old.ended;
    expect(old.events).toHaveLength(1);
    expect(old.events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 } });
    expect(old.events[0]!.object.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);

    const exact = await vf.call('GET', `${cms()}?resourceVersion=${early}&resourceVersionMatch=Exact`);
    expect(exact.status).toBe(410);
    expect(exact.body).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
    const next = await vf.call('GET', `${cms()}?limit=2&continue=${encodeURIComponent(token)}`);
    expect(next.status).toBe(410);
    expect(next.body.reason).toBe('Expired');

    // A watch from inside the retained window still gets every later change.
    const recent = await openWatch(vf, `${cms()}?watch=true&resourceVersion=${last - 2}`);
    await recent.waitForCount(2);
    expect(recent.events.map((e) => e.object.data.i)).toEqual(['58', '59']);
    await recent.close();
    await old.close();
  });

  it('keeps the log bounded under continued writes', async () => {
    let last = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 30; i++) {
        const res = await vf.call('PATCH', cms('c1'), { data: { r: `${round}-${i}` } }, { 'content-type': 'application/merge-patch+json' });
        last = Number(res.body.metadata.resourceVersion);
      }
      await waitUntil(async () => (await compactRevision()) >= last - RETAIN, `compaction after round ${round}`);
      expect((await logRows()).n).toBeLessThanOrEqual(RETAIN);
    }
  });
});

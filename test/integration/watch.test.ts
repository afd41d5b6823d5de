// Watch: from a resourceVersion every later change exactly once and in order, initial events,
// selectors, bookmarks, timeoutSeconds, sendInitialEvents, Table events, and refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrd, openWatch, TEST_GROUP, widget, widgetCrd, widgets, type WatchEvent } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

let vf: TestServer;
beforeAll(async () => {
  vf = await startTestServer({ bookmarkIntervalMs: 150 });
  await installCrd(vf, widgetCrd());
  for (const ns of ['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8']) {
    const res = await vf.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => {
  await vf?.stop();
});

const cms = (ns: string, name = '') => `/api/v1/namespaces/${ns}/configmaps${name ? `/${name}` : ''}`;
const MERGE = { 'content-type': 'application/merge-patch+json' };
const summary = (events: WatchEvent[]) =>
  events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${e.object.metadata.name}${e.object.data?.v ? `=${e.object.data.v}` : ''}`);

async function cm(ns: string, name: string, v?: string, labels?: Record<string, string>) {
  const res = await vf.call('POST', cms(ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, ...(v ? { data: { v } } : {}) });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

function expectStrictlyIncreasing(events: WatchEvent[]) {
  const revisions = events.filter((e) => e.type !== 'BOOKMARK').map((e) => Number(e.object.metadata.resourceVersion));
  for (let i = 1; i < revisions.length; i++) expect(revisions[i]!).toBeGreaterThan(revisions[i - 1]!);
}

describe('watch', () => {
  it('from a resourceVersion delivers every later change exactly once, in order', async () => {
    const a = await cm('w1', 'a', '1');
    const from = a.metadata.resourceVersion;
    await cm('w1', 'b', '1');
    await vf.call('PATCH', cms('w1', 'a'), { data: { v: '2' } }, MERGE);
    await vf.call('DELETE', cms('w1', 'b'));
    const watch = await openWatch(vf, `${cms('w1')}?watch=true&resourceVersion=${from}`);
    expect(watch.status).toBe(200);
    expect(watch.headers['content-type']).toMatch(/^application\/json/);
    await watch.waitForCount(3);
    // Live changes follow the history without a gap or a repeat.
    await cm('w1', 'c', '1');
    await vf.call('PATCH', cms('w1', 'c'), { data: { v: '2' } }, MERGE);
    await watch.waitForCount(5);
    expect(summary(watch.events)).toEqual(['ADDED b=1', 'MODIFIED a=2', 'DELETED b=1', 'ADDED c=1', 'MODIFIED c=2']);
    expectStrictlyIncreasing(watch.events);
    await watch.close();
  });

  it('without a resourceVersion sends the current objects as ADDED, then changes', async () => {
    await cm('w2', 'x', '1');
    await cm('w2', 'y', '1');
    const watch = await openWatch(vf, `${cms('w2')}?watch=1`);
    await watch.waitForCount(2);
    await vf.call('PATCH', cms('w2', 'x'), { data: { v: '2' } }, MERGE);
    await watch.waitForCount(3);
    expect(summary(watch.events)).toEqual(['ADDED x=1', 'ADDED y=1', 'MODIFIED x=2']);
    // resourceVersion=0 starts from any state, also with initial events.
    const zero = await openWatch(vf, `${cms('w2')}?watch=true&resourceVersion=0`);
    await zero.waitForCount(2);
    expect(summary(zero.events)).toEqual(['ADDED x=2', 'ADDED y=1']);
    await Promise.all([watch.close(), zero.close()]);
  });

  it('with a label selector turns objects entering and leaving the selection into ADDED and DELETED', async () => {
    await cm('w3', 'sel', '1', { app: 'other' });
    const watch = await openWatch(vf, `${cms('w3')}?watch=true&labelSelector=app%3Dweb`);
    expect(watch.status).toBe(200);
    await vf.call('PATCH', cms('w3', 'sel'), { metadata: { labels: { app: 'web' } } }, MERGE);
    await vf.call('PATCH', cms('w3', 'sel'), { data: { v: '2' } }, MERGE);
    await vf.call('PATCH', cms('w3', 'sel'), { metadata: { labels: { app: 'db' } } }, MERGE);
    await vf.call('PATCH', cms('w3', 'sel'), { data: { v: '3' } }, MERGE);
    await cm('w3', 'web2', '1', { app: 'web' });
    await watch.waitForCount(4);
    expect(summary(watch.events)).toEqual(['ADDED sel=1', 'MODIFIED sel=2', 'DELETED sel=2', 'ADDED web2=1']);
    await watch.close();
    const bad = await openWatch(vf, `${cms('w3')}?watch=true&labelSelector=app%20in%20web`);
    expect(bad.status).toBe(400);
    await bad.close();
  });

  it('watches one object by metadata.name, and only its namespace', async () => {
    await cm('w4', 'one', '1');
    await cm('w4', 'two', '1');
    await cm('w5', 'one', '1');
    const watch = await openWatch(vf, `${cms('w4')}?watch=true&fieldSelector=metadata.name%3Done`);
    await watch.waitForCount(1);
    await vf.call('PATCH', cms('w4', 'two'), { data: { v: '2' } }, MERGE);
    await vf.call('PATCH', cms('w5', 'one'), { data: { v: '2' } }, MERGE);
    await vf.call('PATCH', cms('w4', 'one'), { data: { v: '2' } }, MERGE);
    await watch.waitForCount(2);
    expect(summary(watch.events)).toEqual(['ADDED one=1', 'MODIFIED one=2']);
    expect(watch.events.every((e) => e.object.metadata.namespace === 'w4')).toBe(true);
    await watch.close();
  });

  it('sends bookmarks with the current resourceVersion when allowWatchBookmarks is set', async () => {
    const created = await cm('w6', 'bm', '1');
    const watch = await openWatch(vf, `${cms('w6')}?watch=true&allowWatchBookmarks=true&resourceVersion=${created.metadata.resourceVersion}`);
    const bookmark = await watch.waitFor((e) => e.type === 'BOOKMARK', 'a bookmark');
    expect(bookmark.object).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1' });
    expect(Number(bookmark.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(created.metadata.resourceVersion));
    await vf.call('PATCH', cms('w6', 'bm'), { data: { v: '2' } }, MERGE);
    const modified = await watch.waitFor((e) => e.type === 'MODIFIED', 'the change');
    await waitUntil(
      () => watch.events.some((e) => e.type === 'BOOKMARK' && Number(e.object.metadata.resourceVersion) >= Number(modified.object.metadata.resourceVersion)),
      'a bookmark past the change',
    );
    await watch.close();
    // Without allowWatchBookmarks: none, while a watch that allows them gets several.
    const plain = await openWatch(vf, `${cms('w6')}?watch=true&resourceVersion=${created.metadata.resourceVersion}`);
    const marked = await openWatch(vf, `${cms('w6')}?watch=true&allowWatchBookmarks=true&resourceVersion=${created.metadata.resourceVersion}`);
    await vf.call('PATCH', cms('w6', 'bm'), { data: { v: '3' } }, MERGE);
    await plain.waitFor((e) => e.object?.data?.v === '3', 'v=3');
    await waitUntil(() => marked.events.filter((e) => e.type === 'BOOKMARK').length >= 3, 'three bookmarks on the other watch');
    expect(plain.events.some((e) => e.type === 'BOOKMARK')).toBe(false);
    await Promise.all([plain.close(), marked.close()]);
  });

  it('ends the stream after timeoutSeconds', async () => {
    const started = Date.now();
    const watch = await openWatch(vf, `${cms('w6')}?watch=true&timeoutSeconds=1`);
    await watch.ended;
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(5000);
  });

  it('sends initial events and the initial-events-end bookmark for sendInitialEvents', async () => {
    await cm('w7', 'i1', '1');
    await cm('w7', 'i2', '1');
    const watch = await openWatch(
      vf,
      `${cms('w7')}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=`,
    );
    expect(watch.status).toBe(200);
    const end = await watch.waitFor((e) => e.type === 'BOOKMARK' && e.object.metadata.annotations?.['k8s.io/initial-events-end'] === 'true', 'initial-events-end');
    const before = watch.events.slice(0, watch.events.indexOf(end));
    expect(summary(before)).toEqual(['ADDED i1=1', 'ADDED i2=1']);
    const listRv = Number(end.object.metadata.resourceVersion);
    expect(listRv).toBeGreaterThanOrEqual(Math.max(...before.map((e) => Number(e.object.metadata.resourceVersion))));
    const added = await cm('w7', 'i3', '1');
    await watch.waitFor((e) => e.type === 'ADDED' && e.object.metadata.name === 'i3', 'i3 added');
    expect(Number(added.metadata.resourceVersion)).toBeGreaterThan(listRv);
    await watch.close();

    const noMatch = await openWatch(vf, `${cms('w7')}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true`);
    expect(noMatch.status).toBe(422);
    expect(noMatch.body).toMatchObject({ reason: 'Invalid', details: { kind: 'ListOptions' } });
    await noMatch.close();
    const matchAlone = await openWatch(vf, `${cms('w7')}?watch=true&resourceVersionMatch=NotOlderThan&resourceVersion=1`);
    expect(matchAlone.status).toBe(422);
    await matchAlone.close();
    const noBookmarks = await openWatch(vf, `${cms('w7')}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan`);
    expect(noBookmarks.status).toBe(422);
    await noBookmarks.close();
  });

  it('from a resourceVersion not reached yet waits for the changes after it', async () => {
    const now = await vf.call('GET', cms('w8'));
    const ahead = Number(now.body.metadata.resourceVersion) + 2;
    const watch = await openWatch(vf, `${cms('w8')}?watch=true&resourceVersion=${ahead}`);
    expect(watch.status).toBe(200);
    const created: number[] = [];
    for (const name of ['f1', 'f2', 'f3', 'f4']) created.push(Number((await cm('w8', name)).metadata.resourceVersion));
    const expected = created.filter((rv) => rv > ahead).length;
    await watch.waitForCount(expected);
    expect(watch.events.every((e) => Number(e.object.metadata.resourceVersion) > ahead)).toBe(true);
    await watch.close();
    const invalid = await openWatch(vf, `${cms('w8')}?watch=true&resourceVersion=x1`);
    expect(invalid.status).toBe(400);
    await invalid.close();
  });

  it('shows every change in the version watched, whichever version stored it', async () => {
    const crd = widgetCrd({ plural: 'twoversions', kind: 'TwoVersion' });
    const stored = crd.spec.versions[0]!;
    crd.spec.versions = [stored, { ...stored, name: 'v2', storage: false }];
    await installCrd(vf, crd);
    const at = (version: string, name = '') => `/apis/${TEST_GROUP}/${version}/namespaces/w8/twoversions${name ? `/${name}` : ''}`;
    const start = await vf.call('GET', at('v1'));
    const rv = start.body.metadata.resourceVersion;
    const inV1 = await openWatch(vf, `${at('v1')}?watch=true&resourceVersion=${rv}`);
    const inV2 = await openWatch(vf, `${at('v2')}?watch=true&resourceVersion=${rv}`);
    // One stored with its apiVersion first, one with it last: the stored text opens differently.
    const first = await vf.call('POST', at('v1'), { apiVersion: `${TEST_GROUP}/v1`, kind: 'TwoVersion', metadata: { name: 'first' }, spec: {} });
    const last = await vf.call('POST', at('v1'), { kind: 'TwoVersion', metadata: { name: 'last' }, spec: {}, apiVersion: `${TEST_GROUP}/v1` });
    expect([first.status, last.status]).toEqual([201, 201]);
    const patched = await vf.call('PATCH', at('v2', 'first'), { spec: { color: 'red' } }, MERGE);
    expect(patched.status, patched.text).toBe(200);
    await inV1.waitForCount(3);
    await inV2.waitForCount(3);
    const shown = (events: WatchEvent[]) => events.map((e) => `${e.type} ${e.object.metadata.name} ${e.object.apiVersion} ${e.object.spec.color}`);
    expect(shown(inV1.events)).toEqual([
      `ADDED first ${TEST_GROUP}/v1 blue`,
      `ADDED last ${TEST_GROUP}/v1 blue`,
      `MODIFIED first ${TEST_GROUP}/v1 red`,
    ]);
    expect(shown(inV2.events)).toEqual([
      `ADDED first ${TEST_GROUP}/v2 blue`,
      `ADDED last ${TEST_GROUP}/v2 blue`,
      `MODIFIED first ${TEST_GROUP}/v2 red`,
    ]);
    await inV1.close();
    await inV2.close();
  });

  it('streams Table rows for kubectl get -w, with column definitions only first', async () => {
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    const created = await vf.call('POST', widgets(), widget('tw-1', { color: 'red', replicas: 1 }));
    expect(created.status).toBe(201);
    const watch = await openWatch(vf, `${widgets()}?watch=true&fieldSelector=metadata.name%3Dtw-1`, { accept });
    expect(watch.headers['content-type']).toMatch(/as=Table/);
    await watch.waitForCount(1);
    await vf.call('PATCH', widgets('default', 'tw-1'), { spec: { color: 'green' } }, MERGE);
    await watch.waitForCount(2);
    const [first, second] = watch.events as [WatchEvent, WatchEvent];
    expect(first.object.kind).toBe('Table');
    expect(first.object.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(['Name', 'Color', 'Replicas', 'Phase']);
    expect(first.object.rows[0].cells.slice(0, 3)).toEqual(['tw-1', 'red', 1]);
    expect(second.type).toBe('MODIFIED');
    expect(second.object.columnDefinitions ?? []).toEqual([]);
    expect(second.object.rows[0].cells[1]).toBe('green');
    await watch.close();
  });

  it('keeps many concurrent watchers in step with a burst of writes', async () => {
    const first = await cm('w8', 'burst-start');
    const watchers = await Promise.all(
      Array.from({ length: 20 }, () => openWatch(vf, `${cms('w8')}?watch=true&resourceVersion=${first.metadata.resourceVersion}`)),
    );
    const writes = Array.from({ length: 40 }, (_, i) => cm('w8', `burst-${i}`));
    await Promise.all(writes);
    for (const w of watchers) {
      await w.waitForCount(40);
      expect(new Set(w.events.map((e) => e.object.metadata.name)).size).toBe(40);
      expectStrictlyIncreasing(w.events);
    }
    await Promise.all(watchers.map((w) => w.close()));
    // Closed watches are unregistered.
    await waitUntil(async () => {
      const metrics = await vf.call('GET', '/metrics');
      const line = metrics.text.split('\n').find((l) => l.startsWith('apiserver_registered_watchers{') && l.includes('resource="configmaps"'));
      return line !== undefined && line.endsWith(' 0');
    }, 'watchers unregistered');
  });
});

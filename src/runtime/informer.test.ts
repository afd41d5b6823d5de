import net from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/support/server.js';
import type { KubeObject } from '../machinery/object.js';
import type { ObjectClient } from './client.js';
import { Informer, type InformerLifecycle, type InformerOptions } from './informer.js';
import { ConfigMaps, Namespaces } from './resource.js';
import { clientFor, clientVia, TcpProxy } from './test-fixtures.js';
import { FakeClock, waitFor } from './testing.js';

type ConfigMap = KubeObject & { data?: Record<string, string> };

let vf: TestServer;
let client: ObjectClient;
const stops: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  // Bookmarks every 200 ms, so tests can tell a quiet stream from a dead one quickly.
  vf = await startTestServer({ bookmarkIntervalMs: 200 });
  client = clientFor(vf.kubeconfig);
});
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});
afterAll(async () => {
  await vf?.stop();
});

let nsCounter = 0;
async function namespace(): Promise<string> {
  const name = `inf-${++nsCounter}`;
  await client.create(Namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

function configMap(namespace: string, name: string, labels?: Record<string, string>, data?: Record<string, string>): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name, labels }, data };
}

/** Starts an informer for the test and records its events and lifecycle. */
function run(opts: Partial<InformerOptions<ConfigMap>> & { namespace: string }) {
  const informer = new Informer<ConfigMap>({ client, resource: ConfigMaps, ...opts });
  const events: string[] = [];
  const lifecycle: InformerLifecycle[] = [];
  informer.subscribe((e) => events.push(`${e.type} ${e.object.metadata.name}`));
  informer.onLifecycle((e) => lifecycle.push(e));
  const stop = new AbortController();
  const done = informer.start(stop.signal);
  stops.push(async () => {
    stop.abort();
    await done;
  });
  const count = (type: InformerLifecycle['type']) => lifecycle.filter((e) => e.type === type).length;
  return { informer, events, lifecycle, count, stop, done };
}

const names = (objs: KubeObject[]) => objs.map((o) => o.metadata.name).sort();

describe('Informer against the API server', () => {
  it('lists what exists, then delivers adds, updates and deletes and serves them from its cache', async () => {
    const ns = await namespace();
    await client.create(ConfigMaps, configMap(ns, 'a'));
    const registry = new Registry();
    const { informer, events } = run({ namespace: ns, registry, name: 'basic' });
    expect(informer.hasSynced()).toBe(false);
    await informer.waitForSync();
    expect(informer.hasSynced()).toBe(true);
    expect(events).toEqual(['added a']);
    expect(informer.get({ namespace: ns, name: 'a' })?.kind).toBe('ConfigMap');

    await client.create(ConfigMaps, configMap(ns, 'b'));
    await client.patch(ConfigMaps, { namespace: ns, name: 'a' }, 'merge', { data: { x: '1' } });
    await client.delete(ConfigMaps, { namespace: ns, name: 'b' });
    await waitFor(() => events.length === 4, { what: 'three more events' });
    expect(events).toEqual(['added a', 'added b', 'updated a', 'deleted b']);
    expect(informer.get({ namespace: ns, name: 'a' })?.data).toEqual({ x: '1' });
    expect(names(informer.list(ns))).toEqual(['a']);
    const size = await registry.getSingleMetric('virtflow_informer_cached_objects')!.get();
    expect(size.values.find((v) => v.labels.informer === 'basic')?.value).toBe(1);
  });

  it('keeps secondary indexes current as objects change', async () => {
    const ns = await namespace();
    const { informer } = run({ namespace: ns, indexers: { byColor: (o) => (o.metadata.labels?.color ? [o.metadata.labels.color] : []) } });
    await informer.waitForSync();
    await client.create(ConfigMaps, configMap(ns, 'r1', { color: 'red' }));
    await client.create(ConfigMaps, configMap(ns, 'r2', { color: 'red' }));
    await client.create(ConfigMaps, configMap(ns, 'b1', { color: 'blue' }));
    await waitFor(() => informer.list().length === 3);
    expect(names(informer.byIndex('byColor', 'red'))).toEqual(['r1', 'r2']);
    await client.patch(ConfigMaps, { namespace: ns, name: 'r2' }, 'merge', { metadata: { labels: { color: 'blue' } } });
    await waitFor(() => informer.byIndex('byColor', 'blue').length === 2, { what: 'r2 to move to blue' });
    expect(names(informer.byIndex('byColor', 'red'))).toEqual(['r1']);
  });

  it('caches only what its label selector matches, and drops an object that stops matching', async () => {
    const ns = await namespace();
    await client.create(ConfigMaps, configMap(ns, 'mine', { team: 'a' }));
    await client.create(ConfigMaps, configMap(ns, 'theirs', { team: 'b' }));
    const { informer, events } = run({ namespace: ns, labelSelector: 'team=a' });
    await informer.waitForSync();
    expect(names(informer.list())).toEqual(['mine']);
    await client.patch(ConfigMaps, { namespace: ns, name: 'mine' }, 'merge', { metadata: { labels: { team: 'b' } } });
    await waitFor(() => informer.list().length === 0, { what: 'mine to leave the cache' });
    expect(events).toEqual(['added mine', 'deleted mine']);
  });

  it('resumes from the last resourceVersion each time the server ends a watch, without listing again', async () => {
    const ns = await namespace();
    const { informer, events, lifecycle, count } = run({ namespace: ns, watchTimeoutSeconds: () => 1 });
    await informer.waitForSync();
    await waitFor(() => count('closed') >= 1, { what: 'the server to end the first watch' });
    const created = await client.create(ConfigMaps, configMap(ns, 'after-first'));
    await waitFor(() => events.includes('added after-first'));
    await waitFor(() => count('closed') >= 2, { what: 'the server to end the second watch' });
    await client.create(ConfigMaps, configMap(ns, 'after-second'));
    await waitFor(() => events.includes('added after-second'));
    expect(count('listed')).toBe(1);
    const versions = lifecycle.flatMap((e) => (e.type === 'watching' ? [Number(e.resourceVersion)] : []));
    expect(versions.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThanOrEqual(versions[i - 1]!);
    expect(versions.at(-1)).toBeGreaterThanOrEqual(Number(created.metadata.resourceVersion));
  });

  it('reconnects after a broken connection from the last resourceVersion, after a back-off', async () => {
    const ns = await namespace();
    const proxy = await TcpProxy.start(vf.url);
    stops.push(() => proxy.close());
    const { informer, events, lifecycle, count } = run({
      namespace: ns,
      client: clientVia(vf.kubeconfig, proxy.url),
      backoff: { initialMs: 10, maxMs: 20 },
    });
    await informer.waitForSync();
    await waitFor(() => count('connected') === 1, { what: 'the watch to connect' });
    proxy.cut();
    await waitFor(() => count('connected') === 2, { what: 'the watch to reconnect' });
    // An abruptly cut stream is a "Premature close" error: back off, then resume from where it stopped.
    expect(lifecycle.map((e) => e.type)).toEqual(['listed', 'watching', 'connected', 'error', 'watching', 'connected']);
    expect(lifecycle[3]).toMatchObject({ type: 'error', phase: 'watch' });
    const [first, second] = lifecycle.flatMap((e) => (e.type === 'watching' ? [Number(e.resourceVersion)] : []));
    expect(second).toBeGreaterThanOrEqual(first!);
    await client.create(ConfigMaps, configMap(ns, 'after-cut'));
    await waitFor(() => events.includes('added after-cut'));
    expect(count('listed')).toBe(1);
  });

  it('relists on 410 Gone and delivers the adds and deletes it missed while away', async () => {
    const ns = await namespace();
    await client.create(ConfigMaps, configMap(ns, 'stays'));
    await client.create(ConfigMaps, configMap(ns, 'goes'));
    const proxy = await TcpProxy.start(vf.url);
    stops.push(() => proxy.close());
    const { informer, events, lifecycle, count } = run({
      namespace: ns,
      client: clientVia(vf.kubeconfig, proxy.url),
      backoff: { initialMs: 10, maxMs: 20 },
    });
    await informer.waitForSync();
    await waitFor(() => count('connected') === 1, { what: 'the watch to connect' });
    proxy.hold();
    proxy.cut();
    await waitFor(() => count('error') === 1, { what: 'the watch to fail' });
    await client.delete(ConfigMaps, { namespace: ns, name: 'goes' });
    const created = await client.create(ConfigMaps, configMap(ns, 'new'));
    // The server keeps no history before this create: resuming from any older version is 410.
    vf.store.cache.oldestWatchable = Number(created.metadata.resourceVersion);
    proxy.release();
    await waitFor(() => lifecycle.some((e) => e.type === 'listed' && e.reason === 'gone'), { what: 'a relist after 410' });
    expect(count('gone')).toBe(1);
    expect(events).toEqual(['added goes', 'added stays', 'added new', 'deleted goes']);
    expect(names(informer.list())).toEqual(['new', 'stays']);
  });

  it('relists when the stream stays silent longer than the staleness limit', async () => {
    const ns = await namespace();
    const { informer, lifecycle } = run({ namespace: ns, staleAfterMs: 100 });
    await informer.waitForSync();
    await waitFor(() => lifecycle.some((e) => e.type === 'listed' && e.reason === 'stale'), { what: 'a relist after silence' });
    expect(lifecycle.some((e) => e.type === 'stale')).toBe(true);
  });

  it('is kept from going stale by bookmarks', async () => {
    const ns = await namespace();
    const registry = new Registry();
    const { informer, count } = run({ namespace: ns, staleAfterMs: 1000, registry, name: 'quiet' });
    await informer.waitForSync();
    await waitFor(async () => (await bookmarkCount(registry, 'quiet')) >= 8, { what: 'eight bookmarks' });
    expect(count('stale')).toBe(0);
  });

  it('re-delivers every cached object on each resync period', async () => {
    const ns = await namespace();
    await client.create(ConfigMaps, configMap(ns, 'one'));
    await client.create(ConfigMaps, configMap(ns, 'two'));
    const clock = new FakeClock();
    const { informer, events } = run({ namespace: ns, clock, resyncPeriodMs: 60_000 });
    await informer.waitForSync();
    clock.advance(59_999);
    expect(events.filter((e) => e.startsWith('resync'))).toEqual([]);
    clock.advance(1);
    expect(events.filter((e) => e.startsWith('resync')).sort()).toEqual(['resync one', 'resync two']);
    clock.advance(60_000);
    expect(events.filter((e) => e.startsWith('resync'))).toHaveLength(4);
  });

  it('backs off between failed lists with capped, jittered delays on its clock', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const clock = new FakeClock();
    const { informer, lifecycle, stop, done } = run({
      namespace: 'anything',
      client: clientVia(vf.kubeconfig, `https://127.0.0.1:${port}`),
      clock,
      random: () => 0,
      backoff: { initialMs: 1000, maxMs: 4000 },
    });
    const delays = () => lifecycle.flatMap((e) => (e.type === 'error' ? [e.retryInMs] : []));
    for (const expected of [[500], [500, 1000], [500, 1000, 2000], [500, 1000, 2000, 2000]]) {
      await waitFor(() => delays().length === expected.length, { what: `${expected.length} failed lists` });
      expect(delays()).toEqual(expected);
      expect(lifecycle.at(-1)).toMatchObject({ type: 'error', phase: 'list' });
      clock.advance(expected.at(-1)!);
    }
    const synced = informer.waitForSync(stop.signal);
    stop.abort();
    await synced;
    await done;
    expect(informer.hasSynced()).toBe(false);
  });
});

async function bookmarkCount(registry: Registry, informer: string): Promise<number> {
  const metric = await registry.getSingleMetric('virtflow_informer_watch_events_total')!.get();
  return metric.values.find((v) => v.labels.informer === informer && v.labels.type === 'bookmark')?.value ?? 0;
}

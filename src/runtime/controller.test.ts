import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/support/server.js';
import type { KubeObject } from '../machinery/object.js';
import type { ObjectClient } from './client.js';
import { Controller, ControllerBuilder, controllerOwnerKeys, type InformerProvider } from './controller.js';
import { Informer } from './informer.js';
import { keyString, type ObjectKey } from './keys.js';
import { ItemExponentialBackoff } from './rate-limiter.js';
import { ExpectedRetry, reconcilerFn, TerminalError } from './reconciler.js';
import { ConfigMaps, Namespaces, type ResourceType } from './resource.js';
import { clientFor, installWidgets, silentLog, Widgets } from './test-fixtures.js';
import { FakeClock, waitFor } from './testing.js';

let vf: TestServer;
let client: ObjectClient;
beforeAll(async () => {
  vf = await startTestServer();
  client = clientFor(vf.kubeconfig);
  await client.create(Namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ctl' } });
  await installWidgets(client);
});
afterAll(async () => {
  await vf?.stop();
});

async function reconcileTotals(registry: Registry, controller: string): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('controller_runtime_reconcile_total')!.get();
  return Object.fromEntries(metric.values.filter((v) => v.labels.controller === controller).map((v) => [v.labels.result, v.value]));
}

describe('Controller', () => {
  it('retries errors with back-off, leaves terminal errors alone and requeues after the delay asked for', async () => {
    for (const name of ['flaky', 'doomed', 'poll']) {
      await client.create(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'ctl', name } });
    }
    const informer = new Informer({ client, resource: ConfigMaps, namespace: 'ctl' });
    const stopInformer = new AbortController();
    const informerDone = informer.start(stopInformer.signal);
    const attempts: Record<string, number> = { flaky: 0, doomed: 0, poll: 0 };
    const clock = new FakeClock();
    const registry = new Registry();
    const controller = new Controller({
      name: 'outcomes',
      sources: [{ informer, map: (o: KubeObject) => [{ namespace: o.metadata.namespace, name: o.metadata.name! }] }],
      clock,
      registry,
      log: silentLog,
      rateLimiter: new ItemExponentialBackoff({ baseMs: 1000 }),
      reconciler: reconcilerFn(async (_ctx, key) => {
        attempts[key.name] = (attempts[key.name] ?? 0) + 1;
        if (key.name === 'flaky' && attempts.flaky! < 3) throw new Error('not yet');
        if (key.name === 'doomed') throw new TerminalError('can never work');
        if (key.name === 'poll') return { requeueAfterMs: 30_000 };
        return {};
      }),
    });
    const stop = new AbortController();
    const done = controller.start(stop.signal);
    await waitFor(() => attempts.flaky === 1 && attempts.doomed === 1 && attempts.poll === 1, { what: 'first reconciles' });
    await controller.queue.idle();
    clock.advance(1000);
    await waitFor(() => attempts.flaky === 2, { what: 'first retry after 1 s' });
    await controller.queue.idle();
    clock.advance(1999);
    await controller.queue.idle();
    expect(attempts.flaky).toBe(2);
    clock.advance(1);
    await waitFor(() => attempts.flaky === 3, { what: 'second retry after 2 s more' });
    clock.advance(27_000);
    await waitFor(() => attempts.poll === 2, { what: 'the requeue after 30 s' });
    await controller.queue.idle();
    clock.advance(1_000_000);
    await controller.queue.idle();
    expect(attempts.doomed).toBe(1);
    expect(attempts.flaky).toBe(3);
    expect(await reconcileTotals(registry, 'outcomes')).toMatchObject({ error: 2, success: 1, terminal: 1 });
    stop.abort();
    await done;
    stopInformer.abort();
    await informerDone;
  });

  it('logs an expected retry at debug level and any other failure as a warning, retrying both', async () => {
    for (const name of ['catching-up', 'broken']) {
      await client.create(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'ctl', name } });
    }
    const informer = new Informer({ client, resource: ConfigMaps, namespace: 'ctl' });
    const stopInformer = new AbortController();
    const informerDone = informer.start(stopInformer.signal);
    const lines: { level: number; key?: string; msg: string }[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const attempts: Record<string, number> = {};
    const clock = new FakeClock();
    const controller = new Controller({
      name: 'quiet-retries',
      sources: [{ informer, map: (o: KubeObject) => (['catching-up', 'broken'].includes(o.metadata.name!) ? [{ namespace: 'ctl', name: o.metadata.name! }] : []) }],
      clock,
      log,
      rateLimiter: new ItemExponentialBackoff({ baseMs: 1000 }),
      reconciler: reconcilerFn(async (_ctx, key) => {
        attempts[key.name] = (attempts[key.name] ?? 0) + 1;
        if (attempts[key.name] === 1) throw key.name === 'catching-up' ? new ExpectedRetry('the cache is behind') : new Error('out of order');
        return {};
      }),
    });
    const stop = new AbortController();
    const done = controller.start(stop.signal);
    await waitFor(() => attempts['catching-up'] === 1 && attempts.broken === 1, { what: 'first reconciles' });
    await controller.queue.idle();
    clock.advance(1000);
    await waitFor(() => attempts['catching-up'] === 2 && attempts.broken === 2, { what: 'both retried' });
    const failures = lines.filter((l) => l.msg === 'reconcile failed; retrying with back-off').map((l) => [l.key, l.level]);
    expect(failures.sort()).toEqual([['ctl/broken', 40], ['ctl/catching-up', 20]]);
    stop.abort();
    await done;
    stopInformer.abort();
    await informerDone;
  });

  /** Widgets, and the ConfigMaps of `labelSelector` that point at them, cached and started. */
  function startPointerInformers<P extends KubeObject = KubeObject>(labelSelector: string) {
    const widgets = new Informer({ client, resource: Widgets, namespace: 'ctl' });
    const pointers = new Informer<P>({ client, resource: ConfigMaps, namespace: 'ctl', labelSelector });
    const stop = new AbortController();
    const done = Promise.all([widgets.start(stop.signal), pointers.start(stop.signal)]);
    return {
      widgets,
      pointers,
      stopInformers: async () => {
        stop.abort();
        await done;
      },
    };
  }
  /** The informers are given explicitly: the builder must not ask for any. */
  const noProvider: InformerProvider = {
    informer: () => {
      throw new Error('informers are given explicitly');
    },
  };

  it('queues the keys a watched object maps to, for its old and its new state', async () => {
    const { widgets, pointers, stopInformers } = startPointerInformers('pointer=yes');
    const seen: string[] = [];
    const controller = new ControllerBuilder('mapped', noProvider, { log: silentLog })
      .for(widgets)
      .watches(pointers, (cm: KubeObject & { data?: { target?: string } }) => (cm.data?.target ? [{ namespace: 'ctl', name: cm.data.target }] : []))
      .complete(reconcilerFn(async (_ctx, key) => void seen.push(keyString(key))));
    const stop = new AbortController();
    const done = controller.start(stop.signal);
    await waitFor(() => pointers.hasSynced() && widgets.hasSynced());
    await client.create(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'ctl', name: 'ptr', labels: { pointer: 'yes' } }, data: { target: 'w-a' } });
    await waitFor(() => seen.includes('ctl/w-a'), { what: 'the mapped key' });
    await client.patch(ConfigMaps, { namespace: 'ctl', name: 'ptr' }, 'merge', { data: { target: 'w-b' } });
    await waitFor(() => seen.filter((k) => k === 'ctl/w-a').length === 2 && seen.includes('ctl/w-b'), { what: 'old and new targets' });
    expect(seen).not.toContain('ctl/ptr');
    stop.abort();
    await done;
    await stopInformers();
  });
  it('maps only the events that every predicate of a watch accepts, and offers the objects there before the start as a resync', async () => {
    type Pointer = KubeObject & { data?: { target?: string } };
    const create = (name: string, target: string) =>
      client.create(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'ctl', name, labels: { filtered: 'yes' } }, data: { target } });
    await create('before-start', 'w-before');
    const { widgets, pointers, stopInformers } = startPointerInformers<Pointer>('filtered=yes');
    const offeredAtStart: string[] = [];
    const seen: string[] = [];
    const controller = new ControllerBuilder('filtered', noProvider, { log: silentLog })
      .for(widgets)
      .watches(pointers, (cm) => (cm.data?.target ? [{ namespace: 'ctl', name: cm.data.target }] : []), {
        predicates: [
          (e) => {
            if (e.object.metadata.name === 'before-start') offeredAtStart.push(e.type);
            return e.type === 'added' || (e.type === 'updated' && e.previous?.data?.target !== e.object.data?.target);
          },
          (e) => !e.object.metadata.name!.startsWith('ignored-'),
        ],
      })
      .complete(reconcilerFn(async (_ctx, key) => void seen.push(keyString(key))));
    const stop = new AbortController();
    const done = controller.start(stop.signal);
    await waitFor(() => offeredAtStart.length > 0, { what: 'the objects there before the start' });

    await create('filtered-ptr', 'w-a');
    await waitFor(() => seen.includes('ctl/w-a'), { what: 'the key of an accepted event' });
    await controller.queue.idle();
    // Rejected: a change the first predicate ignores, and an object the second one ignores.
    await client.patch(ConfigMaps, { namespace: 'ctl', name: 'filtered-ptr' }, 'merge', { metadata: { labels: { touched: 'yes' } } });
    await create('ignored-1', 'w-ignored');
    // Events come in order: once the key of a later accepted event is reconciled, a key the
    // rejected ones had queued would have been too.
    await create('sentinel', 'w-sentinel');
    await waitFor(() => seen.includes('ctl/w-sentinel'), { what: 'the key of the event after the rejected ones' });
    await controller.queue.idle();
    expect(seen.filter((k) => k === 'ctl/w-a')).toHaveLength(1);
    expect(seen).not.toContain('ctl/w-ignored');
    expect(seen).not.toContain('ctl/w-before');
    expect(offeredAtStart).toEqual(['resync']);

    await client.patch(ConfigMaps, { namespace: 'ctl', name: 'filtered-ptr' }, 'merge', { data: { target: 'w-b' } });
    await waitFor(() => seen.includes('ctl/w-b') && seen.filter((k) => k === 'ctl/w-a').length === 2, { what: 'old and new targets of an accepted update' });
    stop.abort();
    await done;
    await stopInformers();
  });
});

describe('ControllerBuilder', () => {
  const provider: InformerProvider = {
    informer: (resource: ResourceType) => new Informer({ client, resource }) as never,
  };

  it('insists on for() before owns() and complete()', () => {
    expect(() => new ControllerBuilder('x', provider).owns(ConfigMaps)).toThrow(/for\(\) before owns/);
    expect(() => new ControllerBuilder('x', provider).watches(ConfigMaps, () => []).complete(reconcilerFn(async () => {}))).toThrow(/call for\(\)/);
    expect(() => new ControllerBuilder('x', provider).for(Widgets).for(ConfigMaps)).toThrow(/already reconciles/);
  });
});

describe('controllerOwnerKeys', () => {
  const owned = (apiVersion: string, kind: string, controller = true): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: 'ns', name: 'child', ownerReferences: [{ apiVersion, kind, name: 'parent', uid: 'u', controller }] },
  });
  const cases: { name: string; obj: KubeObject; want: ObjectKey[] }[] = [
    { name: 'maps to the controlling owner of the kind in the same namespace', obj: owned('test.virtflow.io/v1', 'Widget'), want: [{ namespace: 'ns', name: 'parent' }] },
    { name: 'ignores the owner version, which may differ from the watched one', obj: owned('test.virtflow.io/v2', 'Widget'), want: [{ namespace: 'ns', name: 'parent' }] },
    { name: 'ignores an owner of the same kind in another group', obj: owned('other.io/v1', 'Widget'), want: [] },
    { name: 'ignores owners that are not the controller', obj: owned('test.virtflow.io/v1', 'Widget', false), want: [] },
  ];
  for (const c of cases) it(c.name, () => expect(controllerOwnerKeys(c.obj, Widgets)).toEqual(c.want));
});

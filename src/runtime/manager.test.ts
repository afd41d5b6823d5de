import net from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/support/server.js';
import type { KubeObject } from '../machinery/object.js';
import { isAlreadyExists, type ObjectClient } from './client.js';
import type { EventRecorder } from './events.js';
import type { Informer } from './informer.js';
import type { Lease } from './leader.js';
import { LeadershipLostError, Manager, type ManagerOptions } from './manager.js';
import { MetricsServer } from './metrics-server.js';
import type { ReconcileContext, Reconciler, Result } from './reconciler.js';
import { reconcilerFn } from './reconciler.js';
import type { ObjectKey } from './keys.js';
import { ConfigMaps, Events, Leases, Namespaces } from './resource.js';
import { updateStatus } from './status.js';
import { clientFor, installWidgets, silentLog, Widgets } from './test-fixtures.js';
import { FakeClock, waitFor } from './testing.js';

type Widget = KubeObject & {
  spec: { size: number };
  status?: { observedGeneration?: number; phase?: string; labelled?: number };
};
type ConfigMap = KubeObject & { data?: Record<string, string> };

let vf: TestServer;
let client: ObjectClient;
beforeAll(async () => {
  vf = await startTestServer();
  client = clientFor(vf.kubeconfig);
  await installWidgets(client);
  for (const name of ['e2e', 'le']) await client.create(Namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
});
afterAll(async () => {
  await vf?.stop();
});

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(vf.kubeconfig);
  return kc;
}

function manager(opts: Partial<ManagerOptions> = {}): Manager {
  return new Manager({ kubeConfig: kubeConfig(), log: silentLog, fieldManager: 'runtime-test', ...opts });
}

/**
 * A tiny controller in the shape real ones take: it reads from caches, makes sure its owned
 * ConfigMap exists, reports in status how many ConfigMaps point at it, and records an Event.
 */
class WidgetReconciler implements Reconciler {
  constructor(
    private readonly widgets: Informer<Widget>,
    private readonly configMaps: Informer<ConfigMap>,
    private readonly client: ObjectClient,
    private readonly events: EventRecorder,
  ) {}

  async reconcile(ctx: ReconcileContext, key: ObjectKey): Promise<Result> {
    const widget = this.widgets.get(key);
    if (!widget) return {}; // deleted: its ConfigMap goes with it through garbage collection
    const name = `${key.name}-config`;
    if (!this.configMaps.get({ namespace: key.namespace, name })) {
      try {
        await this.client.create(ConfigMaps, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            namespace: key.namespace,
            name,
            ownerReferences: [{ apiVersion: widget.apiVersion, kind: widget.kind, name: key.name, uid: widget.metadata.uid!, controller: true }],
          },
          data: { size: String(widget.spec.size) },
        });
        await this.events.normal(widget, 'CreatedConfigMap', `created ConfigMap ${name}`);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err; // the cache had not seen our own create yet
      }
    }
    const labelled = this.configMaps.byIndex('byWidget', key.name).length;
    await updateStatus(
      this.client,
      Widgets,
      widget,
      (d) => void (d.status = { ...d.status, observedGeneration: d.metadata.generation, phase: 'Ready', labelled }),
      { signal: ctx.signal },
    );
    return {};
  }
}

describe('Manager', () => {
  it('runs a controller end to end: owned objects, status, events, watches, metrics and readiness', async () => {
    const mgr = manager();
    const widgets = mgr.informer<Widget>(Widgets, { namespace: 'e2e' });
    const configMaps = mgr.informer<ConfigMap>(ConfigMaps, { namespace: 'e2e' });
    configMaps.addIndexer('byWidget', (cm) => (cm.metadata.labels?.widget ? [cm.metadata.labels.widget] : []));
    mgr
      .controller('widget')
      .for(Widgets, { namespace: 'e2e' })
      .owns(ConfigMaps, { namespace: 'e2e' })
      .watches(ConfigMaps, (cm) => (cm.metadata.labels?.widget ? [{ namespace: cm.metadata.namespace, name: cm.metadata.labels.widget }] : []), { namespace: 'e2e' })
      .withWorkers(2)
      .complete(new WidgetReconciler(widgets, configMaps, mgr.client, mgr.eventRecorder('widget-controller')));
    expect(mgr.informer(ConfigMaps, { namespace: 'e2e' })).toBe(configMaps);
    const metrics = new MetricsServer({ registry: mgr.registry, port: 0, ready: () => mgr.ready() });
    mgr.add(metrics);

    await client.create(Widgets, { apiVersion: 'test.virtflow.io/v1', kind: 'Widget', metadata: { namespace: 'e2e', name: 'w1' }, spec: { size: 3 } });
    const stop = new AbortController();
    const done = mgr.start(stop.signal);
    const get = () => client.get<Widget>(Widgets, { namespace: 'e2e', name: 'w1' });
    await waitFor(async () => (await get()).status?.phase === 'Ready', { what: 'w1 to be Ready' });
    expect((await get()).status).toEqual({ observedGeneration: 1, phase: 'Ready', labelled: 0 });
    const owned = await client.get<ConfigMap>(ConfigMaps, { namespace: 'e2e', name: 'w1-config' });
    expect(owned.data).toEqual({ size: '3' });
    const events = await client.list<KubeObject & { reason: string; message: string }>(Events, { namespace: 'e2e', fieldSelector: 'involvedObject.name=w1' });
    expect(events.items.map((e) => [e.reason, e.message])).toEqual([['CreatedConfigMap', 'created ConfigMap w1-config']]);

    // A spec change is observed, a deleted owned object is put back, a watched one counted.
    await client.patch(Widgets, { namespace: 'e2e', name: 'w1' }, 'merge', { spec: { size: 4 } });
    await waitFor(async () => (await get()).status?.observedGeneration === 2, { what: 'generation 2 observed' });
    await client.delete(ConfigMaps, { namespace: 'e2e', name: 'w1-config' });
    await waitFor(async () => (await client.find(ConfigMaps, { namespace: 'e2e', name: 'w1-config' })) !== undefined, { what: 'w1-config to come back' });
    await client.create(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'e2e', name: 'pointer', labels: { widget: 'w1' } } });
    await waitFor(async () => (await get()).status?.labelled === 1, { what: 'the labelled ConfigMap to be counted' });

    const res = await fetch(`${metrics.url}/metrics`);
    const text = await res.text();
    expect(text).toMatch(/controller_runtime_reconcile_total\{controller="widget",result="success"\} [1-9]/);
    expect(text).toContain('workqueue_depth{name="widget"}');
    expect(text).toMatch(/virtflow_informer_cached_objects\{informer="configmaps@e2e"\} 2/);
    expect((await fetch(`${metrics.url}/readyz`)).status).toBe(200);

    stop.abort();
    await done;
    expect(mgr.ready()).toBe(false);
  });

  it('reconciles only on the leader, and hands over to the other manager when the leader shuts down', async () => {
    const lease = { namespace: 'default', name: 'counter-controllers', leaseDurationMs: 5000, renewDeadlineMs: 3000, retryPeriodMs: 100 };
    const seen: Record<string, string[]> = { a: [], b: [] };
    const build = (identity: 'a' | 'b') => {
      const mgr = manager({ leaderElection: { ...lease, identity } });
      mgr
        .controller('counter')
        .for(ConfigMaps, { namespace: 'le' })
        .complete(reconcilerFn(async (_ctx, key) => void seen[identity]!.push(key.name)));
      return mgr;
    };
    await client.create(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'le', name: 'first' } });
    const a = build('a');
    const stopA = new AbortController();
    const doneA = a.start(stopA.signal);
    await waitFor(() => a.isLeader() && seen.a!.includes('first'), { what: 'a to lead and reconcile' });
    const b = build('b');
    const stopB = new AbortController();
    const doneB = b.start(stopB.signal);
    await waitFor(() => b.observedLeader === 'a', { what: 'b to see a as the leader' });
    await client.create(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'le', name: 'second' } });
    await waitFor(() => seen.a!.includes('second'));
    expect(b.isLeader()).toBe(false);
    expect(seen.b).toEqual([]);

    stopA.abort();
    await doneA;
    const aCount = seen.a!.length;
    await waitFor(() => b.isLeader(), { what: 'b to take over' });
    await waitFor(() => seen.b!.includes('first') && seen.b!.includes('second'), { what: 'b to reconcile everything' });
    expect(seen.a).toHaveLength(aCount);

    // Someone else takes the lease from b: b must stop and say so.
    const held = await client.get<Lease>(Leases, { namespace: 'default', name: lease.name });
    await client.replace<Lease>(Leases, {
      ...held,
      spec: { ...held.spec, holderIdentity: 'intruder', leaseDurationSeconds: 60, renewTime: new Date().toISOString().replace('Z', '000Z') },
    });
    await expect(doneB).rejects.toBeInstanceOf(LeadershipLostError);
    expect(b.isLeader()).toBe(false);
  });

  it('answers health probes while waiting, and fails to start when caches cannot sync in time', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const kc = kubeConfig();
    const current = kc.getCurrentCluster()!;
    kc.loadFromOptions({
      clusters: kc.clusters.map((c) => (c.name === current.name ? { ...c, server: `https://127.0.0.1:${port}` } : c)),
      contexts: kc.contexts,
      users: kc.users,
      currentContext: kc.currentContext,
    });
    const clock = new FakeClock();
    const mgr = new Manager({ kubeConfig: kc, clock, log: silentLog, cacheSyncTimeoutMs: 5000 });
    mgr.controller('never').for(ConfigMaps).complete(reconcilerFn(async () => {}));
    const probes = new MetricsServer({ registry: mgr.registry, port: 0, ready: () => mgr.ready() });
    mgr.add(probes);
    const done = mgr.start(new AbortController().signal);
    const failed = expect(done).rejects.toThrow(/caches did not sync within 5000 ms: configmaps/);
    await clock.waitForTimers(2);
    await waitFor(() => probes.url !== undefined, { what: 'the probe server' });
    // Probes answer before the caches have synced; readiness says they have not.
    expect((await fetch(`${probes.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${probes.url}/readyz`)).status).toBe(503);
    clock.advance(5000);
    await failed;
  });
});

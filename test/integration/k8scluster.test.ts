// K8sClusters built from VMs through real HTTP, the controllers and the simulated K8s Cluster
// Service: build (3 control plane + two pools) to Active, scale a pool through the scale
// subresource, upgrade with every step visible, an upgrade the service fails rolls back by
// itself (a pool upgraded on its own too), a skipped minor is refused, deletion releases
// everything; bastions from both sides, imports, control planes that cannot spread, a tenant
// held by its cluster. Quota and host accounting are checked exact after every step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait.js';
import { condition, GROUP, NS, ok, startWorld, type World } from './lifecycle-harness.js';

const api = 'virtflow.io/v1alpha1';
const clusterPath = (name = '') => `${GROUP}/namespaces/${NS}/k8sclusters${name ? `/${name}` : ''}`;
const poolPath = (name = '') => `${GROUP}/namespaces/${NS}/k8snodepools${name ? `/${name}` : ''}`;
const merge = { 'content-type': 'application/merge-patch+json' };
/** Cores of one "small" VM. */
const CPU = 2;

let world: World;

beforeAll(async () => {
  world = await startWorld({ hostCpu: 32, relay: true, clusterLatencyMs: { bootstrap: 60, join: 30, drain: 30, teardown: 30 } });
  const { vf } = world;
  // A third rack and host: the control plane spreads across three racks.
  ok(await vf.call('POST', `${GROUP}/racks`, { apiVersion: api, kind: 'Rack', metadata: { name: 'r3' }, spec: { datacenter: 'dc-1' } }));
  ok(
    await vf.call('POST', `${GROUP}/baremetals`, {
      apiVersion: api,
      kind: 'Baremetal',
      metadata: { name: 'h3' },
      spec: { serialNumber: 'SN-h3', rack: 'r3', group: 'general', capacity: { cpu: 32, memory: '128Gi', storage: '4Ti' } },
    }),
  );
  ok(
    await vf.call('POST', `${GROUP}/externalcontrollers`, {
      apiVersion: api,
      kind: 'ExternalController',
      metadata: { name: 'k8s-service-tw' },
      spec: { service: 'K8sCluster', regions: ['tw'], endpoint: world.endpoint, allowInsecureHttp: true, timeoutSeconds: 2 },
    }),
  );
  // Nodes are named by the tenant's template.
  ok(await vf.call('PATCH', `${GROUP}/tenants/${NS}`, { spec: { vmNameTemplate: '{tenant}-{cluster}-{role}-{index}' } }, merge), 200);
}, 60_000);

afterAll(async () => {
  await world?.stop();
});

async function get(path: string): Promise<any> {
  const res = await world.vf.call('GET', path);
  return res.status === 404 ? undefined : ok(res, 200);
}

async function waitFor(path: string, what: string, check: (obj: any) => boolean, timeoutMs = 30_000): Promise<any> {
  let last: any;
  try {
    await waitUntil(async () => {
      last = await get(path);
      return check(last);
    }, what, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nlast: ${JSON.stringify(last?.status ?? last, null, 1)}`);
  }
  return last;
}

async function clusterVms(cluster = 'prod'): Promise<any[]> {
  const list = ok(await world.vf.call('GET', `${GROUP}/namespaces/${NS}/virtualmachines?labelSelector=${encodeURIComponent(`virtflow.io/cluster=${cluster}`)}`), 200);
  return list.items;
}

/** The quota's used cores and the hosts' allocated cores equal what the placed VMs reserve. */
async function expectAccounting(vmCount: number, placed = vmCount): Promise<void> {
  const want = placed * CPU;
  let seen = '';
  await waitUntil(async () => {
    const quota = await world.quota();
    const hosts = await Promise.all(['h1', 'h2', 'h3'].map((h) => world.host(h)));
    const allocated = hosts.reduce((n, h) => n + (h.status?.allocated?.cpu ?? 0), 0);
    const all = ok(await world.vf.call('GET', `${GROUP}/namespaces/${NS}/virtualmachines`), 200).items.length;
    seen = `quota used ${quota.status?.used?.cpu}, hosts allocated ${allocated}, VMs ${all}`;
    return quota.status?.used?.cpu === want && allocated === want && all === vmCount;
  }, `accounting of ${vmCount} VMs (${want} cores)`, 20_000).catch((err) => {
    throw new Error(`${(err as Error).message}: ${seen}`);
  });
}

describe('a K8sCluster built by VirtFlow', () => {
  it('builds three control-plane nodes across racks and two pools to Active', async () => {
    ok(
      await world.vf.call('POST', clusterPath(), {
        apiVersion: api,
        kind: 'K8sCluster',
        metadata: { name: 'prod', namespace: NS },
        spec: {
          version: 'v1.30.2',
          image: 'ubuntu',
          controlPlane: { replicas: 3, specification: 'small', group: 'general' },
          plugins: [{ name: 'metrics-server', version: '0.7.1' }, { name: 'old-dashboard', enabled: false }],
          upgrade: { healthTimeout: '20s' },
        },
      }),
    );
    for (const pool of ['web', 'batch']) {
      ok(
        await world.vf.call('POST', poolPath(), {
          apiVersion: api,
          kind: 'K8sNodePool',
          metadata: { name: pool, namespace: NS },
          spec: { cluster: 'prod', replicas: 2, specification: 'small', deletePolicy: 'Oldest' },
        }),
      );
    }
    const cluster = await waitFor(clusterPath('prod'), 'cluster prod Active', (c) => c?.status?.phase === 'Active');
    expect(condition(cluster, 'Ready')?.status).toBe('True');
    expect(cluster.status.version).toBe('v1.30.2');
    expect(cluster.status.controlPlane).toEqual({ ready: 3, replicas: 3, nodes: '3/3' });
    expect(cluster.status.nodes).toBe('4/4');
    expect(cluster.status.nodePools).toEqual([
      { name: 'batch', ready: 2, replicas: 2, version: 'v1.30.2' },
      { name: 'web', ready: 2, replicas: 2, version: 'v1.30.2' },
    ]);
    expect(cluster.status.plugins).toEqual([
      { name: 'metrics-server', version: '0.7.1', state: 'active' },
      { name: 'old-dashboard', state: 'inactive' },
    ]);
    expect(cluster.status.network).toEqual({ cni: 'cilium', state: 'active' });
    expect(cluster.status.apiServer).toMatch(/^https:\/\/.+:6443$/);
    const secret = ok(await world.vf.call('GET', `/api/v1/namespaces/${NS}/secrets/${cluster.status.kubeconfigSecret}`), 200);
    expect(Buffer.from(secret.data.value, 'base64').toString()).toContain(cluster.status.apiServer);

    const vms = await clusterVms();
    expect(vms).toHaveLength(7);
    const cp = vms.filter((v) => v.spec.role === 'ControlPlane');
    expect(cp.map((v) => v.metadata.name).sort()).toEqual(['acme-prod-controlplane-1', 'acme-prod-controlplane-2', 'acme-prod-controlplane-3']);
    expect(new Set(cp.map((v) => v.status.placement.rack)).size).toBe(3);
    expect(cp.every((v) => v.metadata.ownerReferences[0].kind === 'K8sCluster' && v.spec.cluster === 'prod')).toBe(true);
    const workers = vms.filter((v) => v.spec.role === 'Worker');
    expect(workers.every((v) => v.metadata.ownerReferences[0].kind === 'K8sNodePool' && v.metadata.ownerReferences[0].name === v.metadata.labels['virtflow.io/node-pool'])).toBe(true);

    const web = await get(poolPath('web'));
    expect(web.status).toMatchObject({ replicas: 2, readyReplicas: 2, updatedReplicas: 2, version: 'v1.30.2', phase: 'Active' });
    expect(web.status.selector).toBe('virtflow.io/cluster=prod,virtflow.io/node-pool=web');
    await expectAccounting(7);
  }, 60_000);

  it('scales a pool up and down through the scale subresource, draining before deleting', async () => {
    const scale = ok(await world.vf.call('GET', `${poolPath('web')}/scale`), 200);
    expect(scale.status).toMatchObject({ replicas: 2, selector: 'virtflow.io/cluster=prod,virtflow.io/node-pool=web' });
    ok(await world.vf.call('PATCH', `${poolPath('web')}/scale`, { spec: { replicas: 4 } }, merge), 200);
    await waitFor(poolPath('web'), 'web at 4 Ready', (p) => p.status?.readyReplicas === 4 && p.status?.replicas === 4);
    await waitFor(clusterPath('prod'), 'prod Active with 6 workers', (c) => c.status?.phase === 'Active' && c.status?.nodes === '6/6');
    await expectAccounting(9);

    const drainsBefore = world.sim.clusters.counts.drains;
    const oldest = (await clusterVms())
      .filter((v) => v.metadata.labels['virtflow.io/node-pool'] === 'web')
      .sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) || a.metadata.name.localeCompare(b.metadata.name));
    ok(await world.vf.call('PATCH', `${poolPath('web')}/scale`, { spec: { replicas: 1 } }, merge), 200);
    await waitFor(poolPath('web'), 'web down to 1', (p) => p.status?.replicas === 1 && p.status?.readyReplicas === 1 && p.status?.phase === 'Active');
    await expectAccounting(6);
    expect(world.sim.clusters.counts.drains - drainsBefore).toBe(3);
    // deletePolicy Oldest: the newest node stays.
    const left = (await clusterVms()).filter((v) => v.metadata.labels['virtflow.io/node-pool'] === 'web');
    expect(left.map((v) => v.metadata.name)).toEqual([oldest[oldest.length - 1].metadata.name]);
    const events = await world.events('prod');
    expect(events.filter((e) => e.reason === 'DrainingNode')).toHaveLength(3);
  }, 60_000);

  it('rolls nothing while in maintenance, and is Offline while the service cannot be reached', async () => {
    ok(await world.vf.call('PATCH', clusterPath('prod'), { spec: { maintenance: true } }, merge), 200);
    await waitFor(clusterPath('prod'), 'prod in Maintenance', (c) => c.status?.phase === 'Maintenance');
    ok(await world.vf.call('PATCH', `${poolPath('web')}/scale`, { spec: { replicas: 2 } }, merge), 200);
    // The scale is held: the pool still has one node after the controller has seen the change.
    await waitFor(poolPath('web'), 'web has seen the scale', (p) => p.status?.observedGeneration === p.metadata.generation);
    expect((await clusterVms()).filter((v) => v.metadata.labels['virtflow.io/node-pool'] === 'web')).toHaveLength(1);
    ok(await world.vf.call('PATCH', clusterPath('prod'), { spec: { maintenance: false } }, merge), 200);
    await waitFor(poolPath('web'), 'web at 2 once out of maintenance', (p) => p.status?.readyReplicas === 2 && p.status?.replicas === 2);
    await waitFor(clusterPath('prod'), 'prod Active', (c) => c.status?.phase === 'Active');
    await expectAccounting(7);

    await world.relay!.close();
    const offline = await waitFor(clusterPath('prod'), 'prod Offline', (c) => c.status?.phase === 'Offline');
    expect(condition(offline, 'Ready')).toMatchObject({ status: 'False', reason: 'ProviderUnreachable' });
    await world.relay!.open();
    await waitFor(clusterPath('prod'), 'prod Active again', (c) => c.status?.phase === 'Active');
    ok(await world.vf.call('PATCH', `${poolPath('web')}/scale`, { spec: { replicas: 1 } }, merge), 200);
    await waitFor(poolPath('web'), 'web back to 1', (p) => p.status?.replicas === 1 && p.status?.phase === 'Active');
    await expectAccounting(6);
  }, 60_000);

  it('is in Error while no ExternalController serves K8sCluster in its region, and Active again once one does', async () => {
    ok(await world.vf.call('PATCH', `${GROUP}/externalcontrollers/k8s-service-tw`, { spec: { regions: ['elsewhere'] } }, merge), 200);
    try {
      const error = await waitFor(clusterPath('prod'), 'prod in Error', (c) => c.status?.phase === 'Error');
      expect(condition(error, 'Ready')).toMatchObject({
        status: 'False',
        reason: 'NoExternalController',
        message: 'no ExternalController with service K8sCluster serves region "tw"; create one whose spec.regions include it (or are empty)',
      });
      // Nothing is torn down meanwhile: the nodes stay.
      expect(await clusterVms()).toHaveLength(6);
    } finally {
      ok(await world.vf.call('PATCH', `${GROUP}/externalcontrollers/k8s-service-tw`, { spec: { regions: ['tw'] } }, merge), 200);
    }
    await waitFor(clusterPath('prod'), 'prod Active again', (c) => c.status?.phase === 'Active');
    await expectAccounting(6);
  }, 60_000);

  it('is Degraded while a node is not Ready and nothing is being changed, and Active once it is Ready again', async () => {
    const uid = (await get(clusterPath('prod'))).metadata.uid;
    const simulated = world.sim.clusters.clusters.get(uid)!;
    const worker = (await clusterVms()).find((v) => v.metadata.labels['virtflow.io/node-pool'] === 'batch')!.metadata.name;
    // The service reports the node NotReady (its kubelet stopped posting status).
    simulated.nodes.get(worker)!.state = 'NotReady';
    try {
      const degraded = await waitFor(clusterPath('prod'), 'prod Degraded', (c) => c.status?.phase === 'Degraded');
      expect(condition(degraded, 'Ready')).toMatchObject({ status: 'False', reason: 'Degraded', message: 'Control plane 3/3, workers 2/3 Ready.' });
      expect(degraded.status.nodes).toBe('2/3');
      const batch = await waitFor(poolPath('batch'), 'batch Degraded', (p) => p.status?.phase === 'Degraded');
      expect(batch.status).toMatchObject({ replicas: 2, readyReplicas: 1 });
      // Not replaced: a node that is not Ready is the service's to heal, not a failed join.
      expect(await clusterVms()).toHaveLength(6);
    } finally {
      simulated.nodes.get(worker)!.state = 'Ready';
    }
    await waitFor(clusterPath('prod'), 'prod Active again', (c) => c.status?.phase === 'Active' && c.status.nodes === '3/3');
    await expectAccounting(6);
  }, 60_000);

  it('upgrades the control plane one node at a time, then the pools, with every step in status', async () => {
    const steps: string[] = [];
    const watcher = (async () => {
      for (let i = 0; i < 2000; i++) {
        const c = await get(clusterPath('prod'));
        const s = c?.status?.upgrade;
        if (s?.step && steps[steps.length - 1] !== s.step) steps.push(s.step);
        if (s?.state === 'Succeeded' || s?.state === 'RolledBack') return;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    ok(await world.vf.call('PATCH', clusterPath('prod'), { spec: { version: 'v1.31.0' } }, merge), 200);
    const done = await waitFor(clusterPath('prod'), 'upgrade Succeeded', (c) => c.status?.upgrade?.state === 'Succeeded' && c.status?.phase === 'Active', 60_000);
    await watcher;
    expect(done.status.version).toBe('v1.31.0');
    expect(done.status.upgrade).toMatchObject({ from: 'v1.30.2', to: 'v1.31.0', state: 'Succeeded' });
    expect(condition(done, 'Upgrading')).toMatchObject({ status: 'False', reason: 'Succeeded' });
    // Control plane first, each step visible; then the pools.
    const firstPool = steps.findIndex((s) => s.startsWith('pool'));
    expect(steps.findIndex((s) => s.startsWith('control plane'))).toBeLessThan(firstPool);
    expect(steps.some((s) => /^control plane 1\/3 at v1\.31\.0/.test(s))).toBe(true);
    expect(steps.some((s) => /^control plane 2\/3 at v1\.31\.0/.test(s))).toBe(true);
    expect(steps.filter((s) => s.startsWith('control plane')).every((s) => steps.indexOf(s) < firstPool)).toBe(true);
    const vms = await clusterVms();
    expect(vms.every((v) => v.metadata.labels['virtflow.io/k8s-version'] === 'v1.31.0')).toBe(true);
    expect(vms).toHaveLength(6);
    await expectAccounting(6);
    const events = await world.events('prod');
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['UpgradeStarted', 'UpgradeSucceeded']));
  }, 90_000);

  it('refuses a version that skips a minor or goes down, naming the allowed versions', async () => {
    for (const version of ['v1.33.0', 'v1.30.9']) {
      const res = await world.vf.call('PATCH', clusterPath('prod'), { spec: { version } }, merge);
      expect(res.status, res.text).toBe(422);
      expect(res.body.message).toContain('allowed: v1.31.x');
      expect(res.body.details.causes[0].field).toBe('spec.version');
    }
    const pool = await world.vf.call('PATCH', poolPath('batch'), { spec: { version: 'v1.32.0' } }, merge);
    expect(pool.status, pool.text).toBe(422);
    expect(pool.body.message).toContain('never ahead');
  });

  it('rolls an upgrade the service fails back by itself, and keeps serving', async () => {
    world.sim.clusters.failVersions.add('v1.32.0');
    ok(await world.vf.call('PATCH', clusterPath('prod'), { spec: { version: 'v1.32.0' } }, merge), 200);
    const back = await waitFor(clusterPath('prod'), 'upgrade RolledBack', (c) => c.status?.upgrade?.state === 'RolledBack' && c.status?.phase === 'Active', 60_000);
    expect(back.status.version).toBe('v1.31.0');
    expect(back.status.upgrade).toMatchObject({ from: 'v1.31.0', to: 'v1.32.0', state: 'RolledBack' });
    expect(back.status.upgrade.message).toMatch(/failed to join/);
    expect(condition(back, 'Upgrading')).toMatchObject({ status: 'False', reason: 'RolledBack' });
    expect(condition(back, 'Ready')?.status).toBe('True');
    const event = await world.waitEvent('prod', 'UpgradeRolledBack');
    expect(event.type).toBe('Warning');
    const vms = await clusterVms();
    expect(vms.map((v) => v.metadata.labels['virtflow.io/k8s-version'])).toEqual(Array(6).fill('v1.31.0'));
    await expectAccounting(6);
  }, 90_000);

  it('rolls the control plane back too when a pool fails after the control plane was upgraded', async () => {
    world.sim.clusters.failVersions.clear();
    // v1.32.1: the control plane joins, the workers do not.
    world.sim.clusters.failNode = (n) => n.version === 'v1.32.1' && n.role === 'Worker';
    const seen = new Set<string>();
    ok(await world.vf.call('PATCH', clusterPath('prod'), { spec: { version: 'v1.32.1' } }, merge), 200);
    const back = await waitFor(
      clusterPath('prod'),
      'upgrade to v1.32.1 RolledBack',
      (c) => {
        if (c?.status?.version) seen.add(c.status.version);
        return c?.status?.upgrade?.to === 'v1.32.1' && c.status.upgrade.state === 'RolledBack' && c.status.phase === 'Active';
      },
      90_000,
    );
    world.sim.clusters.failNode = undefined;
    // The control plane had reached v1.32.1 before a worker failed; it is back at v1.31.0.
    expect([...seen]).toEqual(expect.arrayContaining(['v1.31.0', 'v1.32.1']));
    expect(back.status.version).toBe('v1.31.0');
    expect(back.status.upgrade.message).toMatch(/node .* \(v1\.32\.1\) failed to join/);
    const vms = await clusterVms();
    expect(vms.map((v) => v.metadata.labels['virtflow.io/k8s-version'])).toEqual(Array(6).fill('v1.31.0'));
    await expectAccounting(6);
  }, 120_000);

  it('rolls a pool upgraded by itself back when its new nodes fail, with status and Events on the pool', async () => {
    // The cluster runs v1.31.0 (its v1.32.1 rolled back); the pool batch moves on its own.
    const down = await world.vf.call('PATCH', poolPath('batch'), { spec: { version: 'v1.30.9' } }, merge);
    expect(down.status, down.text).toBe(422);
    expect(down.body.details.causes[0]).toMatchObject({ field: 'spec.version' });
    expect(down.body.message).toContain('a node pool is never downgraded (allowed: v1.31.x from v1.31.0 on, or v1.32.x)');

    world.sim.clusters.failVersions.add('v1.31.1');
    const batchVms = async () => (await clusterVms()).filter((v) => v.metadata.labels['virtflow.io/node-pool'] === 'batch');
    const before = (await batchVms()).map((v) => v.metadata.name).sort();
    ok(await world.vf.call('PATCH', poolPath('batch'), { spec: { version: 'v1.31.1' } }, merge), 200);
    const rolling = await waitFor(poolPath('batch'), 'batch rolling back', (p) => p.status?.upgrade?.state === 'RollingBack' || p.status?.upgrade?.state === 'RolledBack');
    expect(rolling.status.upgrade).toMatchObject({ from: 'v1.31.0', to: 'v1.31.1' });
    const back = await waitFor(poolPath('batch'), 'batch RolledBack and Active', (p) => p.status?.upgrade?.state === 'RolledBack' && p.status?.phase === 'Active', 60_000);
    expect(back.status.upgrade.message).toMatch(/^node .* \(v1\.31\.1\) failed to join$/);
    expect(back.status).toMatchObject({ version: 'v1.31.0', replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    expect(condition(back, 'Upgrading')).toMatchObject({ status: 'False', reason: 'RolledBack' });
    expect(condition(back, 'Ready')?.status).toBe('True');
    const events = await world.events('batch');
    const byReason = (r: string) => events.filter((e) => e.reason === r);
    expect(byReason('UpgradeStarted')).toHaveLength(1);
    expect(byReason('UpgradeRollingBack')[0]).toMatchObject({ type: 'Warning', involvedObject: { kind: 'K8sNodePool', name: 'batch' } });
    expect(byReason('UpgradeRolledBack')[0]?.type).toBe('Warning');
    // The replaced nodes are gone; the pool is back to the version it ran, on the nodes it had.
    const after = await batchVms();
    expect(after.map((v) => v.metadata.labels['virtflow.io/k8s-version'])).toEqual(['v1.31.0', 'v1.31.0']);
    expect(after.map((v) => v.metadata.name).sort()).toEqual(before);
    // The cluster's own upgrade record is untouched.
    const cluster = await waitFor(clusterPath('prod'), 'prod Active', (c) => c.status?.phase === 'Active');
    expect(cluster.status.upgrade).toMatchObject({ to: 'v1.32.1', state: 'RolledBack' });
    await expectAccounting(6);

    // A version that works: the pool gets there by itself and says so.
    world.sim.clusters.failVersions.clear();
    ok(await world.vf.call('PATCH', poolPath('batch'), { spec: { version: 'v1.31.2' } }, merge), 200);
    const done = await waitFor(poolPath('batch'), 'batch Succeeded', (p) => p.status?.upgrade?.state === 'Succeeded' && p.status?.phase === 'Active', 60_000);
    expect(done.status.upgrade).toMatchObject({ from: 'v1.31.0', to: 'v1.31.2' });
    expect(done.status.version).toBe('v1.31.2');
    await world.waitEvent('batch', 'UpgradeSucceeded');
    expect((await batchVms()).map((v) => v.metadata.labels['virtflow.io/k8s-version'])).toEqual(['v1.31.2', 'v1.31.2']);
    await expectAccounting(6);
  }, 150_000);

  it('tears the cluster down, deletes its pools and VMs, and releases hosts and quota', async () => {
    const teardowns = world.sim.clusters.counts.teardowns;
    ok(await world.vf.call('DELETE', clusterPath('prod')), 200, 202);
    await waitUntil(async () => (await get(clusterPath('prod'))) === undefined, 'cluster prod gone', 30_000);
    expect(world.sim.clusters.counts.teardowns).toBe(teardowns + 1);
    expect(world.sim.clusters.clusters.size).toBe(0);
    expect(ok(await world.vf.call('GET', poolPath()), 200).items).toEqual([]);
    await expectAccounting(0);
  }, 60_000);
});

describe('bastions, imported clusters, and clusters that do not fit', () => {
  const small = (name: string, spec: Record<string, unknown> = {}) => ({
    apiVersion: api,
    kind: 'K8sCluster',
    metadata: { name, namespace: NS },
    spec: { version: 'v1.30.2', image: 'ubuntu', controlPlane: { replicas: 1, specification: 'small', group: 'general' }, ...spec },
  });

  it('shows a bastion serving two clusters on both sides, each side one label query', async () => {
    await world.createVm('jump-1', { role: 'Bastion' });
    ok(await world.vf.call('POST', clusterPath(), small('alpha', { bastions: ['jump-1'] })));
    ok(await world.vf.call('POST', clusterPath(), small('beta', { bastions: ['jump-1'] })));
    for (const name of ['alpha', 'beta']) {
      const c = await waitFor(clusterPath(name), `${name} Active`, (k) => k?.status?.phase === 'Active' && k.status.bastions?.[0]?.state === 'active');
      expect(c.status.bastions).toEqual([{ name: 'jump-1', state: 'active' }]);
    }
    // Which clusters use bastion jump-1: one query.
    const using = ok(await world.vf.call('GET', `${clusterPath()}?labelSelector=${encodeURIComponent('bastion.virtflow.io/jump-1')}`), 200);
    expect(using.items.map((c: any) => c.metadata.name).sort()).toEqual(['alpha', 'beta']);
    // And the bastion's side: its status names the clusters it serves, and so do its labels.
    const vm = await world.waitVm('jump-1', 'serving both clusters', (v) => v.status?.bastionFor?.length === 2);
    expect(vm.status.bastionFor).toEqual(['alpha', 'beta']);
    expect(vm.spec.role).toBe('Bastion');
    const bastionsOfAlpha = ok(await world.vf.call('GET', `${GROUP}/namespaces/${NS}/virtualmachines?labelSelector=${encodeURIComponent('cluster.virtflow.io/alpha=bastion')}`), 200);
    expect(bastionsOfAlpha.items.map((v: any) => v.metadata.name)).toEqual(['jump-1']);
    ok(await world.vf.call('PATCH', clusterPath('beta'), { spec: { bastions: [] } }, merge), 200);
    const onlyAlpha = await world.waitVm('jump-1', 'no longer serving beta', (v) => v.metadata.labels?.['cluster.virtflow.io/beta'] === undefined && v.status?.bastionFor?.length === 1);
    expect(onlyAlpha.status.bastionFor).toEqual(['alpha']);
    expect(onlyAlpha.metadata.labels['cluster.virtflow.io/alpha']).toBe('bastion');
    // A cluster that goes stops being served: nothing of it stays on the bastion.
    for (const name of ['alpha', 'beta']) ok(await world.vf.call('DELETE', clusterPath(name)), 200, 202);
    for (const name of ['alpha', 'beta']) await waitUntil(async () => (await get(clusterPath(name))) === undefined, `${name} gone`, 30_000);
    const free = await world.waitVm('jump-1', 'serving no cluster', (v) => v.status?.bastionFor === undefined && v.metadata.labels?.['cluster.virtflow.io/alpha'] === undefined);
    expect(free.status.phase).toBe('Running');
    await world.deleteVm('jump-1');
    await expectAccounting(0);
  }, 60_000);

  it('imports an existing cluster: a real TLS handshake with a token or a kubeconfig, its version read back, nothing built', async () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'legacy-credentials', namespace: NS },
      stringData: { token: world.vf.token, 'ca.crt': world.vf.caCert },
    };
    ok(await world.vf.call('POST', `/api/v1/namespaces/${NS}/secrets`, secret));
    const spec = { version: 'v1.30.2', import: { apiServer: world.vf.url, authType: 'token', credentialsSecret: 'legacy-credentials' } };
    ok(await world.vf.call('POST', clusterPath(), { apiVersion: api, kind: 'K8sCluster', metadata: { name: 'legacy', namespace: NS }, spec }));
    const c = await waitFor(clusterPath('legacy'), 'legacy Active', (k) => k?.status?.phase === 'Active');
    const version = ok(await world.vf.call('GET', '/version'), 200).gitVersion;
    expect(c.status.version).toBe(version);
    expect(c.status.apiServer).toBe(world.vf.url);
    expect(condition(c, 'Ready')).toMatchObject({ status: 'True', reason: 'Connected' });
    expect(await clusterVms('legacy')).toEqual([]);

    // A token the server does not accept: Offline, saying why.
    ok(await world.vf.call('PATCH', `/api/v1/namespaces/${NS}/secrets/legacy-credentials`, { stringData: { token: 'wrong' } }, merge), 200);
    ok(await world.vf.call('PATCH', clusterPath('legacy'), { spec: { description: 'probe again' } }, merge), 200);
    const off = await waitFor(clusterPath('legacy'), 'legacy Offline', (k) => k?.status?.phase === 'Offline');
    expect(condition(off, 'Ready')).toMatchObject({ status: 'False', reason: 'ClusterUnreachable' });
    expect(condition(off, 'Ready').message).toContain('401');
    ok(await world.vf.call('DELETE', clusterPath('legacy')), 200, 202);
    await waitUntil(async () => (await get(clusterPath('legacy'))) === undefined, 'legacy gone', 20_000);

    // authType kubeconfig: the Secret holds a whole kubeconfig (its server is spec.import's).
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: old',
      '  cluster:',
      '    server: https://127.0.0.1:1',
      `    certificate-authority-data: ${Buffer.from(world.vf.caCert).toString('base64')}`,
      'users:',
      '- name: admin',
      '  user:',
      `    token: ${world.vf.token}`,
      'contexts:',
      '- name: old',
      '  context: {cluster: old, user: admin}',
      'current-context: old',
    ].join('\n');
    ok(await world.vf.call('POST', `/api/v1/namespaces/${NS}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'legacy-kubeconfig', namespace: NS }, stringData: { kubeconfig } }));
    const kcSpec = { version: 'v1.30.2', import: { apiServer: world.vf.url, authType: 'kubeconfig', credentialsSecret: 'legacy-kubeconfig' } };
    ok(await world.vf.call('POST', clusterPath(), { apiVersion: api, kind: 'K8sCluster', metadata: { name: 'legacy-kc', namespace: NS }, spec: kcSpec }));
    const kc = await waitFor(clusterPath('legacy-kc'), 'legacy-kc Active', (k) => k?.status?.phase === 'Active');
    expect(kc.status.version).toBe(version);
    expect(condition(kc, 'Ready')).toMatchObject({ status: 'True', reason: 'Connected' });
    expect(condition(kc, 'Ready').message).toMatch(/^Connected to https:\/\/.+: v\d+\.\d+\.\d+.*, (\d+ nodes|nodes not readable with these credentials)\.$/);
    ok(await world.vf.call('DELETE', clusterPath('legacy-kc')), 200, 202);
    await waitUntil(async () => (await get(clusterPath('legacy-kc'))) === undefined, 'legacy-kc gone', 20_000);
  }, 60_000);

  it('says so on a pool whose cluster does not exist, and builds it once the cluster comes', async () => {
    ok(
      await world.vf.call('POST', poolPath(), {
        apiVersion: api,
        kind: 'K8sNodePool',
        metadata: { name: 'early-pool', namespace: NS },
        spec: { cluster: 'early', replicas: 1, specification: 'small' },
      }),
    );
    const pending = await waitFor(poolPath('early-pool'), 'early-pool Pending', (p) => p?.status?.phase === 'Pending');
    expect(condition(pending, 'Ready')).toMatchObject({ status: 'False', reason: 'ClusterNotFound' });
    expect(pending.status.selector).toBe('virtflow.io/cluster=early,virtflow.io/node-pool=early-pool');
    ok(await world.vf.call('POST', clusterPath(), small('early')));
    await waitFor(poolPath('early-pool'), 'early-pool Active', (p) => p?.status?.phase === 'Active' && p.status.readyReplicas === 1);
    // Named by the tenant's template.
    expect((await clusterVms('early')).filter((v) => v.spec.role === 'Worker').map((v) => v.metadata.name)).toEqual([expect.stringMatching(/^acme-early-worker-\d+$/)]);
    ok(await world.vf.call('DELETE', clusterPath('early')), 200, 202);
    await waitUntil(async () => (await get(clusterPath('early'))) === undefined && (await get(poolPath('early-pool'))) === undefined, 'early and its pool gone', 30_000);
    await expectAccounting(0);
  }, 60_000);

  it('refuses a control plane that cannot spread across racks, naming the field, at create and at scale-up', async () => {
    ok(await world.vf.call('POST', clusterPath(), small('spready')));
    const one = await waitFor(clusterPath('spready'), 'spready Active', (k) => k?.status?.phase === 'Active');
    expect(one.status.controlPlane.nodes).toBe('1/1');
    // Three racks, but r3's only host is in maintenance: two control-plane nodes fit, on two racks.
    ok(await world.vf.call('PATCH', `${GROUP}/baremetals/h3`, { spec: { state: 'Maintenance' } }, merge), 200);
    try {
      const spreadRefusal = /spec\.controlPlane\.replicas: the 3 control-plane nodes must each be on a different rack of group general, but only \d of the \d new ones can be placed so \(0\/3 hosts fit: .*would break spread.*\); make room on another rack of the group, or lower spec\.controlPlane\.replicas$/;
      const created = await world.vf.call('POST', clusterPath(), small('unspread', { controlPlane: { replicas: 3, specification: 'small', group: 'general' } }));
      expect(created.status, created.text).toBe(403);
      expect(created.body.reason).toBe('Forbidden');
      expect(created.body.message).toMatch(spreadRefusal);
      expect(created.body.message).toContain('only 2 of the 3 new ones');
      expect(await get(clusterPath('unspread'))).toBeUndefined();
      const grown = await world.vf.call('PATCH', clusterPath('spready'), { spec: { controlPlane: { replicas: 3 } } }, merge);
      expect(grown.status, grown.text).toBe(403);
      expect(grown.body.message).toMatch(spreadRefusal);
      expect(grown.body.message).toContain('only 1 of the 2 new ones');
      expect((await get(clusterPath('spready'))).spec.controlPlane.replicas).toBe(1);
    } finally {
      ok(await world.vf.call('PATCH', `${GROUP}/baremetals/h3`, { spec: { state: 'Available' } }, merge), 200);
    }
    // With the rack back, the same scale-up is admitted and lands on three racks.
    await waitUntil(async () => (await world.vf.call('PATCH', clusterPath('spready'), { spec: { controlPlane: { replicas: 3 } } }, merge)).status === 200, 'scale-up admitted', 10_000);
    await waitFor(clusterPath('spready'), 'spready 3/3', (k) => k?.status?.phase === 'Active' && k.status.controlPlane?.nodes === '3/3');
    const racks = (await clusterVms('spready')).map((v) => v.status.placement.rack);
    expect(new Set(racks).size).toBe(3);
    ok(await world.vf.call('DELETE', clusterPath('spready')), 200, 202);
    await waitUntil(async () => (await get(clusterPath('spready'))) === undefined, 'spready gone', 30_000);
    await expectAccounting(0);
  }, 60_000);

  it('refuses a cluster, or a scale-up, none of whose nodes can be placed, with the counted reasons', async () => {
    ok(
      await world.vf.call('POST', `${GROUP}/virtualmachinespecifications`, {
        apiVersion: api,
        kind: 'VirtualMachineSpecification',
        metadata: { name: 'huge' },
        spec: { cpu: 48, memory: '64Gi', storage: '100Gi' },
      }),
    );
    const res = await world.vf.call('POST', clusterPath(), small('too-big', { controlPlane: { replicas: 3, specification: 'huge', group: 'general' } }));
    expect(res.status, res.text).toBe(403);
    expect(res.body.reason).toBe('Forbidden');
    expect(res.body.message).toMatch(/none of its 3 new control-plane node\(s\) can be placed .*: 0\/3 hosts fit: 3 Insufficient cpu$/);
    expect(await get(clusterPath('too-big'))).toBeUndefined();

    // A scale-up through the scale subresource (kubectl scale) none of whose nodes fit: the same.
    ok(await world.vf.call('POST', clusterPath(), small('scaled')));
    ok(
      await world.vf.call('POST', poolPath(), {
        apiVersion: api,
        kind: 'K8sNodePool',
        metadata: { name: 'scaled-huge', namespace: NS },
        spec: { cluster: 'scaled', replicas: 0, specification: 'huge' },
      }),
    );
    const scale = await world.vf.call('PATCH', `${poolPath('scaled-huge')}/scale`, { spec: { replicas: 2 } }, merge);
    expect(scale.status, scale.text).toBe(403);
    expect(scale.body.message).toMatch(/none of its 2 new worker node\(s\) can be placed .*: 0\/3 hosts fit: 3 Insufficient cpu$/);
    expect((await get(poolPath('scaled-huge'))).spec.replicas).toBe(0);
    ok(await world.vf.call('DELETE', clusterPath('scaled')), 200, 202);
    await waitUntil(async () => (await get(clusterPath('scaled'))) === undefined && (await get(poolPath('scaled-huge'))) === undefined, 'scaled gone', 30_000);
    await expectAccounting(0);
  }, 60_000);

  it('admits a cluster that fits in part and says how many nodes are missing and why, holding only what it uses', async () => {
    // A quota of 12 cores: 1 control-plane node and 5 workers of 2 cores; the pool wants 8.
    ok(await world.vf.call('PATCH', `${GROUP}/tenantquotas/acme-general`, { spec: { limits: { cpu: 12 } } }, merge), 200);
    ok(await world.vf.call('POST', clusterPath(), small('partial')));
    ok(
      await world.vf.call('POST', poolPath(), {
        apiVersion: api,
        kind: 'K8sNodePool',
        metadata: { name: 'partial-big', namespace: NS },
        spec: { cluster: 'partial', replicas: 8, specification: 'small' },
      }),
    );
    const c = await waitFor(clusterPath('partial'), 'partial reports missing nodes', (k) => condition(k, 'NodesScheduled')?.status === 'False' && /^3 of 9 nodes are missing/.test(condition(k, 'NodesScheduled').message), 60_000);
    expect(condition(c, 'NodesScheduled').reason).toBe('InsufficientCapacity');
    expect(condition(c, 'NodesScheduled').message).toMatch(/3 x .*quota/i);
    await expectAccounting(9, 6);
    const quota = await world.quota();
    expect(quota.status.used.cpu).toBe(12);
    ok(await world.vf.call('DELETE', clusterPath('partial')), 200, 202);
    await waitUntil(async () => (await get(clusterPath('partial'))) === undefined, 'partial gone', 60_000);
    await expectAccounting(0);
    ok(await world.vf.call('PATCH', `${GROUP}/tenantquotas/acme-general`, { spec: { limits: { cpu: 64 } } }, merge), 200);
  }, 90_000);

  it('holds the deletion of a tenant that still has a cluster, naming it, until the cluster is gone', async () => {
    ok(await world.vf.call('POST', clusterPath(), small('last')));
    await waitFor(clusterPath('last'), 'last Active', (k) => k?.status?.phase === 'Active');
    ok(await world.vf.call('DELETE', `${GROUP}/tenants/${NS}`), 200, 202);
    const held = await waitFor(`${GROUP}/tenants/${NS}`, 'tenant held', (t) => t?.status?.phase === 'Terminating' && condition(t, 'Ready')?.reason === 'DeletionBlocked');
    expect(condition(held, 'Ready').message).toContain('1 K8sCluster(s) (last)');
    expect(held.status.clusters).toBe(1);
    ok(await world.vf.call('DELETE', clusterPath('last')), 200, 202);
    await waitUntil(async () => (await get(`${GROUP}/tenants/${NS}`)) === undefined, 'tenant gone once its cluster is', 30_000);
    // Its quotas went with it; the hosts hold nothing of it.
    await waitUntil(async () => (await Promise.all(['h1', 'h2', 'h3'].map((h) => world.host(h)))).every((h) => (h.status?.allocated?.cpu ?? 0) === 0), 'hosts released', 20_000);
  }, 60_000);
});

// The operations console on a cluster VirtFlow builds: the simulated K8s Cluster Service runs
// a real workload cluster for it, so the console reaches it with the kubeconfig Secret the
// controller wrote, counts its Nodes (one per control-plane and pool replica, following a
// scale), shows it offline when its API server stops answering, and deleting it drops the
// workload cluster's database.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectClient } from '../../src/runtime/client.js';
import { Nodes } from '../../src/workload/controllers/common.js';
import { workloadNameOf } from '../../src/providers/simulator/cluster-service.js';
import { waitUntil } from '../support/wait.js';
import { GROUP, NS, ok, startWorld, type World } from './lifecycle-harness.js';

const api = 'virtflow.io/v1alpha1';
const clusterPath = (name = '') => `${GROUP}/namespaces/${NS}/k8sclusters${name ? `/${name}` : ''}`;
const poolPath = (name = '') => `${GROUP}/namespaces/${NS}/k8snodepools${name ? `/${name}` : ''}`;
const merge = { 'content-type': 'application/merge-patch+json' };

let world: World;
let id: number;

beforeAll(async () => {
  world = await startWorld({ hostCpu: 32, workloadClusters: true, clusterLatencyMs: { bootstrap: 30, join: 20, drain: 20, teardown: 20 } });
  ok(
    await world.vf.call('POST', `${GROUP}/externalcontrollers`, {
      apiVersion: api,
      kind: 'ExternalController',
      metadata: { name: 'k8s-service-tw' },
      spec: { service: 'K8sCluster', regions: ['tw'], endpoint: world.endpoint, allowInsecureHttp: true, timeoutSeconds: 2 },
    }),
  );
}, 60_000);

afterAll(async () => {
  await world?.stop();
});

async function consoleCluster(): Promise<any> {
  const list = ok(await world.vf.call('GET', '/api/k8s/clusters?search=web-shop'), 200);
  return list.data.clusters[0];
}

describe('the console on a cluster VirtFlow builds', () => {
  it('reaches the built cluster through its kubeconfig Secret and counts its real nodes', async () => {
    ok(
      await world.vf.call('POST', clusterPath(), {
        apiVersion: api,
        kind: 'K8sCluster',
        metadata: { name: 'web-shop', namespace: NS },
        spec: { version: 'v1.30.2', image: 'ubuntu', controlPlane: { replicas: 1, specification: 'small', group: 'general' } },
      }),
    );
    ok(
      await world.vf.call('POST', poolPath(), {
        apiVersion: api,
        kind: 'K8sNodePool',
        metadata: { name: 'web', namespace: NS },
        spec: { cluster: 'web-shop', replicas: 2, specification: 'small' },
      }),
    );
    await waitUntil(async () => {
      const status = ok(await world.vf.call('GET', clusterPath('web-shop')), 200).status;
      return status?.phase === 'Active' && status.kubeconfigSecret !== undefined;
    }, 'web-shop Active with its kubeconfig', 60_000);
    const built = ok(await world.vf.call('GET', clusterPath('web-shop')), 200);
    expect(built.status.apiServer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // The cluster's own API, with the kubeconfig VirtFlow keeps: a Node per replica.
    const secret = ok(await world.vf.call('GET', `/api/v1/namespaces/${NS}/secrets/${built.status.kubeconfigSecret}`), 200);
    const kc = new KubeConfig();
    kc.loadFromString(Buffer.from(secret.data.value, 'base64').toString('utf8'));
    const member = new ObjectClient(kc, { timeoutMs: 5_000 });
    await waitUntil(async () => (await member.list(Nodes)).items.length === 3, 'three Nodes in the built cluster', 30_000);
    // The first list checks it live: the counts come from the cluster, not from its phase.
    const listed = await consoleCluster();
    expect(listed).toMatchObject({ name: 'web-shop', source: 'built', status: 'online', node_count: 3, api_server: built.status.apiServer, version: 'v1.30.2' });
    id = listed.id;
    const status = ok(await world.vf.call('GET', `/api/k8s/clusters/status?id=${id}`), 200).data;
    expect(status).toMatchObject({ status: 'online', node_count: 3, version: 'v1.30.2' });
    const namespaces = ok(await world.vf.call('GET', `/api/k8s/namespaces?cluster_id=${id}`), 200).data;
    expect(JSON.stringify(namespaces)).toContain('kube-system');
  }, 90_000);

  it('follows a pool scaled up: the cluster gets a node more', async () => {
    ok(await world.vf.call('PATCH', poolPath('web'), { spec: { replicas: 3 } }, merge), 200);
    await waitUntil(async () => ok(await world.vf.call('GET', `/api/k8s/clusters/status?id=${id}`), 200).data.node_count === 4, 'four nodes in the console', 60_000);
  }, 90_000);

  it('shows the cluster offline once its API server stops answering', async () => {
    const cluster = ok(await world.vf.call('GET', clusterPath('web-shop')), 200);
    await world.sim.workloads!.halt(workloadNameOf(cluster.metadata.uid));
    const res = await world.vf.call('GET', `/api/k8s/clusters/status?id=${id}`);
    expect(res.status, res.text).toBe(503);
    expect(res.body).toMatchObject({ success: false, error_code: 'CONNECTION_ERROR' });
    expect(await consoleCluster()).toMatchObject({ id, status: 'offline' });
  }, 30_000);

  it('deleting it through the console tears its workload cluster down, database and all', async () => {
    const cluster = ok(await world.vf.call('GET', clusterPath('web-shop')), 200);
    const database = `${new URL(world.vf.databaseUrl).pathname.slice(1)}_cluster_${workloadNameOf(cluster.metadata.uid).replaceAll('-', '_')}`;
    const exists = async () => (await world.vf.db.query('SELECT 1 FROM pg_database WHERE datname = ?', [database])).length > 0;
    expect(await exists()).toBe(true);
    ok(await world.vf.call('POST', '/api/k8s/clusters/delete', { id }), 200);
    await waitUntil(async () => (await world.vf.call('GET', clusterPath('web-shop'))).status === 404, 'web-shop deleted', 60_000);
    await world.sim.workloads!.settled();
    expect(await exists()).toBe(false);
  }, 90_000);
});

// The simulated K8s Cluster Service with real workload clusters: each cluster it builds is a
// Kubernetes-compatible API server on a database of its own (on the run's PostgreSQL), whose
// Nodes follow the nodes the service reports Ready, whose kubeconfig works, which survives a
// restart of the simulator, and whose database is dropped when the cluster is deleted.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ClusterObservation, ClusterRequest } from '../../src/providers/cluster-protocol.js';
import { workloadNameOf } from '../../src/providers/simulator/cluster-service.js';
import { startSimulator, type SimulatorHandle } from '../../src/providers/simulator/index.js';
import { ObjectClient } from '../../src/runtime/client.js';
import { Deployments, Nodes, Pods } from '../../src/workload/controllers/common.js';
import { POOL_LABEL } from '../../src/workload/nodes.js';
import { waitUntil } from '../support/wait.js';

let home: string;
let sim: SimulatorHandle;
const uid = '3f0c1c6e-7d1a-4c1e-9d55-0a9a1b2c3d4e';

const request = (workers: number, revision = `r${workers}`): ClusterRequest => ({
  namespace: 'acme',
  name: 'prod',
  revision,
  version: 'v1.31.2',
  network: { cni: 'cilium' },
  plugins: [],
  serviceMeshes: [],
  nodes: [
    { name: 'prod-cp-1', role: 'ControlPlane', version: 'v1.31.2', address: '10.0.0.11' },
    ...Array.from({ length: workers }, (_, i) => ({ name: `prod-web-${i + 1}`, role: 'Worker' as const, version: 'v1.31.2', pool: 'web', labels: { tier: 'web' } })),
  ],
});

async function start(teardown = 20): Promise<SimulatorHandle> {
  return startSimulator({
    allowUnauthenticated: true,
    stateFile: path.join(home, 'simulator', 'state.json'),
    clusterLatencyMs: { bootstrap: 50, join: 20, drain: 20, teardown },
    workloadClusters: { databaseUrl: inject('postgresUrl'), home },
  });
}

async function call(method: string, body?: unknown): Promise<ClusterObservation> {
  const res = await fetch(`${sim.url}/v1/k8sclusters/${uid}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as ClusterObservation;
}

/** A client from the kubeconfig the service reports, as VirtFlow stores it in the cluster's Secret. */
function clientOf(observation: ClusterObservation): ObjectClient {
  const kc = new KubeConfig();
  kc.loadFromString(observation.kubeconfig!);
  return new ObjectClient(kc, { timeoutMs: 5_000 });
}

async function running(): Promise<ClusterObservation> {
  let last: ClusterObservation | undefined;
  await waitUntil(async () => {
    last = await call('GET');
    return last.phase === 'Running' && last.apiServer !== undefined && last.nodes.every((n) => n.state === 'Ready');
  }, 'the cluster Running with an API server', 60_000);
  return last!;
}

async function nodeNames(client: ObjectClient): Promise<string[]> {
  return (await client.list(Nodes)).items.map((n) => n.metadata.name!).sort();
}

async function databaseExists(name: string): Promise<boolean> {
  const admin = new pg.Client({ connectionString: inject('postgresUrl') });
  await admin.connect();
  try {
    return (await admin.query('SELECT 1 FROM pg_database WHERE datname LIKE $1', [`%_cluster_${name.replaceAll('-', '_')}`])).rowCount! > 0;
  } finally {
    await admin.end();
  }
}

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'virtflow-sim-workloads-'));
  sim = await start();
});

afterAll(async () => {
  await sim?.stop();
  await rm(home, { recursive: true, force: true });
});

describe('the simulated K8s Cluster Service with real workload clusters', () => {
  let first: ClusterObservation;

  it('starts a workload cluster once the control plane is up, its Nodes those that are Ready', async () => {
    await call('PUT', request(2));
    first = await running();
    expect(first.apiServer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(first.apiServer).not.toContain('cluster.invalid');
    expect(first.reachable).toBe(true);
    const client = clientOf(first);
    expect(await client.getPath<{ gitVersion: string }>('/version')).toMatchObject({ gitVersion: 'v1.31.2' });
    await waitUntil(async () => (await nodeNames(client)).length === 3, 'three Nodes');
    expect(await nodeNames(client)).toEqual(['prod-cp-1', 'prod-web-1', 'prod-web-2']);
    const cp = await client.get(Nodes, { name: 'prod-cp-1' });
    expect(cp.metadata.labels).toHaveProperty(['node-role.kubernetes.io/control-plane']);
    expect((cp.spec as any).taints).toEqual([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
    expect((cp.status as any).addresses[0]).toEqual({ type: 'InternalIP', address: '10.0.0.11' });
    const worker = await client.get(Nodes, { name: 'prod-web-1' });
    expect(worker.metadata.labels).toMatchObject({ [POOL_LABEL]: 'web', tier: 'web' });
    expect((worker.status as any).conditions[0]).toMatchObject({ type: 'Ready', status: 'True' });
  }, 90_000);

  it('adds Nodes when a pool grows and drains and removes them when it shrinks; pods move to the nodes left', async () => {
    const client = clientOf(first);
    await client.create(Deployments, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 4, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
    });
    await call('PUT', request(3));
    await waitUntil(async () => (await nodeNames(client)).includes('prod-web-3'), 'a third worker Node');
    const podNodes = async () => (await client.list(Pods, { namespace: 'default' })).items.map((p) => ({ node: (p.spec as any).nodeName, phase: (p.status as any)?.phase }));
    await waitUntil(async () => {
      const pods = await podNodes();
      return pods.length === 4 && pods.every((p) => p.phase === 'Running');
    }, 'four running pods');
    await call('PUT', request(1));
    await waitUntil(async () => (await nodeNames(client)).join() === 'prod-cp-1,prod-web-1', 'two Nodes left', 30_000);
    // The evicted pods were made again, on the worker that is left (the control plane is tainted).
    let seen: unknown;
    await waitUntil(async () => {
      const pods = await podNodes();
      seen = pods;
      return pods.length === 4 && pods.every((p) => p.node === 'prod-web-1' && p.phase === 'Running');
    }, 'the pods on prod-web-1', 30_000).catch((err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(seen)}`);
    });
  }, 90_000);

  it('keeps the cluster, its address, credentials and data across a restart of the simulator', async () => {
    const client = clientOf(first);
    await sim.stop();
    await expect(client.getPath('/version')).rejects.toThrow();
    sim = await start();
    const again = await running();
    expect(again.apiServer).toBe(first.apiServer);
    expect(again.kubeconfig).toBe(first.kubeconfig);
    await waitUntil(async () => (await client.getPath<{ gitVersion?: string }>('/version').catch(() => undefined))?.gitVersion === 'v1.31.2', 'the API server back');
    expect(await nodeNames(client)).toEqual(['prod-cp-1', 'prod-web-1']);
    expect((await client.get(Deployments, { namespace: 'default', name: 'web' })).metadata.name).toBe('web');
  }, 90_000);

  it('reports a cluster whose API server is down as unreachable', async () => {
    await sim.workloads!.halt(workloadNameOf(uid));
    const observed = await call('GET');
    expect(observed).toMatchObject({ phase: 'Running', reachable: false });
    expect(observed.apiServer).toBeUndefined();
    await expect(clientOf(first).getPath('/version')).rejects.toThrow();
  });

  it('tears the workload cluster down with the cluster, across a restart: its database is dropped', async () => {
    // Running again first, with a teardown slow enough to restart the simulator in its middle.
    await sim.stop();
    sim = await start(60_000);
    await running();
    expect(await databaseExists(workloadNameOf(uid))).toBe(true);
    expect((await call('DELETE')).phase).toBe('TearingDown');
    await sim.stop();
    sim = await start();
    await waitUntil(async () => (await call('GET')).exists === false, 'the cluster gone');
    await sim.workloads!.settled();
    expect(await databaseExists(workloadNameOf(uid))).toBe(false);
    await expect(clientOf(first).getPath('/version')).rejects.toThrow();
  }, 90_000);
});

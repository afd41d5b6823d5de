// A simulated workload cluster checked with kubectl itself, before the operations console
// relies on it: deployments that run and scale, a rollout restart, pod logs, a StatefulSet's
// ordinal pods with their claims, a DaemonSet per node, services with endpoints, and
// volumes, claims and storage classes.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startSimulatedCluster, type SimulatedCluster } from '../../src/workload/cluster.js';
import { eventually, runKubectl, yamlDocuments, type KubectlOptions } from '../support/kubectl.js';
import { expectFailure, expectOk, lines } from './support.js';

let cluster: SimulatedCluster;
let home: string;

async function kubectl(args: string[], opts: KubectlOptions = {}) {
  return runKubectl(args, { ...opts, env: { ...process.env, KUBECONFIG: cluster.kubeconfig, KUBECACHEDIR: path.join(home, 'kube-cache') } });
}

async function jsonOf(args: string[]): Promise<any> {
  return JSON.parse(expectOk(await kubectl([...args, '-o', 'json'])).stdout);
}

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'virtflow-workload-'));
  cluster = await startSimulatedCluster({ name: 'demo', home, databaseUrl: inject('postgresUrl'), nodes: 3, version: 'v1.30.2' });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await rm(home, { recursive: true, force: true });
});

describe('a simulated workload cluster, driven by kubectl', () => {
  it('reports its version and its ready nodes', async () => {
    const version = JSON.parse(expectOk(await kubectl(['version', '-o', 'json'])).stdout);
    expect(version.serverVersion.gitVersion).toBe('v1.30.2');
    const nodes = lines(expectOk(await kubectl(['get', 'nodes', '--no-headers'])).stdout);
    expect(nodes).toHaveLength(3);
    for (const node of nodes) expect(node).toMatch(/^demo-node-\d\s+Ready\s+\S+\s+v1\.30\.2$/);
  });

  it('runs a deployment, scales it, and restarts it with a new ReplicaSet', async () => {
    expectOk(await kubectl(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2']));
    expectOk(await kubectl(['rollout', 'status', 'deployment/web', '--timeout=30s']));
    let pods = await jsonOf(['get', 'pods', '-l', 'app=web']);
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) {
      expect(pod.status.phase).toBe('Running');
      expect(pod.spec.nodeName).toMatch(/^demo-node-\d$/);
    }
    expect(expectOk(await kubectl(['get', 'deployment', 'web', '--no-headers'])).stdout).toMatch(/^web\s+2\/2\s+2\s+2\s+/);

    expectOk(await kubectl(['scale', 'deployment/web', '--replicas=4']));
    expectOk(await kubectl(['rollout', 'status', 'deployment/web', '--timeout=30s']));
    pods = await jsonOf(['get', 'pods', '-l', 'app=web']);
    expect(pods.items.filter((p: any) => p.status?.phase === 'Running')).toHaveLength(4);

    const before = (await jsonOf(['get', 'replicasets', '-l', 'app=web'])).items.map((rs: any) => rs.metadata.name);
    expect(before).toHaveLength(1);
    expectOk(await kubectl(['rollout', 'restart', 'deployment/web']));
    expectOk(await kubectl(['rollout', 'status', 'deployment/web', '--timeout=30s']));
    const sets = (await jsonOf(['get', 'replicasets', '-l', 'app=web'])).items;
    expect(sets).toHaveLength(2);
    const fresh = sets.find((rs: any) => !before.includes(rs.metadata.name));
    expect(fresh.spec.replicas).toBe(4);
    expect(fresh.metadata.annotations['deployment.kubernetes.io/revision']).toBe('2');
    expect(sets.find((rs: any) => before.includes(rs.metadata.name)).spec.replicas).toBe(0);
    await eventually('the old pods to go', async () => {
      const live = (await jsonOf(['get', 'pods', '-l', 'app=web'])).items;
      return live.length === 4 && live.every((p: any) => p.metadata.labels['pod-template-hash'] === fresh.metadata.labels['pod-template-hash']) ? live : undefined;
    });
  });

  it('serves pod logs with a tail, and refuses a container the pod does not have', async () => {
    const pod = (await jsonOf(['get', 'pods', '-l', 'app=web'])).items[0].metadata.name;
    const all = lines(expectOk(await kubectl(['logs', pod])).stdout);
    expect(all.length).toBeGreaterThanOrEqual(1);
    expect(all[0]).toContain(`${pod} nginx GET`);
    const tail = lines(expectOk(await kubectl(['logs', pod, '--tail=1', '--timestamps'])).stdout);
    expect(tail).toHaveLength(1);
    expect(tail[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z \S+ nginx GET /);
    const refused = expectFailure(await kubectl(['logs', pod, '-c', 'sidecar']));
    expect(refused.stderr).toContain(`container sidecar is not valid for pod ${pod}`);
  });

  it('starts a StatefulSet in order with a claim per pod, and a DaemonSet on every node', async () => {
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'default' },
      spec: {
        replicas: 3,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'postgres', image: 'postgres:17' }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } } }],
      },
    };
    const ds = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'busybox' }] } },
      },
    };
    expectOk(await kubectl(['apply', '-f', '-'], { input: yamlDocuments([sts, ds]) }));
    expectOk(await kubectl(['rollout', 'status', 'statefulset/db', '--timeout=30s']));
    expectOk(await kubectl(['rollout', 'status', 'daemonset/agent', '--timeout=30s']));
    const dbPods = (await jsonOf(['get', 'pods', '-l', 'app=db'])).items.map((p: any) => p.metadata.name).sort();
    expect(dbPods).toEqual(['db-0', 'db-1', 'db-2']);
    const agentNodes = (await jsonOf(['get', 'pods', '-l', 'app=agent'])).items.map((p: any) => p.spec.nodeName).sort();
    expect(agentNodes).toEqual(['demo-node-1', 'demo-node-2', 'demo-node-3']);
    const claims = await eventually('every claim bound', async () => {
      const items = (await jsonOf(['get', 'pvc'])).items.filter((c: any) => c.metadata.name.startsWith('data-db-'));
      return items.length === 3 && items.every((c: any) => c.status?.phase === 'Bound') ? items : undefined;
    });
    expect(claims.map((c: any) => c.metadata.name).sort()).toEqual(['data-db-0', 'data-db-1', 'data-db-2']);

    expectOk(await kubectl(['scale', 'statefulset/db', '--replicas=1']));
    await eventually('db-1 and db-2 to go, highest first', async () => {
      const names = (await jsonOf(['get', 'pods', '-l', 'app=db'])).items.map((p: any) => p.metadata.name);
      return names.length === 1 && names[0] === 'db-0' ? names : undefined;
    });
  });

  it('gives a service a cluster IP and endpoints of its ready pods', async () => {
    expectOk(await kubectl(['expose', 'deployment', 'web', '--port=80', '--target-port=8080']));
    const endpoints = await eventually('endpoints for web', async () => {
      const ep = await kubectl(['get', 'endpoints', 'web', '-o', 'json']);
      if (ep.code !== 0) return undefined;
      const body = JSON.parse(ep.stdout);
      return body.subsets?.[0]?.addresses?.length === 4 ? body : undefined;
    });
    expect(endpoints.subsets[0].ports[0].port).toBe(8080);
    const svc = await jsonOf(['get', 'service', 'web']);
    expect(svc.spec.clusterIP).toMatch(/^10\.96\.\d+\.\d+$/);
  });

  it('binds claims to static volumes or new ones from the default class', async () => {
    const claims = [
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'static', namespace: 'default' }, spec: { storageClassName: '', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } } },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'dynamic', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '3Gi' } } } },
    ];
    expectOk(await kubectl(['apply', '-f', '-'], { input: yamlDocuments(claims) }));
    const bound = await eventually('both claims bound', async () => {
      const items = (await jsonOf(['get', 'pvc', 'static', 'dynamic'])).items;
      return items.every((c: any) => c.status?.phase === 'Bound') ? items : undefined;
    });
    expect(bound.find((c: any) => c.metadata.name === 'static').spec.volumeName).toBe('static-50gi');
    expect(bound.find((c: any) => c.metadata.name === 'dynamic').status.capacity.storage).toBe('3Gi');
    const table = expectOk(await kubectl(['get', 'pv,pvc,sc'])).stdout;
    expect(table).toMatch(/persistentvolume\/static-50gi\s+50Gi\s+RWO\s+Retain\s+Bound\s+default\/static/);
    expect(table).toMatch(/storageclass\.storage\.k8s\.io\/standard \(default\)\s+simulated\.virtflow\.io\/ceph-rbd\s+Delete\s+Immediate/);
  });
});

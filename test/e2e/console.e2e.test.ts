// The operations console end to end, as a new user meets it: the real `virtflow up` with its
// demo workload cluster, the demo imported through the console API, a deployment scaled and
// restarted, its pod logs read, a configmap and a namespace made and removed, the operations
// log read — and every change seen with kubectl against the demo cluster itself.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { eventually, runKubectl, startVirtflow, type VirtflowProcess } from '../support/kubectl.js';
import { expectFailure, expectOk } from './support.js';

let vf: VirtflowProcess;
let agent: Agent;
let token: string;
let demoKubeconfig: string;

async function api(method: 'GET' | 'POST', urlPath: string, body?: unknown): Promise<any> {
  const res = await request(`${vf.url}${urlPath}`, {
    method,
    dispatcher: agent,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const parsed = (await res.body.json()) as any;
  expect(parsed.success, JSON.stringify(parsed)).toBe(true);
  return parsed.data;
}

const demo = (args: string[]) => runKubectl(args, { env: { ...process.env, KUBECONFIG: demoKubeconfig, KUBECACHEDIR: path.join(vf.home, 'demo-kube-cache') } });

beforeAll(async () => {
  vf = await startVirtflow({ demoCluster: true });
  const kubeconfig = YAML.parse(await readFile(vf.kubeconfig, 'utf8'));
  token = kubeconfig.users[0].user.token;
  agent = new Agent({ connect: { ca: Buffer.from(kubeconfig.clusters[0].cluster['certificate-authority-data'], 'base64').toString() } });
  demoKubeconfig = path.join(vf.home, 'clusters', 'demo', 'kubeconfig');
  expect(vf.output()).toContain('demo workload cluster:');
}, 120_000);

afterAll(async () => {
  await agent?.close();
  await vf?.stop();
});

describe('the operations console against the demo cluster of virtflow up', () => {
  it('imports the demo cluster and operates on it, as kubectl sees', async () => {
    const kubeconfig = await readFile(demoKubeconfig, 'utf8');
    const server = YAML.parse(kubeconfig).clusters[0].cluster.server as string;
    // As docs/console.md does it: the kubeconfig names its server.
    const created = await api('POST', '/api/k8s/clusters', { name: 'demo', auth_type: 'kubeconfig', kubeconfig, description: 'the demo' });
    expect(created.cluster.api_server).toBe(server);
    const id = created.cluster.id as number;
    expect(created.cluster.status).toBe('online');
    const status = await api('GET', `/api/k8s/clusters/status?id=${id}`);
    expect(status.node_count).toBe(3);

    expectOk(await demo(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=1']));
    expectOk(await demo(['rollout', 'status', 'deployment/web', '--timeout=30s']));

    await api('POST', '/api/k8s/workloads/scale', { cluster_id: id, namespace: 'default', type: 'deployment', name: 'web', replicas: 3 });
    expectOk(await demo(['rollout', 'status', 'deployment/web', '--timeout=30s']));
    expect(expectOk(await demo(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('3');

    const before = expectOk(await demo(['get', 'replicasets', '-l', 'app=web', '-o', 'name'])).stdout.trim().split('\n');
    await api('POST', '/api/k8s/workloads/restart', { cluster_id: id, namespace: 'default', type: 'deployment', name: 'web' });
    expectOk(await demo(['rollout', 'status', 'deployment/web', '--timeout=30s']));
    const after = expectOk(await demo(['get', 'replicasets', '-l', 'app=web', '-o', 'name'])).stdout.trim().split('\n');
    expect(after.length).toBe(before.length + 1);

    const detail = await api('GET', `/api/k8s/workloads/detail?cluster_id=${id}&namespace=default&type=deployment&name=web`);
    const pod = detail.workload.pods[0].name as string;
    const logs = await api('GET', `/api/k8s/pods/logs?cluster_id=${id}&namespace=default&pod_name=${pod}&tail_lines=1`);
    expect(logs.logs.trim()).toBe(expectOk(await demo(['logs', pod, '--tail=1'])).stdout.trim());

    await api('POST', '/api/k8s/configmaps', { cluster_id: id, namespace: 'default', name: 'settings', data: { color: 'blue' } });
    expect(expectOk(await demo(['get', 'configmap', 'settings', '-o', 'jsonpath={.data.color}'])).stdout).toBe('blue');
    await api('POST', '/api/k8s/configmaps/delete', { cluster_id: id, namespace: 'default', name: 'settings' });
    expectFailure(await demo(['get', 'configmap', 'settings']));

    await api('POST', '/api/k8s/namespaces', { cluster_id: id, name: 'team-x' });
    expectOk(await demo(['get', 'namespace', 'team-x']));
    await api('POST', '/api/k8s/namespaces/delete', { cluster_id: id, namespace: 'team-x' });
    await eventually('team-x gone', async () => ((await demo(['get', 'namespace', 'team-x'])).code !== 0 ? true : undefined));

    const log = await api('GET', `/api/k8s/audit/operations?cluster_id=${id}&per_page=50`);
    expect(log.logs.map((l: any) => `${l.operation_type} ${l.resource_type} ${l.resource_name} ${l.status}`).reverse()).toEqual([
      'scale deployment web success',
      'restart deployment web success',
      'create configmap settings success',
      'delete configmap settings success',
      'create namespace team-x success',
      'delete namespace team-x success',
    ]);
    expect(log.logs.every((l: any) => l.username === 'admin')).toBe(true);
  });
});

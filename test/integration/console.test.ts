// The operations console API (seed 004) over real HTTPS, against a simulated workload cluster
// that is itself a real Kubernetes-compatible API server: every endpoint, the envelope and
// its error codes, an unreachable and a silent cluster, a wrong token, a forbidden caller,
// pagination and search, and the operations log.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newToken, registerToken } from '../../src/api/auth.js';
import { STATUS_WRITERS_GROUP } from '../../src/auth/external-controller-scope.js';
import { loadKubeConfig } from '../../src/cli/controllers.js';
import { ObjectClient } from '../../src/runtime/client.js';
import { startSimulatedCluster, type SimulatedCluster } from '../../src/workload/cluster.js';
import { Deployments, Pods } from '../../src/workload/controllers/common.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/kubectl.js';

let vf: TestServer;
let member: SimulatedCluster;
let memberApi: ObjectClient;
let home: string;
let kubeconfig: string;
let clusterId: number;

const get = (p: string, headers?: Record<string, string>) => vf.call('GET', p, undefined, headers);
const post = (p: string, body: unknown, headers?: Record<string, string>) => vf.call('POST', p, body, headers);

function expectSuccess(res: { status: number; body: any; text: string }, status = 200) {
  expect(res.status, res.text).toBe(status);
  expect(res.body.success).toBe(true);
  expect(typeof res.body.message).toBe('string');
  return res.body.data;
}

function expectError(res: { status: number; body: any; text: string }, code: string, status: number) {
  expect(res.status, res.text).toBe(status);
  expect(res.body).toMatchObject({ success: false, error_code: code });
  expect(typeof res.body.message).toBe('string');
  expect(typeof res.body.details).toBe('string');
  expect(Array.isArray(res.body.suggestions)).toBe(true);
  return res.body;
}

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'virtflow-console-'));
  vf = await startTestServer();
  member = await startSimulatedCluster({ name: 'member', home, databaseUrl: inject('postgresUrl'), nodes: 2, version: 'v1.31.4' });
  kubeconfig = await readFile(member.kubeconfig, 'utf8');
  memberApi = new ObjectClient(loadKubeConfig(member.kubeconfig));
}, 90_000);

afterAll(async () => {
  await member?.stop();
  await vf?.stop();
  await rm(home, { recursive: true, force: true });
});

describe('clusters', () => {
  it('registers a cluster by kubeconfig after testing it, and answers in the seed envelope', async () => {
    const data = expectSuccess(await post('/api/k8s/clusters', { name: 'prod', api_server: member.url, auth_type: 'kubeconfig', kubeconfig, description: 'production' }), 201);
    expect(data.cluster).toMatchObject({ name: 'prod', status: 'online', version: 'v1.31.4' });
    expect(Number.isInteger(data.cluster.id)).toBe(true);
    clusterId = data.cluster.id;
    // A K8sCluster record with its credentials in a Secret, not in the record.
    const record = await vf.call('GET', '/apis/virtflow.io/v1alpha1/namespaces/virtflow-system/k8sclusters/prod');
    expect(record.body.spec.import).toMatchObject({ authType: 'kubeconfig', credentialsSecret: 'prod-credentials' });
    expect(record.text).not.toContain(member.token);
  });

  it('registers a cluster by token with its CA, and keeps both ids stable', async () => {
    const data = expectSuccess(await post('/api/k8s/clusters', { name: 'prod-token', api_server: member.url, auth_type: 'token', token: member.token, ca_cert: member.caCert }), 201);
    expect(data.cluster.id).not.toBe(clusterId);
    const first = expectSuccess(await get('/api/k8s/clusters?per_page=50')).clusters;
    const second = expectSuccess(await get('/api/k8s/clusters?per_page=50')).clusters;
    expect(first.map((c: any) => [c.name, c.id])).toEqual(second.map((c: any) => [c.name, c.id]));
  });

  it('lists clusters with pagination and search', async () => {
    const page2 = expectSuccess(await get('/api/k8s/clusters?page=2&per_page=1'));
    expect(page2.clusters).toHaveLength(1);
    expect(page2.pagination).toEqual({ page: 2, per_page: 1, total: 2, pages: 2 });
    const found = expectSuccess(await get('/api/k8s/clusters?search=TOKEN'));
    expect(found.clusters.map((c: any) => c.name)).toEqual(['prod-token']);
    expect(found.clusters[0]).toMatchObject({ api_server: member.url, auth_type: 'token', status: 'online' });
  });

  it('reads a live status with node, pod and namespace counts', async () => {
    const data = expectSuccess(await get(`/api/k8s/clusters/status?id=${clusterId}`));
    expect(data).toMatchObject({ id: clusterId, status: 'online', version: 'v1.31.4', node_count: 2 });
    expect(data.namespace_count).toBeGreaterThanOrEqual(4);
  });

  it('updates a cluster\'s name and description, and tests saved and new credentials', async () => {
    const updated = expectSuccess(await post('/api/k8s/clusters/update', { id: clusterId, name: 'production', description: 'renamed' }));
    expect(updated.cluster).toMatchObject({ id: clusterId, name: 'production', description: 'renamed' });
    expect(expectSuccess(await post('/api/k8s/clusters/test', { id: clusterId }))).toMatchObject({ status: 'online', node_count: 2 });
    expect(expectSuccess(await post('/api/k8s/clusters/test', { api_server: member.url, auth_type: 'kubeconfig', kubeconfig }))).toMatchObject({ status: 'online' });
  });

  it('refuses what is malformed, naming the parameter', async () => {
    expect(expectError(await get('/api/k8s/clusters/status'), 'VALIDATION_ERROR', 400).message).toContain('id');
    expect(expectError(await get('/api/k8s/clusters?per_page=abc'), 'VALIDATION_ERROR', 400).message).toContain('per_page');
    expect(expectError(await get('/api/k8s/clusters?per_page=100000'), 'VALIDATION_ERROR', 400).message).toContain('per_page');
    expect(expectError(await post('/api/k8s/clusters', '{"name":', {}), 'VALIDATION_ERROR', 400).message).toContain('JSON');
    expect(expectError(await post('/api/k8s/clusters', [1, 2]), 'VALIDATION_ERROR', 400).message).toContain('object');
    expect(expectError(await post('/api/k8s/clusters', { name: 'Bad_Name', api_server: member.url, auth_type: 'token', token: 'x' }), 'VALIDATION_ERROR', 400).message).toContain('name');
    expect(expectError(await post('/api/k8s/clusters', { name: 'plain', api_server: 'http://127.0.0.1:1', auth_type: 'token', token: 'x' }), 'VALIDATION_ERROR', 400).message).toContain('https');
    const exec = kubeconfig.replace(/token: .*/, 'exec: {command: /bin/sh, args: ["-c", "touch /tmp/pwned"], apiVersion: client.authentication.k8s.io/v1}');
    expect(expectError(await post('/api/k8s/clusters/test', { auth_type: 'kubeconfig', kubeconfig: exec }), 'VALIDATION_ERROR', 400).message).toContain('exec');
    expectError(await get('/api/k8s/clusters/status?id=99999'), 'RESOURCE_NOT_FOUND', 404);
    expectError(await get('/api/k8s/nothing-here'), 'RESOURCE_NOT_FOUND', 404);
    expect(expectError(await vf.call('DELETE', '/api/k8s/clusters'), 'VALIDATION_ERROR', 400).message).toContain('POST');
  });

  it('reports an unreachable cluster as CONNECTION_ERROR, a wrong token as AUTHENTICATION_ERROR', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const down = expectError(await post('/api/k8s/clusters/test', { api_server: `https://127.0.0.1:${closed}`, auth_type: 'token', token: 'x', insecure_skip_tls_verify: true }), 'CONNECTION_ERROR', 503);
    expect(down.suggestions.join(' ')).toMatch(/reachable|accept connections/);
    const wrong = expectError(await post('/api/k8s/clusters/test', { api_server: member.url, auth_type: 'token', token: 'not-the-token', ca_cert: member.caCert }), 'AUTHENTICATION_ERROR', 401);
    expect(wrong.suggestions.join(' ')).toContain('token');
    // A cluster that is not created when it cannot be reached.
    expectError(await post('/api/k8s/clusters', { name: 'ghost', api_server: `https://127.0.0.1:${closed}`, auth_type: 'token', token: 'x', insecure_skip_tls_verify: true }), 'CONNECTION_ERROR', 503);
    expect((await vf.call('GET', '/apis/virtflow.io/v1alpha1/namespaces/virtflow-system/k8sclusters/ghost')).status).toBe(404);
  });

  it('answers TIMEOUT_ERROR, never hangs, when a cluster accepts but does not answer', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const started = Date.now();
      const res = expectError(await post('/api/k8s/clusters/test', { api_server: `https://127.0.0.1:${port}`, auth_type: 'token', token: 'x', insecure_skip_tls_verify: true }), 'TIMEOUT_ERROR', 504);
      expect(res.message).toContain('did not answer in 10 s');
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  }, 30_000);

  it('refuses a caller without a valid token, and one whose role may not change clusters', async () => {
    expectError(await get('/api/k8s/clusters', { authorization: 'Bearer nope' }), 'AUTHENTICATION_ERROR', 401);
    const token = newToken();
    await registerToken(vf.db, token, { username: 'reporter', groups: [STATUS_WRITERS_GROUP] });
    const denied = expectError(await post('/api/k8s/namespaces', { cluster_id: clusterId, name: 'x' }, { authorization: `Bearer ${token}` }), 'PERMISSION_DENIED', 403);
    expect(denied.details).toContain('reporter');
  });
});

describe('a member cluster\'s resources', () => {
  it('creates, lists and deletes namespaces, as kubectl sees them', async () => {
    expectSuccess(await post('/api/k8s/namespaces', { cluster_id: clusterId, name: 'team-a' }), 201);
    const listed = expectSuccess(await get(`/api/k8s/namespaces?cluster_id=${clusterId}&search=team`));
    expect(listed.namespaces.map((n: any) => n.name)).toEqual(['team-a']);
    expect((await memberApi.get({ group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false }, { name: 'team-a' })).metadata.name).toBe('team-a');
    expectError(await post('/api/k8s/namespaces', { cluster_id: clusterId, name: 'team-a' }), 'CONFLICT_ERROR', 409);
    expectSuccess(await post('/api/k8s/namespaces/delete', { cluster_id: clusterId, namespace: 'team-a' }));
    expectError(await post('/api/k8s/namespaces/delete', { cluster_id: clusterId, namespace: 'kube-system' }), 'VALIDATION_ERROR', 400);
  });

  it('lists, details, scales and restarts workloads, and reads pod logs', async () => {
    await memberApi.create(Deployments, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'shop', namespace: 'default' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'shop' } }, template: { metadata: { labels: { app: 'shop' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
    });
    await eventually('shop ready', async () => {
      const list = expectSuccess(await get(`/api/k8s/workloads?cluster_id=${clusterId}&namespace=default&type=deployment`));
      return list.workloads.find((w: any) => w.name === 'shop' && w.ready_replicas === 1);
    });
    const detail = expectSuccess(await get(`/api/k8s/workloads/detail?cluster_id=${clusterId}&namespace=default&type=deployment&name=shop`)).workload;
    expect(detail).toMatchObject({ name: 'shop', type: 'deployment', replicas: 1, images: ['nginx:1.27'] });
    expect(detail.pods).toHaveLength(1);

    expectSuccess(await post('/api/k8s/workloads/scale', { cluster_id: clusterId, namespace: 'default', type: 'deployment', name: 'shop', replicas: 3 }));
    expect((await memberApi.get<any>(Deployments, { namespace: 'default', name: 'shop' })).spec.replicas).toBe(3);
    await eventually('three shop pods', async () => {
      const pods = (await memberApi.list(Pods, { namespace: 'default', labelSelector: 'app=shop' })).items;
      return pods.length === 3 ? pods : undefined;
    });
    expectError(await post('/api/k8s/workloads/scale', { cluster_id: clusterId, namespace: 'default', type: 'deployment', name: 'shop', replicas: -1 }), 'VALIDATION_ERROR', 400);
    expectError(await post('/api/k8s/workloads/scale', { cluster_id: clusterId, namespace: 'default', type: 'deployment', name: 'absent', replicas: 1 }), 'RESOURCE_NOT_FOUND', 404);

    const restarted = expectSuccess(await post('/api/k8s/workloads/restart', { cluster_id: clusterId, namespace: 'default', type: 'deployment', name: 'shop' }));
    const after = await memberApi.get<any>(Deployments, { namespace: 'default', name: 'shop' });
    expect(after.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBe(restarted.restarted_at);

    const pod = detail.pods[0].name;
    const logs = expectSuccess(await get(`/api/k8s/pods/logs?cluster_id=${clusterId}&namespace=default&pod_name=${pod}&tail_lines=1`));
    expect(logs.lines).toBe(1);
    expect(logs.logs).toContain(`${pod} web GET`);
    expectError(await get(`/api/k8s/pods/logs?cluster_id=${clusterId}&namespace=default&pod_name=${pod}&container=nope`), 'VALIDATION_ERROR', 400);
  });

  it('lists services by type with their endpoints, and ingresses', async () => {
    const services = { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true };
    await memberApi.create(services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'shop', namespace: 'default' }, spec: { type: 'NodePort', selector: { app: 'shop' }, ports: [{ port: 80, targetPort: 8080 }] } });
    await memberApi.create({ group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', kind: 'Ingress', namespaced: true }, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'shop', namespace: 'default' },
      spec: { rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'shop', port: { number: 80 } } } }] } }] },
    });
    const nodePorts = expectSuccess(await get(`/api/k8s/services?cluster_id=${clusterId}&namespace=default&type=NodePort`));
    expect(nodePorts.services.map((s: any) => s.name)).toEqual(['shop']);
    expect(nodePorts.services[0].ports[0]).toMatchObject({ port: 80, target_port: 8080 });
    expect(expectSuccess(await get(`/api/k8s/services?cluster_id=${clusterId}&namespace=default&type=LoadBalancer`)).services).toEqual([]);
    const endpoints = await eventually('shop endpoints', async () => {
      const res = await get(`/api/k8s/services/endpoints?cluster_id=${clusterId}&namespace=default&name=shop`);
      return res.status === 200 && res.body.data.subsets[0]?.addresses.length === 3 ? res.body.data : undefined;
    });
    expect(endpoints.subsets[0].ports[0].port).toBe(8080);
    const ingresses = expectSuccess(await get(`/api/k8s/ingresses?cluster_id=${clusterId}&namespace=default`));
    expect(ingresses.ingresses[0]).toMatchObject({ name: 'shop', hosts: ['shop.example.com'] });
    expect(ingresses.ingresses[0].rules[0].paths[0]).toMatchObject({ path: '/', service: 'shop', port: 80 });
  });

  it('creates, lists and deletes configmaps and secrets, never returning secret values', async () => {
    expectSuccess(await post('/api/k8s/configmaps', { cluster_id: clusterId, namespace: 'default', name: 'app-config', data: { mode: 'fast' } }), 201);
    expectSuccess(await post('/api/k8s/secrets', { cluster_id: clusterId, namespace: 'default', name: 'app-secret', data: { password: 'hunter2-very-secret' } }), 201);
    const maps = expectSuccess(await get(`/api/k8s/configmaps?cluster_id=${clusterId}&namespace=default`));
    expect(maps.configmaps.find((c: any) => c.name === 'app-config')).toMatchObject({ data: { mode: 'fast' }, keys: ['mode'] });
    const secrets = await get(`/api/k8s/secrets?cluster_id=${clusterId}&namespace=default`);
    expect(expectSuccess(secrets).secrets.find((s: any) => s.name === 'app-secret')).toMatchObject({ keys: ['password'], type: 'Opaque' });
    expect(secrets.text).not.toContain('hunter2');
    expect(secrets.text).not.toContain(Buffer.from('hunter2-very-secret').toString('base64'));
    const stored = await memberApi.get<any>({ group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true }, { namespace: 'default', name: 'app-secret' });
    expect(Buffer.from(stored.data.password, 'base64').toString()).toBe('hunter2-very-secret');
    expectError(await post('/api/k8s/configmaps', { cluster_id: clusterId, namespace: 'default', name: 'bad', data: { k: 1 } }), 'VALIDATION_ERROR', 400);
    expectSuccess(await post('/api/k8s/configmaps/delete', { cluster_id: clusterId, namespace: 'default', name: 'app-config' }));
    expectSuccess(await post('/api/k8s/secrets/delete', { cluster_id: clusterId, namespace: 'default', name: 'app-secret' }));
    expectError(await post('/api/k8s/secrets/delete', { cluster_id: clusterId, namespace: 'default', name: 'app-secret' }), 'RESOURCE_NOT_FOUND', 404);
  });

  it('lists volumes by status, claims and storage classes', async () => {
    const claims = { group: '', version: 'v1', plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true };
    await memberApi.create(claims, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } } });
    const bound = await eventually('the claim bound', async () => {
      const list = expectSuccess(await get(`/api/k8s/persistent-volume-claims?cluster_id=${clusterId}&namespace=default`));
      return list.persistent_volume_claims.find((c: any) => c.name === 'data' && c.status === 'Bound');
    });
    expect(bound).toMatchObject({ capacity: '2Gi', storage_class: 'standard' });
    const available = expectSuccess(await get(`/api/k8s/persistent-volumes?cluster_id=${clusterId}&status=Available`));
    expect(available.persistent_volumes.every((v: any) => v.status === 'Available')).toBe(true);
    expect(available.persistent_volumes.map((v: any) => v.name)).toContain('static-10gi');
    const boundVolumes = expectSuccess(await get(`/api/k8s/persistent-volumes?cluster_id=${clusterId}&status=Bound`));
    expect(boundVolumes.persistent_volumes.map((v: any) => v.claim)).toContain('default/data');
    const classes = expectSuccess(await get(`/api/k8s/storage-classes?cluster_id=${clusterId}`));
    expect(classes.storage_classes).toEqual([expect.objectContaining({ name: 'standard', is_default: true, reclaim_policy: 'Delete' })]);
  });
});

describe('the operations log and the OpenAPI document', () => {
  it('records who did what, with filters and pagination', async () => {
    const scales = expectSuccess(await get('/api/k8s/audit/operations?operation_type=scale'));
    // Newest first; a refused parameter (replicas -1) never reached the cluster and is not an operation.
    expect(scales.logs.map((l: any) => [l.username, l.operation_type, l.resource_type, l.resource_name, l.namespace, l.status, l.cluster_id])).toEqual([
      ['admin', 'scale', 'deployment', 'absent', 'default', 'failed', clusterId],
      ['admin', 'scale', 'deployment', 'shop', 'default', 'success', clusterId],
    ]);
    expect(scales.logs.filter((l: any) => l.status === 'success').map((l: any) => l.resource_name)).toEqual(['shop']);
    const failed = expectSuccess(await get(`/api/k8s/audit/operations?cluster_id=${clusterId}&status=failed&per_page=100`));
    expect(failed.logs.length).toBeGreaterThanOrEqual(2);
    expect(failed.logs.every((l: any) => l.status === 'failed' && l.cluster_id === clusterId)).toBe(true);
    const secrets = expectSuccess(await get('/api/k8s/audit/operations?resource_type=secret'));
    expect(secrets.logs.map((l: any) => l.operation_type).sort()).toEqual(['create', 'delete', 'delete']);
    const pageOne = expectSuccess(await get('/api/k8s/audit/operations?per_page=2'));
    expect(pageOne.logs).toHaveLength(2);
    expect(pageOne.pagination.total).toBeGreaterThan(2);
  });

  it('serves an OpenAPI document naming every endpoint', async () => {
    const res = await get('/api/k8s/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.0.3');
    for (const p of ['/api/k8s/clusters', '/api/k8s/workloads/scale', '/api/k8s/pods/logs', '/api/k8s/audit/operations', '/api/k8s/storage-classes']) {
      expect(Object.keys(res.body.paths)).toContain(p);
    }
    const committed = JSON.parse(await readFile(path.join(import.meta.dirname, '../../docs/console-openapi.json'), 'utf8'));
    expect(committed).toEqual(res.body);
  });

  it('deletes a cluster and its console Secret', async () => {
    const list = expectSuccess(await get('/api/k8s/clusters?search=prod-token')).clusters;
    expectSuccess(await post('/api/k8s/clusters/delete', { id: list[0].id }));
    expect((await vf.call('GET', '/api/v1/namespaces/virtflow-system/secrets/prod-token-credentials')).status).toBe(404);
    expectError(await get(`/api/k8s/clusters/status?id=${list[0].id}`), 'RESOURCE_NOT_FOUND', 404);
  });
});

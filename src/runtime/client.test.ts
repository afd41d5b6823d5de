import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/support/server.js';
import type { KubeObject } from '../machinery/object.js';
import { isAlreadyExists, isConflict, isNotFound, type ObjectClient } from './client.js';
import { ConfigMaps, Namespaces } from './resource.js';
import { clientFor, installWidgets, Widgets } from './test-fixtures.js';

let vf: TestServer;
let client: ObjectClient;
beforeAll(async () => {
  vf = await startTestServer();
  client = clientFor(vf.kubeconfig);
});
afterAll(async () => {
  await vf?.stop();
});

describe('ObjectClient', () => {
  it('creates, reads, patches, replaces and deletes a core object as plain JSON', async () => {
    const created = await client.create<KubeObject>(ConfigMaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c1', namespace: 'default' },
      data: { a: '1' },
    });
    expect(typeof created.metadata.creationTimestamp).toBe('string');
    const got = await client.get<KubeObject & { data: Record<string, string> }>(ConfigMaps, { namespace: 'default', name: 'c1' });
    expect(got.data).toEqual({ a: '1' });
    const patched = await client.patch<KubeObject & { data: Record<string, string> }>(
      ConfigMaps,
      { namespace: 'default', name: 'c1' },
      'merge',
      { data: { b: '2' } },
    );
    expect(patched.data).toEqual({ a: '1', b: '2' });
    const stale = { ...created, data: { c: '3' } };
    await expect(client.replace(ConfigMaps, stale)).rejects.toSatisfy(isConflict);
    const again = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1', namespace: 'default' } };
    await expect(client.create(ConfigMaps, again)).rejects.toSatisfy(isAlreadyExists);
    await client.delete(ConfigMaps, { namespace: 'default', name: 'c1' });
    expect(await client.find(ConfigMaps, { namespace: 'default', name: 'c1' })).toBeUndefined();
    await expect(client.get(ConfigMaps, { namespace: 'default', name: 'c1' })).rejects.toSatisfy(isNotFound);
  });

  it('lists cluster-scoped objects and pages through a namespaced list', async () => {
    const namespaces = await client.list(Namespaces);
    expect(namespaces.items.map((n) => n.metadata.name)).toContain('default');
    for (const name of ['p1', 'p2', 'p3']) {
      await client.create(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', labels: { page: 'yes' } } });
    }
    const first = await client.list(ConfigMaps, { namespace: 'default', labelSelector: 'page=yes', limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.metadata.continue).toBeTruthy();
    const rest = await client.list(ConfigMaps, { namespace: 'default', labelSelector: 'page=yes', continue: first.metadata.continue });
    expect(rest.items.map((i) => i.metadata.name)).toEqual(['p3']);
  });

  it('writes a custom resource status only through the status subresource', async () => {
    await installWidgets(client);
    const w = await client.create(Widgets, {
      apiVersion: 'test.virtflow.io/v1',
      kind: 'Widget',
      metadata: { name: 'w1', namespace: 'default' },
      spec: { size: 1 },
    });
    const withStatus = await client.replaceStatus(Widgets, { ...w, spec: { size: 99 }, status: { phase: 'Ready' } });
    expect(withStatus.status).toEqual({ phase: 'Ready' });
    expect(withStatus.spec).toEqual({ size: 1 });
    const patched = await client.patch(Widgets, { namespace: 'default', name: 'w1' }, 'merge', { status: { phase: 'Gone' } }, { subresource: 'status' });
    expect(patched.status).toEqual({ phase: 'Gone' });
  });
});

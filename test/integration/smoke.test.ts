import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let vf: TestServer;
beforeAll(async () => {
  vf = await startTestServer();
});
afterAll(async () => {
  await vf?.stop();
});

describe('the API server over HTTPS', () => {
  it('answers /version without a token and refuses resources without one', async () => {
    const version = await vf.call('GET', '/version', undefined, { authorization: '' });
    expect(version.status).toBe(200);
    expect(version.body.major).toBe('1');
    const refused = await vf.call('GET', '/api/v1/namespaces', undefined, { authorization: '' });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it('creates a ConfigMap, reads it back and lists it with a resourceVersion', async () => {
    const created = await vf.call('POST', '/api/v1/namespaces/default/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'smoke' },
      data: { a: '1' },
    });
    expect(created.status).toBe(201);
    expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    const got = await vf.call('GET', '/api/v1/namespaces/default/configmaps/smoke');
    expect(got.body.data).toEqual({ a: '1' });
    const list = await vf.call('GET', '/api/v1/namespaces/default/configmaps');
    expect(list.body.kind).toBe('ConfigMapList');
    expect(Number(list.body.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(created.body.metadata.resourceVersion));
    expect(list.body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toContain('smoke');
  });
});

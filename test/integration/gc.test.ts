// Garbage collection through ownerReferences, for each propagation policy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

let vf: TestServer;
beforeAll(async () => {
  vf = await startTestServer();
});
afterAll(async () => {
  await vf?.stop();
});

const cmPath = (name = '') => `/api/v1/namespaces/default/configmaps${name ? `/${name}` : ''}`;

async function makeOwnerWithDependent(owner: string, dependent: string, blockOwnerDeletion = false) {
  const created = await vf.call('POST', cmPath(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: owner } });
  expect(created.status).toBe(201);
  const dep = await vf.call('POST', cmPath(), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: dependent,
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner, uid: created.body.metadata.uid, blockOwnerDeletion }],
    },
  });
  expect(dep.status).toBe(201);
  return created.body.metadata.uid as string;
}

const exists = async (name: string) => (await vf.call('GET', cmPath(name))).status === 200;

describe('garbage collection', () => {
  it('deletes a dependent in the background once its only owner is deleted', async () => {
    await makeOwnerWithDependent('bg-owner', 'bg-dep');
    const del = await vf.call('DELETE', cmPath('bg-owner'), { propagationPolicy: 'Background' });
    expect(del.status).toBe(200);
    expect(await exists('bg-owner')).toBe(false);
    await waitUntil(async () => !(await exists('bg-dep')), 'dependent deleted');
  });

  it('keeps a dependent that still has another owner, dropping the reference to the gone one', async () => {
    const a = await vf.call('POST', cmPath(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'two-a' } });
    const b = await vf.call('POST', cmPath(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'two-b' } });
    await vf.call('POST', cmPath(), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'two-dep',
        ownerReferences: [
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'two-a', uid: a.body.metadata.uid },
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'two-b', uid: b.body.metadata.uid },
        ],
      },
    });
    await vf.call('DELETE', cmPath('two-a'));
    await waitUntil(async () => {
      const dep = await vf.call('GET', cmPath('two-dep'));
      return dep.status === 200 && dep.body.metadata.ownerReferences?.length === 1;
    }, 'reference to the deleted owner dropped');
    const dep = await vf.call('GET', cmPath('two-dep'));
    expect(dep.body.metadata.ownerReferences[0].name).toBe('two-b');
  });

  it('holds a foreground-deleted owner until its dependents are gone', async () => {
    await makeOwnerWithDependent('fg-owner', 'fg-dep', true);
    const del = await vf.call('DELETE', cmPath('fg-owner'), { propagationPolicy: 'Foreground' });
    expect(del.status).toBe(200);
    expect(del.body.metadata.finalizers).toContain('foregroundDeletion');
    expect(del.body.metadata.deletionTimestamp).toBeTruthy();
    await waitUntil(async () => !(await exists('fg-owner')), 'owner deleted after dependents');
    expect(await exists('fg-dep')).toBe(false);
  });

  it('orphans dependents when asked, removing only the owner reference', async () => {
    await makeOwnerWithDependent('or-owner', 'or-dep');
    const del = await vf.call('DELETE', `${cmPath('or-owner')}?propagationPolicy=Orphan`);
    expect(del.status).toBe(200);
    await waitUntil(async () => !(await exists('or-owner')), 'owner deleted');
    const dep = await vf.call('GET', cmPath('or-dep'));
    expect(dep.status).toBe(200);
    expect(dep.body.metadata.ownerReferences).toBeUndefined();
  });

  it('collects a dependent created with a reference to an owner that does not exist, but not one whose owner kind is not served', async () => {
    const dangling = await vf.call('POST', cmPath(), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'dangling', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'never-was', uid: '00000000-0000-0000-0000-00000000dead' }] },
    });
    expect(dangling.status).toBe(201);
    const unknown = await vf.call('POST', cmPath(), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'unknown-kind', ownerReferences: [{ apiVersion: 'later.example.com/v1', kind: 'Thing', name: 'x', uid: '00000000-0000-0000-0000-00000000beef' }] },
    });
    expect(unknown.status).toBe(201);
    await waitUntil(async () => !(await exists('dangling')), 'dependent of a missing owner collected');
    // The collector has looked at the other one as well by now (one run handles both).
    expect(await exists('unknown-kind')).toBe(true);
  });

  it('collects the dependents of many owners deleted at once', async () => {
    const owners: string[] = [];
    for (let i = 0; i < 30; i++) owners.push(await makeOwnerWithDependent(`many-owner-${i}`, `many-dep-${i}`).then(() => `many-owner-${i}`));
    await Promise.all(owners.map((name) => vf.call('DELETE', cmPath(name))));
    await waitUntil(async () => {
      const list = await vf.call('GET', cmPath());
      return !list.body.items.some((i: { metadata: { name: string } }) => i.metadata.name.startsWith('many-'));
    }, 'every dependent collected');
  });

  it('collects dependents whose owner went while no server was running', async () => {
    const uid = await makeOwnerWithDependent('down-owner', 'down-dep');
    const dbUrl = vf.db.url;
    await vf.stop();
    // A server without a collector deletes the owner and stops before anyone collects.
    const withoutGc = await startTestServer({ databaseUrl: dbUrl, garbageCollector: false });
    expect((await withoutGc.call('DELETE', cmPath('down-owner'))).status).toBe(200);
    expect((await withoutGc.call('GET', cmPath('down-dep'))).status).toBe(200);
    await withoutGc.stop();
    vf = await startTestServer({ databaseUrl: dbUrl });
    expect(uid).toBeTruthy();
    expect(await exists('down-owner')).toBe(false);
    await waitUntil(async () => !(await exists('down-dep')), 'orphaned dependent collected after restart');
  });
});

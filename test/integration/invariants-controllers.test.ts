// What the controllers keep true, through real HTTP with the simulator: a flavor in use is
// not deleted, a placed VM whose references went says so, quotas alert near and over their
// limits and print percent limits as quantities, a host learns its units do not fit once its
// rack arrives, and a deleted tenant leaves nothing behind (its quotas and namespace go).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait.js';
import { GROUP, NS, condition, ok, startWorld, type World } from './lifecycle-harness.js';

let w: World;

beforeAll(async () => {
  w = await startWorld();
});

afterAll(async () => {
  await w?.stop();
});

const MERGE = { 'content-type': 'application/merge-patch+json' };
const running = (vm: any) => vm.status?.phase === 'Running' && condition(vm, 'Ready')?.status === 'True';
const api = 'virtflow.io/v1alpha1';

async function get(path: string): Promise<any | undefined> {
  const res = await w.vf.call('GET', path);
  return res.status === 404 ? undefined : ok(res, 200);
}

async function waitFor(path: string, what: string, check: (obj: any) => boolean): Promise<any> {
  let last: any;
  await waitUntil(async () => check((last = await get(path))), what).catch((err) => {
    throw new Error(`${(err as Error).message}\nlast: ${JSON.stringify(last?.status ?? last?.metadata, null, 1)}`);
  });
  return last;
}

describe('a VirtualMachineSpecification in use', () => {
  it('is held while VMs use it, with a condition naming them, and goes once they are gone', async () => {
    ok(await w.vf.call('POST', `${GROUP}/virtualmachinespecifications`, { apiVersion: api, kind: 'VirtualMachineSpecification', metadata: { name: 'medium' }, spec: { cpu: 4, memory: '8Gi', storage: '40Gi' } }));
    await waitFor(`${GROUP}/virtualmachinespecifications/medium`, 'the finalizer', (s) => s?.metadata.finalizers?.includes('virtflow.io/specification-protection'));
    await w.createVm('uses-medium', { specification: 'medium' });
    await w.waitVm('uses-medium', 'Running', running);
    ok(await w.vf.call('DELETE', `${GROUP}/virtualmachinespecifications/medium`), 200);
    const held = await waitFor(`${GROUP}/virtualmachinespecifications/medium`, 'the deletion held', (s) => condition(s, 'InUse')?.status === 'True');
    expect(held.metadata.deletionTimestamp).toBeDefined();
    expect(condition(held, 'InUse').message).toBe('Deletion waits until no VM uses this flavor: 1 VirtualMachine(s) remain (acme/uses-medium).');
    // Re-creating it with other sizes is no way round the rule: it still exists.
    const again = await w.vf.call('POST', `${GROUP}/virtualmachinespecifications`, { apiVersion: api, kind: 'VirtualMachineSpecification', metadata: { name: 'medium' }, spec: { cpu: 64, memory: '8Gi', storage: '40Gi' } });
    expect(again.status).toBe(409);
    expect(running(await w.getVm('uses-medium'))).toBe(true);
    await w.deleteVm('uses-medium');
    await w.waitGone('uses-medium');
    await waitFor(`${GROUP}/virtualmachinespecifications/medium`, 'the flavor gone', (s) => s === undefined);
  });
});

describe('a running VM whose references go', () => {
  it('turns ReferencesResolved False naming its deleted cluster and image, and keeps running', async () => {
    ok(await w.vf.call('POST', `${GROUP}/namespaces/${NS}/k8sclusters`, { apiVersion: api, kind: 'K8sCluster', metadata: { name: 'c1', namespace: NS }, spec: { version: 'v1.30.2' } }));
    ok(await w.vf.call('POST', `${GROUP}/virtualmachineimages`, { apiVersion: api, kind: 'VirtualMachineImage', metadata: { name: 'rocky' }, spec: { os: { family: 'rocky', version: '9' }, source: { url: 'https://images.example/rocky.qcow2' }, format: 'qcow2' } }));
    await w.createVm('in-cluster', { cluster: 'c1', image: 'rocky', role: 'Worker' });
    const vm = await w.waitVm('in-cluster', 'Running', running);
    expect(condition(vm, 'ReferencesResolved').status).toBe('True');
    ok(await w.vf.call('DELETE', `${GROUP}/namespaces/${NS}/k8sclusters/c1`), 200);
    ok(await w.vf.call('DELETE', `${GROUP}/virtualmachineimages/rocky`), 200);
    const broken = await w.waitVm('in-cluster', 'references reported missing', (v) => condition(v, 'ReferencesResolved')?.message?.includes('K8sCluster') && condition(v, 'ReferencesResolved')?.message?.includes('rocky'));
    expect(condition(broken, 'ReferencesResolved')).toMatchObject({
      status: 'False',
      reason: 'ReferencesDeleted',
      message: 'VirtualMachineImage "rocky", K8sCluster "c1" no longer exist; the VM keeps what it was placed with.',
    });
    expect(broken.status.phase).toBe('Running');
    await w.deleteVm('in-cluster');
    await w.waitGone('in-cluster');
  });
});

describe('TenantQuota alerts and figures', () => {
  it('is NearLimit at its threshold and Exceeded when a limit is lowered under usage, with Warning Events', async () => {
    await w.createVm('q-1');
    await w.waitVm('q-1', 'Running', running);
    // 2 of 4 cores: 50%, at a threshold of 50%.
    ok(await w.vf.call('PATCH', `${GROUP}/tenantquotas/acme-general`, { spec: { limits: { cpu: 4 }, nearLimitPercent: 50 } }, MERGE), 200);
    const near = await waitFor(`${GROUP}/tenantquotas/acme-general`, 'NearLimit', (q) => condition(q, 'NearLimit')?.status === 'True');
    expect(condition(near, 'NearLimit').message).toBe('Usage has reached 50% of the limit: cpu 2 of 4 (50%).');
    expect(condition(near, 'Exceeded').status).toBe('False');
    expect(condition(near, 'Ready')).toMatchObject({ status: 'True', reason: 'QuotaNearLimit' });
    await w.waitEvent('acme-general', 'QuotaNearLimit', '');

    ok(await w.vf.call('PATCH', `${GROUP}/tenantquotas/acme-general`, { spec: { limits: { cpu: 1 } } }, MERGE), 200);
    const over = await waitFor(`${GROUP}/tenantquotas/acme-general`, 'Exceeded', (q) => condition(q, 'Exceeded')?.status === 'True');
    expect(condition(over, 'Exceeded').message).toContain('Usage is above the limit: cpu 2 of 1 (200%)');
    expect(condition(over, 'Ready')).toMatchObject({ status: 'False', reason: 'QuotaExceeded' });
    const event = await w.waitEvent('acme-general', 'QuotaExceeded', '');
    expect(event.type).toBe('Warning');
    // The printer columns show the alert.
    const table = ok(await w.vf.call('GET', `${GROUP}/tenantquotas`, undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' }), 200);
    const alertColumn = table.columnDefinitions.findIndex((c: any) => c.name === 'Alert');
    expect(table.rows[0].cells[alertColumn]).toBe('QuotaExceeded');
  });

  it('prints a percent limit as a quantity, not a byte count', async () => {
    // 37% of the group's 256Gi allocatable memory is 94.72Gi.
    ok(await w.vf.call('PATCH', `${GROUP}/tenantquotas/acme-general`, { spec: { limits: { cpu: 64, memory: '37%' } } }, MERGE), 200);
    const q = await waitFor(`${GROUP}/tenantquotas/acme-general`, 'the percent resolved', (x) => x?.status?.limits?.memory !== '512Gi' && x?.status?.limits?.cpu === 64);
    expect(q.status.limits.memory).toBe('95Gi');
    expect(q.status.summary).toBe('cpu 2/64, memory 4Gi/95Gi');
    await w.deleteVm('q-1');
    await w.waitGone('q-1');
  });
});

describe('rack units checked once the rack is known', () => {
  it('a host that arrived before its rack reports UnitsConsistent False when they do not fit', async () => {
    ok(await w.vf.call('POST', `${GROUP}/baremetals`, { apiVersion: api, kind: 'Baremetal', metadata: { name: 'early' }, spec: { serialNumber: 'SN-early', rack: 'r-late', unit: 40, heightUnits: 4, capacity: { cpu: 8, memory: '32Gi', storage: '1Ti' } } }));
    const waiting = await waitFor(`${GROUP}/baremetals/early`, 'waiting for the rack', (h) => condition(h, 'UnitsConsistent')?.status === 'Unknown');
    expect(condition(waiting, 'UnitsConsistent').reason).toBe('RackMissing');
    ok(await w.vf.call('POST', `${GROUP}/racks`, { apiVersion: api, kind: 'Rack', metadata: { name: 'r-late' }, spec: { datacenter: 'dc-1' } }));
    const host = await waitFor(`${GROUP}/baremetals/early`, 'the units judged', (h) => condition(h, 'UnitsConsistent')?.status === 'False');
    expect(condition(host, 'UnitsConsistent').message).toBe('early occupies units 40-43, beyond the 42 units of rack r-late');
  });
});

describe('deleting a tenant', () => {
  it('takes its quotas (owner references) and its namespace with it once it owns nothing', async () => {
    const quota = await waitFor(`${GROUP}/tenantquotas/acme-general`, 'the owner reference', (q) => q?.metadata.ownerReferences?.some((r: any) => r.kind === 'Tenant'));
    const tenant = await get(`${GROUP}/tenants/${NS}`);
    expect(quota.metadata.ownerReferences).toEqual([{ apiVersion: api, kind: 'Tenant', name: NS, uid: tenant.metadata.uid, blockOwnerDeletion: false }]);
    ok(await w.vf.call('DELETE', `${GROUP}/tenants/${NS}`), 200);
    await waitFor(`${GROUP}/tenants/${NS}`, 'the tenant gone', (t) => t === undefined);
    await waitFor(`${GROUP}/tenantquotas/acme-general`, 'its quota gone', (q) => q === undefined);
    await waitFor(`/api/v1/namespaces/${NS}`, 'its namespace gone', (n) => n === undefined);
  });
});

// Admission of the inventory and tenancy invariants through the real API: a host's units lie
// inside its rack and clear of other hosts (when the rack is known), a VM goes only in a
// tenant's namespace, and a tenant being deleted takes no new VMs or clusters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let vf: TestServer;
beforeAll(async () => {
  vf = await startTestServer();
});
afterAll(async () => {
  await vf?.stop();
});

const G = '/apis/virtflow.io/v1alpha1';
const api = 'virtflow.io/v1alpha1';
const MERGE = { 'content-type': 'application/merge-patch+json' };

function host(name: string, rack: string, unit: number, heightUnits = 1) {
  return {
    apiVersion: api,
    kind: 'Baremetal',
    metadata: { name },
    spec: { serialNumber: `SN-${name}`, rack, unit, heightUnits, capacity: { cpu: 8, memory: '64Gi', storage: '1Ti' } },
  };
}
const rack = (name: string, heightUnits?: number) => ({ apiVersion: api, kind: 'Rack', metadata: { name }, spec: { datacenter: 'dc-1', heightUnits } });
const vm = (name: string, namespace: string) => ({
  apiVersion: api,
  kind: 'VirtualMachine',
  metadata: { name, namespace },
  spec: { specification: 'small', image: 'ubuntu', group: 'general' },
});

describe('rack units', () => {
  it('refuses a host beyond its rack, naming the units and the rack height', async () => {
    expect((await vf.call('POST', `${G}/racks`, rack('rk-a'))).status).toBe(201);
    const refused = await vf.call('POST', `${G}/baremetals`, host('bm-60', 'rk-a', 60));
    expect(refused.status).toBe(422);
    expect(refused.body.details.causes).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.unit', message: 'Invalid value: 60: bm-60 occupies units 60-60, beyond the 42 units of rack rk-a' },
    ]);
    const tall = await vf.call('POST', `${G}/baremetals`, host('bm-tall', 'rk-a', 41, 2));
    expect(tall.status).toBe(201);
    const taller = await vf.call('POST', `${G}/baremetals`, host('bm-taller', 'rk-a', 40, 4));
    expect(taller.status).toBe(422);
  });

  it('refuses a host that shares a unit with another host of the rack, but not one in another rack', async () => {
    expect((await vf.call('POST', `${G}/racks`, rack('rk-b', 20))).status).toBe(201);
    expect((await vf.call('POST', `${G}/baremetals`, host('bm-b1', 'rk-b', 10, 2))).status).toBe(201);
    const overlap = await vf.call('POST', `${G}/baremetals`, host('bm-b2', 'rk-b', 11));
    expect(overlap.status).toBe(422);
    expect(overlap.body.message).toContain('bm-b2 and bm-b1 share unit 11');
    expect((await vf.call('POST', `${G}/baremetals`, host('bm-b3', 'rk-b', 12))).status).toBe(201);
    expect((await vf.call('POST', `${G}/baremetals`, host('bm-c1', 'rk-a', 10))).status).toBe(201);
    const moved = await vf.call('PATCH', `${G}/baremetals/bm-b3`, { spec: { unit: 10 } }, MERGE);
    expect(moved.status).toBe(422);
  });

  it('accepts a host whose rack does not exist yet (GitOps order), and refuses shrinking a rack below its hosts', async () => {
    expect((await vf.call('POST', `${G}/baremetals`, host('bm-early', 'rk-later', 60))).status).toBe(201);
    const shrink = await vf.call('PATCH', `${G}/racks/rk-b`, { spec: { heightUnits: 10 } }, MERGE);
    expect(shrink.status).toBe(422);
    expect(shrink.body.details.causes[0]).toMatchObject({ field: 'spec.heightUnits' });
    expect(shrink.body.message).toContain('bm-b1 occupies units 10-11');
    expect(shrink.body.message).toContain('bm-b3 occupies units 12-12');
  });
});

describe('tenant namespaces', () => {
  beforeAll(async () => {
    for (const ns of ['acme', 'loose']) await vf.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await vf.call('POST', `${G}/tenants`, { apiVersion: api, kind: 'Tenant', metadata: { name: 'acme' } });
    await vf.call('POST', `${G}/tenants`, { apiVersion: api, kind: 'Tenant', metadata: { name: 'globex' }, spec: { namespace: 'globex-prod' } });
  });

  it('refuses a VM in a namespace no tenant owns, listing the tenant namespaces', async () => {
    const refused = await vf.call('POST', `${G}/namespaces/loose/virtualmachines`, vm('stray', 'loose'));
    expect(refused.status).toBe(403);
    expect(refused.body.reason).toBe('Forbidden');
    expect(refused.body.message).toBe(
      `virtualmachines.virtflow.io "stray" is forbidden: namespace "loose" belongs to no tenant: virtual machines go in a tenant's namespace (acme, globex-prod), or create a Tenant whose spec.namespace is "loose"`,
    );
    expect(refused.body.details.causes[0]).toMatchObject({ reason: 'NamespaceWithoutTenant', field: 'metadata.namespace' });
    expect((await vf.call('POST', `${G}/namespaces/acme/virtualmachines`, vm('fine', 'acme'))).status).toBe(201);
  });

  it('refuses new VMs and clusters of a tenant being deleted', async () => {
    // The tenant controller is not running here: a finalizer stands in for its hold.
    await vf.call('PATCH', `${G}/tenants/acme`, { metadata: { finalizers: ['test.virtflow.io/hold'] } }, MERGE);
    expect((await vf.call('DELETE', `${G}/tenants/acme`)).status).toBe(200);
    const refused = await vf.call('POST', `${G}/namespaces/acme/virtualmachines`, vm('late', 'acme'));
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain('tenant "acme" is being deleted: it takes no new virtualmachines');
    const cluster = await vf.call('POST', `${G}/namespaces/acme/k8sclusters`, {
      apiVersion: api,
      kind: 'K8sCluster',
      metadata: { name: 'late', namespace: 'acme' },
      spec: { version: 'v1.30.2' },
    });
    expect(cluster.status).toBe(403);
    expect(cluster.body.message).toContain('tenant "acme" is being deleted');
    await vf.call('PATCH', `${G}/tenants/acme`, { metadata: { finalizers: null } }, MERGE);
  });
});

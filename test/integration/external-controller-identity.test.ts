// Each ExternalController reports as its own ServiceAccount, which may read only the VMs
// routed to it and write only the protocol's status fields; the controllers never trust a
// reservation they did not write (a status.resources set to zero is counted at the
// flavor's size anyway, and repaired).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, NS, ok, startWorld, vmPath, type World } from './lifecycle-harness.js';
import { openWatch } from '../support/api.js';
import { waitUntil } from '../support/wait.js';

let w: World;
const SA_NAMESPACE = 'virtflow-system';

beforeAll(async () => {
  // Two hosts of 4 cores; flavor "small" reserves 2: at most 4 VMs fit.
  w = await startWorld({ hostCpu: 4, quotaCpu: 100 });
});
afterAll(async () => {
  await w?.stop();
});

const as = (token: string) => ({ authorization: `Bearer ${token}` });
const mergePatch = (token?: string) => ({ 'content-type': 'application/merge-patch+json', ...(token ? as(token) : {}) });

async function tokenOf(serviceAccount: string): Promise<string> {
  await waitUntil(async () => (await w.vf.call('GET', `/api/v1/namespaces/${SA_NAMESPACE}/serviceaccounts/${serviceAccount}`)).status === 200, `ServiceAccount ${serviceAccount}`);
  const res = ok(await w.vf.call('POST', `/api/v1/namespaces/${SA_NAMESPACE}/serviceaccounts/${serviceAccount}/token`, { spec: {} }), 201);
  return res.status.token;
}

/** An ExternalController for `region` that nothing answers (its identity is what matters). */
async function registerUnreachable(name: string, region: string): Promise<void> {
  ok(await w.vf.call('POST', `${GROUP}/externalcontrollers`, {
    apiVersion: 'virtflow.io/v1alpha1',
    kind: 'ExternalController',
    metadata: { name },
    spec: { service: 'VirtualMachine', regions: [region], endpoint: 'https://127.0.0.1:9', timeoutSeconds: 1 },
  }), 201);
}

describe('an ExternalController identity', () => {
  it('is a ServiceAccount of its own, whose token the external controller reports with', async () => {
    await w.createVm('routed-1');
    await w.waitVm('routed-1', 'running', (vm) => vm.status?.phase === 'Running');
    const sa = ok(await w.vf.call('GET', `/api/v1/namespaces/${SA_NAMESPACE}/serviceaccounts/externalcontroller-vm-service-tw`), 200);
    expect(sa.metadata.annotations['virtflow.io/external-controller']).toBe('vm-service-tw');
    expect(sa.metadata.ownerReferences[0]).toMatchObject({ kind: 'ExternalController', name: 'vm-service-tw' });
    const statusWriters = async () =>
      (await w.vf.db.query<{ username: string }>(
        "SELECT DISTINCT username FROM audit_events WHERE resource = 'virtualmachines' AND subresource = 'status' AND name = 'routed-1'",
      )).map((r) => r.username);
    // The external controller's reports arrive on their own time (the VM controller also observes).
    await waitUntil(async () => (await statusWriters()).some((u) => u.includes('externalcontroller')), 'a status report by the external controller');
    const users = await statusWriters();
    // The external controller under its own name, not the shared status writer's. (These
    // controllers run with the admin kubeconfig; `virtflow up` gives them their own: e2e.)
    expect(users).toContain('system:serviceaccount:virtflow-system:externalcontroller-vm-service-tw');
    expect(users).not.toContain('virtflow:external-controller');
  });

  it('may write only the protocol status fields: resources, placement, phase, conditions and spec are refused', async () => {
    const token = await tokenOf('externalcontroller-vm-service-tw');
    const path = `${vmPath('routed-1')}/status`;
    const forbidden: [string, unknown][] = [
      ['status.resources', { status: { resources: { cpu: 0, memory: '0', storage: '0', gpu: 0 } } }],
      ['status.placement', { status: { placement: { baremetal: 'elsewhere' } } }],
      ['status.phase', { status: { phase: 'Stopped' } }],
      ['status.conditions', { status: { conditions: [] } }],
    ];
    for (const [field, patch] of forbidden) {
      const res = await w.vf.call('PATCH', path, patch, mergePatch(token));
      expect(res.status, field).toBe(403);
      expect(res.body.message, field).toContain(`refused: ${field}`);
      expect(res.body.details.causes[0].field).toBe(field);
    }
    const spec = await w.vf.call('PATCH', vmPath('routed-1'), { spec: { runStrategy: 'Halted' } }, mergePatch(token));
    expect(spec.status).toBe(403);
    expect(spec.body.message).toContain('cannot patch resource "virtualmachines" in API group "virtflow.io" in the namespace "acme"');
    // What the protocol gives it, it may write.
    ok(await w.vf.call('PATCH', path, { status: { externalId: 'vm-42' } }, mergePatch(token)), 200);
    // The shared status-writer token is held to the same fields.
    const shared = await w.vf.call('PATCH', path, { status: { resources: { cpu: 0, memory: '0', storage: '0', gpu: 0 } } }, mergePatch(w.vf.statusToken));
    expect(shared.status).toBe(403);
  });

  it('reads and watches only the VMs routed to it', async () => {
    await registerUnreachable('vm-service-eu', 'eu');
    const eu = await tokenOf('externalcontroller-vm-service-eu');
    const tw = await tokenOf('externalcontroller-vm-service-tw');
    const get = await w.vf.call('GET', vmPath('routed-1'), undefined, as(eu));
    expect(get.status).toBe(403);
    expect(get.body.message).toContain('it is not routed to ExternalController "vm-service-eu"');
    const patch = await w.vf.call('PATCH', `${vmPath('routed-1')}/status`, { status: { externalId: 'stolen' } }, mergePatch(eu));
    expect(patch.status).toBe(403);
    expect(ok(await w.vf.call('GET', vmPath(), undefined, as(eu)), 200).items).toEqual([]);
    expect(ok(await w.vf.call('GET', `${GROUP}/virtualmachines`, undefined, as(eu)), 200).items).toEqual([]);
    const mine = ok(await w.vf.call('GET', `${GROUP}/virtualmachines`, undefined, as(tw)), 200).items.map((v: any) => v.metadata.name);
    expect(mine).toContain('routed-1');
    // A watch shows the same: its own VMs, none of another controller's.
    const twWatch = await openWatch(w.vf, `${GROUP}/virtualmachines?watch=1&timeoutSeconds=2`, as(tw));
    const euWatch = await openWatch(w.vf, `${GROUP}/virtualmachines?watch=1&timeoutSeconds=2`, as(eu));
    expect([twWatch.status, euWatch.status]).toEqual([200, 200]);
    await twWatch.waitFor((e) => e.type === 'ADDED' && e.object.metadata.name === 'routed-1', 'routed-1 in the tw watch');
    await euWatch.ended;
    expect(euWatch.events.filter((e) => e.type !== 'BOOKMARK')).toEqual([]);
    await twWatch.close();
    // Nothing but VMs and clusters: no tenants, no secrets.
    expect((await w.vf.call('GET', `${GROUP}/tenants`, undefined, as(tw))).status).toBe(403);
    expect((await w.vf.call('GET', `/api/v1/namespaces/${SA_NAMESPACE}/secrets`, undefined, as(tw))).status).toBe(403);
  });

  it('keeps reporting on the VMs it holds when a controller registered later would be routed their region', async () => {
    await registerUnreachable('vm-service-a-tw', 'tw');
    const holder = await tokenOf('externalcontroller-vm-service-tw');
    const newcomer = await tokenOf('externalcontroller-vm-service-a-tw');
    expect(ok(await w.vf.call('GET', vmPath('routed-1'), undefined, as(holder)), 200).status.externalController).toBe('vm-service-tw');
    ok(await w.vf.call('PATCH', `${vmPath('routed-1')}/status`, { status: { externalId: 'vm-43' } }, mergePatch(holder)), 200);
    const stolen = await w.vf.call('PATCH', `${vmPath('routed-1')}/status`, { status: { externalId: 'stolen' } }, mergePatch(newcomer));
    expect(stolen.status).toBe(403);
    expect(ok(await w.vf.call('GET', `${GROUP}/virtualmachines`, undefined, as(newcomer)), 200).items).toEqual([]);
    ok(await w.vf.call('DELETE', `${GROUP}/externalcontrollers/vm-service-a-tw`), 200);
  });

  it('ends with its ExternalController: deleting it deletes the ServiceAccount and its tokens', async () => {
    const eu = await tokenOf('externalcontroller-vm-service-eu');
    ok(await w.vf.call('DELETE', `${GROUP}/externalcontrollers/vm-service-eu`), 200);
    await waitUntil(async () => (await w.vf.call('GET', vmPath(), undefined, as(eu))).status === 401, 'the eu token refused');
  });
});

describe('reservations', () => {
  it('never trusts a status.resources lowered by someone else: hosts stay within capacity and the status is repaired', async () => {
    // An administrator (or, before, the shared status writer) sets a reservation to zero.
    ok(await w.vf.call('PATCH', `${vmPath('routed-1')}/status`, { status: { resources: { cpu: 0, memory: '0', storage: '0', gpu: 0 } } }, mergePatch()), 200);
    const names = Array.from({ length: 7 }, (_, i) => `filler-${i}`);
    for (const name of names) await w.createVm(name);
    await waitUntil(async () => {
      const vms = await Promise.all(names.map((n) => w.getVm(n)));
      return vms.every((vm) => vm?.status?.phase === 'Running' || vm?.status?.phase === 'Unschedulable');
    }, 'every filler placed or unschedulable', 30_000);
    const all = ok(await w.vf.call('GET', vmPath()), 200).items as any[];
    const placed = all.filter((vm) => vm.status?.placement?.baremetal);
    // 8 cores, 2 per VM: routed-1 and three fillers, never more.
    expect(placed).toHaveLength(4);
    const perHost = new Map<string, number>();
    for (const vm of placed) perHost.set(vm.status.placement.baremetal, (perHost.get(vm.status.placement.baremetal) ?? 0) + 2);
    for (const [, cores] of perHost) expect(cores).toBeLessThanOrEqual(4);
    const repaired = await w.waitVm('routed-1', 'reservation restored', (vm) => vm.status?.resources?.cpu === 2);
    expect(repaired.status.resources).toMatchObject({ cpu: 2, memory: '4Gi' });
    await w.waitEvent('routed-1', 'ReservationRepaired', NS);
  });
});

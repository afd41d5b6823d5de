// Placement under quotas and capacity with the real server, database and controllers: a
// burst of VMs against tight quotas, a host going into maintenance, and quotas deleted,
// raised and re-created while VMs wait. Every check reads the API and recomputes the
// reservations from the VMs' placements.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  baremetal,
  create,
  createAll,
  datacenter,
  eventsByObject,
  expectedAccounting,
  flavor,
  get,
  group,
  image,
  inParallel,
  list,
  mergePatch,
  namespace,
  overbookings,
  placedOn,
  quota,
  rack,
  readWorld,
  remove,
  runControllers,
  scheduledCondition,
  tenant,
  vm,
  waitForStatusesToMatch,
  waitUntil,
} from './placement-support.js';

let vf: TestServer;
let controllers: ReturnType<typeof runControllers>;

beforeAll(async () => {
  vf = await startTestServer();
  await createAll(vf, [datacenter('dc-1', 'north'), rack('rack-1', 'dc-1'), rack('rack-2', 'dc-1'), flavor('small', 1, '2Gi', '10Gi'), flavor('medium', 2, '4Gi', '20Gi'), image('ubuntu')]);
  controllers = runControllers(vf);
});

afterAll(async () => {
  await controllers?.stop();
  await vf?.stop();
});

const vmsOf = async (ns: string) => list(vf, 'virtualmachines', ns);
const decided = (v: any) => scheduledCondition(v)?.reason === 'Scheduled' || v.status?.phase === 'Unschedulable';
const hostCount = async () => (await list(vf, 'baremetals')).length;

async function waitForPhase(plural: string, name: string, phase: string): Promise<void> {
  await waitUntil(async () => (await get(vf, plural, name)).status?.phase === phase, `${plural} ${name} to be ${phase}`);
}

describe('placement under quotas', () => {
  it('300 VMs created at once never exceed a quota or a host, and the rest are Unschedulable for quota with an Event', async () => {
    // 4 hosts x 16 cores = 64 cores, exactly the two quotas together (24 + 40).
    await createAll(vf, [
      group('tight', { strategy: 'Binpack' }),
      ...[1, 2, 3, 4].map((i) => baremetal(`tight-${i}`, `rack-${1 + (i % 2)}`, 'tight', { cpu: 16, memory: '64Gi', storage: '1Ti' })),
      tenant('alpha'),
      tenant('beta'),
      namespace('alpha'),
      namespace('beta'),
      quota('alpha-tight', 'alpha', 'tight', { cpu: 24 }),
      quota('beta-tight', 'beta', 'tight', { cpu: 40 }),
    ]);
    const burst = Array.from({ length: 300 }, (_, i) => {
      const ns = i % 2 === 0 ? 'alpha' : 'beta';
      return vm(ns, `${ns}-${String(i).padStart(3, '0')}`, { specification: 'small', group: 'tight' });
    });
    await inParallel(burst, 64, (v) => create(vf, v));

    await waitUntil(async () => (await list(vf, 'virtualmachines')).filter(decided).length === 300, 'every VM to be placed or Unschedulable', 45_000);
    const world = await readWorld(vf);
    expect(overbookings(world, { 'alpha/tight': { cpu: 24 }, 'beta/tight': { cpu: 40 } })).toEqual([]);

    const placed = world.vms.filter((v) => placedOn(v));
    const count = (ns: string) => placed.filter((v) => v.metadata.namespace === ns).length;
    expect({ alpha: count('alpha'), beta: count('beta') }).toEqual({ alpha: 24, beta: 40 });
    const e = expectedAccounting(world);
    for (let i = 1; i <= 4; i++) expect(e.hosts.get(`tight-${i}`)!.allocated.cpu).toBe(16);

    const waiting = world.vms.filter((v) => !placedOn(v));
    expect(waiting).toHaveLength(236);
    const message = '0/4 hosts fit: 4 over tenant quota';
    for (const v of waiting) {
      expect(v.status.phase).toBe('Unschedulable');
      expect(scheduledCondition(v)).toMatchObject({ status: 'False', reason: 'Unschedulable', message });
    }
    // The Events are written after the status, without waiting: give them a moment.
    const eventsOk = async () => {
      const events = new Map([...(await eventsByObject(vf, 'alpha')), ...(await eventsByObject(vf, 'beta'))]);
      return waiting.every((v) => (events.get(v.metadata.name) ?? []).some((ev) => ev.reason === 'FailedScheduling' && ev.type === 'Warning' && ev.message === message));
    };
    await waitUntil(eventsOk, 'a FailedScheduling Event on every waiting VM');

    const settled = await waitForStatusesToMatch(vf);
    const quotas = new Map(settled.quotas.map((q) => [q.metadata.name, q.status]));
    expect(quotas.get('alpha-tight')).toMatchObject({ used: { cpu: 24 }, remaining: { cpu: 0 }, virtualMachines: 24 });
    expect(quotas.get('beta-tight')).toMatchObject({ used: { cpu: 40 }, remaining: { cpu: 0 }, virtualMachines: 40 });
    expect(settled.groups.find((g) => g.metadata.name === 'tight')?.status.allocated.cpu).toBe(64);
  });

  it('a host put into Maintenance takes no new VMs, and its waiting VMs are placed once it is back', async () => {
    await createAll(vf, [
      group('maint', { strategy: 'Binpack' }),
      baremetal('maint-1', 'rack-1', 'maint', { cpu: 8, memory: '32Gi', storage: '1Ti' }),
      baremetal('maint-2', 'rack-2', 'maint', { cpu: 8, memory: '32Gi', storage: '1Ti' }),
      tenant('gamma'),
      namespace('gamma'),
      quota('gamma-maint', 'gamma', 'maint', { cpu: 100 }),
    ]);
    await waitForPhase('baremetals', 'maint-1', 'Ready');
    await mergePatch(vf, 'baremetals', 'maint-1', { spec: { state: 'Maintenance' } });
    // The phase in status is written by the controller that has seen the change.
    await waitForPhase('baremetals', 'maint-1', 'Maintenance');

    await inParallel([1, 2, 3, 4, 5, 6], 6, (i) => create(vf, vm('gamma', `gamma-${i}`, { specification: 'medium', group: 'maint' })));
    await waitUntil(async () => (await vmsOf('gamma')).filter(decided).length === 6, 'every gamma VM to be decided');
    let vms = await vmsOf('gamma');
    expect(vms.filter((v) => placedOn(v) === 'maint-1')).toEqual([]);
    expect(vms.filter((v) => placedOn(v) === 'maint-2')).toHaveLength(4);
    const total = await hostCount();
    for (const v of vms.filter((x) => !placedOn(x))) {
      expect(scheduledCondition(v).message).toBe(`0/${total} hosts fit: ${total - 2} host(s) not in group, 1 Insufficient cpu, 1 host(s) in maintenance`);
    }

    await mergePatch(vf, 'baremetals', 'maint-1', { spec: { state: 'Available' } });
    await waitUntil(async () => (await vmsOf('gamma')).every((v) => placedOn(v)), 'the waiting gamma VMs to be placed');
    vms = await vmsOf('gamma');
    expect(vms.filter((v) => placedOn(v) === 'maint-1')).toHaveLength(2);
    expect(overbookings(await readWorld(vf), {})).toEqual([]);
  });

  it('a rack put into Maintenance takes its hosts out of placement until it is Active again', async () => {
    await createAll(vf, [
      rack('rack-3', 'dc-1'),
      group('racked', { strategy: 'Binpack' }),
      baremetal('racked-1', 'rack-3', 'racked', { cpu: 8, memory: '32Gi', storage: '1Ti' }),
      tenant('epsilon'),
      namespace('epsilon'),
      quota('epsilon-racked', 'epsilon', 'racked', { cpu: 100 }),
    ]);
    await waitForPhase('baremetals', 'racked-1', 'Ready');
    await mergePatch(vf, 'racks', 'rack-3', { spec: { state: 'Maintenance' } });
    await waitForPhase('baremetals', 'racked-1', 'Maintenance');
    await create(vf, vm('epsilon', 'epsilon-1', { specification: 'medium', group: 'racked' }));
    await waitUntil(async () => (await vmsOf('epsilon')).every(decided), 'the epsilon VM to be decided');
    const total = await hostCount();
    expect((await vmsOf('epsilon')).map((v) => [placedOn(v), scheduledCondition(v).message])).toEqual([
      [undefined, `0/${total} hosts fit: ${total - 1} host(s) not in group, 1 host(s) in maintenance`],
    ]);

    await mergePatch(vf, 'racks', 'rack-3', { spec: { state: 'Active' } });
    await waitUntil(async () => (await vmsOf('epsilon')).every((v) => placedOn(v) === 'racked-1'), 'the epsilon VM to be placed once the rack is Active');
  });

  it('deleting a quota leaves nothing placeable; raising or re-creating it, or deleting a VM, releases waiting VMs', async () => {
    await createAll(vf, [
      group('quota', { strategy: 'Spread' }),
      baremetal('quota-1', 'rack-1', 'quota', { cpu: 16, memory: '64Gi', storage: '1Ti' }),
      baremetal('quota-2', 'rack-2', 'quota', { cpu: 16, memory: '64Gi', storage: '1Ti' }),
      tenant('delta'),
      namespace('delta'),
      quota('delta-quota', 'delta', 'quota', { cpu: 4 }),
    ]);
    const total = await hostCount();
    const overQuota = `0/${total} hosts fit: ${total - 2} host(s) not in group, 2 over tenant quota`;
    const noQuota = `0/${total} hosts fit: ${total - 2} host(s) not in group, 2 no tenant quota in group`;
    const make = (i: number) => create(vf, vm('delta', `delta-${i}`, { specification: 'medium', group: 'quota' }));
    const placedCount = async () => (await vmsOf('delta')).filter((v) => placedOn(v)).length;
    const messages = async () => (await vmsOf('delta')).filter((v) => !placedOn(v)).map((v) => scheduledCondition(v)?.message);

    await inParallel([1, 2, 3, 4, 5], 5, make);
    await waitUntil(async () => (await vmsOf('delta')).filter(decided).length === 5, 'the first five delta VMs to be decided');
    expect(await placedCount()).toBe(2);
    expect(await messages()).toEqual([overQuota, overQuota, overQuota]);

    // Raised: two more fit, the last one keeps waiting.
    await mergePatch(vf, 'tenantquotas', 'delta-quota', { spec: { limits: { cpu: 8 } } });
    await waitUntil(async () => (await placedCount()) === 4, 'two waiting VMs to be placed after the quota was raised');
    await waitUntil(async () => (await get(vf, 'tenantquotas', 'delta-quota')).status?.used?.cpu === 8, 'the quota to report 8 cores used');
    expect(await messages()).toEqual([overQuota]);

    // Deleted: nothing more is placeable there, placed VMs keep their hosts.
    await remove(vf, 'tenantquotas', 'delta-quota');
    await waitUntil(async () => (await list(vf, 'tenantquotas')).every((q) => q.metadata.name !== 'delta-quota'), 'the quota to be gone');
    await make(6);
    await waitUntil(async () => JSON.stringify(await messages()) === JSON.stringify([noQuota, noQuota]), 'the waiting VMs to report that the tenant has no quota');
    expect(await placedCount()).toBe(4);

    // Re-created with room for one more: one of the two waiting VMs is placed.
    await create(vf, quota('delta-quota', 'delta', 'quota', { cpu: 10 }));
    await waitUntil(async () => (await placedCount()) === 5, 'a waiting VM to be placed after the quota was re-created');
    await waitUntil(async () => JSON.stringify(await messages()) === JSON.stringify([overQuota]), 'the last VM to wait for quota');

    // A placed VM deleted: its reservation goes back and the last waiting VM takes it. No
    // external controller runs here, so the VM is deleted without deprovisioning.
    const victim = (await vmsOf('delta')).find((v) => placedOn(v))!;
    await mergePatch(vf, 'virtualmachines', victim.metadata.name, { metadata: { annotations: { 'virtflow.io/skip-deprovision': 'true' } } }, 'delta');
    await remove(vf, 'virtualmachines', victim.metadata.name, 'delta');
    await waitUntil(async () => {
      const vms = await vmsOf('delta');
      return vms.length === 5 && vms.every((v) => placedOn(v));
    }, 'the deleted VM to be gone and the last waiting VM to be placed');

    const world = await waitForStatusesToMatch(vf);
    expect(overbookings(world, { 'delta/quota': { cpu: 10 } })).toEqual([]);
    expect(world.quotas.find((q) => q.metadata.name === 'delta-quota')?.status).toMatchObject({ used: { cpu: 10 }, remaining: { cpu: 0 } });
  });
});

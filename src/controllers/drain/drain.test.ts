// The drain's verdict on a host in Maintenance, from plain in-memory caches: when it may say
// Drained, and what it leaves and why. The moves themselves run in test/integration/drain.test.ts.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import type { ControllerContext } from '../shared/context.js';
import { dc, flavor, group, host, listersOf, placed, quota, rack, tenant, type World } from '../testing/fixtures.js';
import { Placer } from '../virtualmachine/placer.js';
import { drainReconciler } from './drain.js';

const Gi = 1024 ** 3;
const inventory = (bm1State: 'Maintenance' | 'Available'): World => ({
  datacenters: [dc('hsinchu')],
  racks: [rack('r1', 'hsinchu'), rack('r2', 'hsinchu')],
  groups: [group('general')],
  hosts: [host('bm1', 'r1', 'general', 8, '64Gi', { state: bm1State }), host('bm2', 'r2', 'general', 8, '64Gi')],
  tenants: [tenant('acme')],
  quotas: [quota('q', 'acme', 'general', { cpu: 16 })],
  specifications: [flavor('small', 2, '4Gi')],
});

/** A VM running on `on`, its machine built. */
function running(name: string, on = 'bm1'): VirtualMachine {
  const vm = placed('acme', name, on, 2, '4Gi');
  vm.status!.conditions = [{ type: 'Provisioned', status: 'True', reason: 'Provisioned', message: '', lastTransitionTime: '2026-12-06T05:00:00Z' }];
  return vm;
}

/** Runs one reconcile of bm1; answers the drain status written and the VM status writes. */
async function drainOnce(world: World, placer = new Placer(listersOf(world))) {
  const writes: any[] = [];
  const events: string[] = [];
  const ctx = {
    listers: listersOf(world),
    client: { replaceStatus: async (_: unknown, obj: any) => (writes.push(obj), obj) },
    events: { record: (_: unknown, type: string, reason: string) => events.push(`${type}/${reason}`) },
    now: () => new Date('2026-12-06T06:00:00Z'),
  } as unknown as ControllerContext;
  await drainReconciler(ctx, placer).reconcile({ signal: new AbortController().signal, log: pino({ level: 'silent' }) }, { name: 'bm1' });
  const hostWrites = writes.filter((o) => o.kind === 'Baremetal');
  return { drain: hostWrites[0]?.status?.drain, hostWrites, vmWrites: writes.filter((o) => o.kind === 'VirtualMachine'), events };
}

const reasons = (drain: any) => drain.leftovers.map((l: any) => `${l.name}: ${l.reason}`);

describe('the drain of a host in Maintenance', () => {
  it('says Drained when no VM is on the host or on its way to it', async () => {
    const { drain, events } = await drainOnce({ ...inventory('Maintenance'), vms: [running('elsewhere', 'bm2')] });
    expect(drain).toMatchObject({ phase: 'Drained', remaining: 0, moving: 0, message: 'No VM is left on bm1; 0 moved.' });
    expect(events).toEqual(['Normal/Drained']);
  });

  it('is not Drained while a VM on it is being deleted, and does not move that VM', async () => {
    const gone = running('gone');
    gone.metadata.deletionTimestamp = '2026-12-06T05:59:00Z';
    const { drain, vmWrites } = await drainOnce({ ...inventory('Maintenance'), vms: [gone] });
    expect(drain).toMatchObject({ phase: 'Draining', remaining: 1, blocked: 0, message: '1 VM(s) left on bm1, 0 moving: 1 Terminating.' });
    expect(reasons(drain)).toEqual(['gone: Terminating']);
    expect(vmWrites).toEqual([]);
  });

  it('is not Drained while a VM moves onto it (a move begun before the Maintenance)', async () => {
    const arriving = running('arriving', 'bm2');
    arriving.status!.migration = { state: 'Running', method: 'Migrate', source: { baremetal: 'bm2' }, target: { baremetal: 'bm1' } };
    const { drain, vmWrites } = await drainOnce({ ...inventory('Maintenance'), vms: [arriving] });
    expect(drain).toMatchObject({ phase: 'Draining', remaining: 1, blocked: 0 });
    expect(reasons(drain)).toEqual(['arriving: MovingIn']);
    expect(vmWrites).toEqual([]);
  });

  it('is not Drained while a placement decided onto it is not in the cache yet', async () => {
    // Decided while bm1 was Available and bm2 full; the write has not come back yet.
    const available = { ...inventory('Available'), hosts: [host('bm1', 'r1', 'general', 8, '64Gi')] };
    const placer = new Placer(listersOf(available));
    const decided = placer.place('acme/new', { vm: 'acme/new', tenant: 'acme', group: 'general', resources: { cpu: 2, memory: 4 * Gi, storage: 10 * Gi, gpu: 0 } });
    expect(decided).toMatchObject({ ok: true, host: 'bm1' });
    const { drain } = await drainOnce(inventory('Maintenance'), placer);
    expect(drain).toMatchObject({ phase: 'Draining', remaining: 1, blocked: 0 });
    expect(reasons(drain)).toEqual(['new: BeingPlaced']);
  });

  it('moves none of a tenant whose disruptionBudget.maxUnavailable is 0: Blocked, each VM counted', async () => {
    const world = { ...inventory('Maintenance'), tenants: [tenant('acme', { disruptionBudget: { maxUnavailable: 0 } })], vms: [running('a-1'), running('a-2')] };
    const { drain, vmWrites, events } = await drainOnce(world);
    expect(drain).toMatchObject({ phase: 'Blocked', remaining: 2, blocked: 2, moving: 0, message: '2 VM(s) left on bm1, 0 moving: 2 DisruptionBudget.' });
    expect(reasons(drain)).toEqual(['a-1: DisruptionBudget', 'a-2: DisruptionBudget']);
    expect(vmWrites).toEqual([]);
    expect(events).toEqual(['Warning/DrainBlocked']);
  });

  it('re-places a VM only where its own constraints allow, else leaves it Unschedulable with the diagnosis', async () => {
    const inRackR1 = placed('acme', 'r1-only', 'bm1', 2, '4Gi', { placement: { racks: ['r1'] } });
    inRackR1.status!.conditions = running('x').status!.conditions;
    const pinned = placed('acme', 'pinned', 'bm1', 2, '4Gi', { baremetal: 'bm1' });
    const { drain, vmWrites } = await drainOnce({ ...inventory('Maintenance'), vms: [inRackR1, pinned] });
    expect(drain).toMatchObject({ phase: 'Blocked', remaining: 2, blocked: 2 });
    expect(reasons(drain)).toEqual(['pinned: PinnedToHost', 'r1-only: Unschedulable']);
    expect(drain.leftovers[1].message).toMatch(/^0\/2 hosts fit: /);
    expect(vmWrites).toEqual([]);
  });

  it('moves a VM spread across racks within its own rack, where it is the only member, and not into a rack of another member', async () => {
    const member = (name: string, on: string) => {
      const vm = placed('acme', name, on, 2, '4Gi', { placement: { spreadAcross: 'Rack', spreadKey: 'web' } });
      vm.status!.conditions = running('x').status!.conditions;
      return vm;
    };
    const world = { ...inventory('Maintenance'), vms: [member('web-1', 'bm1'), member('web-2', 'bm2')] };
    // bm2 alone: its rack has web-2, so web-1 has nowhere to go.
    const nowhere = await drainOnce(world);
    expect(nowhere.drain.leftovers[0]).toMatchObject({ name: 'web-1', reason: 'Unschedulable', message: expect.stringContaining('would break spread') });
    world.hosts = [...world.hosts!, host('bm3', 'r1', 'general', 8, '64Gi')];
    const { drain, vmWrites } = await drainOnce(world);
    expect(drain).toMatchObject({ phase: 'Draining', moving: 1, remaining: 1 });
    expect(vmWrites.map((v) => [v.metadata.name, v.status.migration.target.baremetal])).toEqual([['web-1', 'bm3']]);
  });

  it('on uncordon drops status.drain and says so, starting no move and leaving the one in progress alone', async () => {
    const inProgress = running('a-2');
    inProgress.status!.migration = { state: 'Running', method: 'Migrate', source: { baremetal: 'bm1' }, target: { baremetal: 'bm2' } };
    const world = { ...inventory('Available'), vms: [running('a-1'), inProgress] };
    world.hosts![0]!.status = { drain: { phase: 'Blocked', remaining: 1 } } as never;
    const { hostWrites, vmWrites, events } = await drainOnce(world);
    expect(hostWrites).toHaveLength(1);
    expect(hostWrites[0].status).not.toHaveProperty('drain');
    expect(vmWrites).toEqual([]);
    expect(events).toEqual(['Normal/DrainStopped']);
  });

  it('starts one move at a time by default, and counts the rest as waiting, not Blocked', async () => {
    const { drain, vmWrites } = await drainOnce({ ...inventory('Maintenance'), vms: [running('a-1'), running('a-2')] });
    expect(drain).toMatchObject({ phase: 'Draining', remaining: 2, moving: 1, blocked: 0 });
    expect(reasons(drain)).toEqual(['a-2: WaitingForBudget']);
    expect(vmWrites.map((v) => [v.metadata.name, v.status.migration.state, v.status.migration.method, v.status.migration.target.baremetal])).toEqual([['a-1', 'Running', 'Recreate', 'bm2']]);
  });
});

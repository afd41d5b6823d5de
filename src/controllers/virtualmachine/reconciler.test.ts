// The VM controller's own half, one reconcile at a time: references, placement, the
// reservation and the finalizer, before it hands a placed VM to lifecycle.ts (its own table).
// Placement across many VMs and hosts runs in test/integration/placement-*.test.ts.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import type { Observation, VirtualMachineProvider } from '../../providers/external-client.js';
import type { Result } from '../../runtime/reconciler.js';
import type { ControllerContext } from '../shared/context.js';
import { dc, externalController, flavor, group, host, image, listersOf, placed, quota, rack, tenant, vm as makeVm, type World } from '../testing/fixtures.js';
import { VM_FINALIZER } from './lifecycle.js';
import { indexes, memoryLister } from '../shared/listers.js';
import { Placer } from './placer.js';
import { virtualMachineReconciler } from './reconciler.js';

const resyncMs = 30_000;

const inventory = (hostCpu = 8): World => ({
  datacenters: [dc('hsinchu')],
  racks: [rack('r1', 'hsinchu')],
  groups: [group('general')],
  hosts: [host('bm1', 'r1', 'general', hostCpu, '64Gi')],
  tenants: [tenant('acme')],
  quotas: [quota('q', 'acme', 'general', { cpu: 16 })],
  specifications: [flavor('small', 2, '4Gi')],
  images: [image('ubuntu')],
  externalControllers: [externalController('sim')],
});

const withVersion = (v: VirtualMachine, extra: Partial<VirtualMachine['metadata']> = {}): VirtualMachine => ({
  ...v,
  metadata: { ...v.metadata, uid: 'uid-1', generation: 1, resourceVersion: '10', ...extra },
});

/** Runs one reconcile of acme/web in `world`; answers what it wrote, patched, recorded and asked. */
async function reconcileOnce(world: World) {
  const writes: VirtualMachine[] = [];
  const patches: unknown[] = [];
  const events: string[] = [];
  const calls: string[] = [];
  const listers = listersOf(world);
  const ctx = {
    listers,
    client: {
      replaceStatus: async (_: unknown, obj: VirtualMachine) => (writes.push(obj), obj),
      patch: async (_: unknown, _key: unknown, _type: string, body: unknown) => (patches.push(body), {}),
    },
    events: { record: (_: unknown, type: string, reason: string) => events.push(`${type}/${reason}`) },
    now: () => new Date('2026-12-06T06:00:00Z'),
  } as unknown as ControllerContext;
  const observed: Observation = { exists: true, upToDate: true, powerState: 'On', addresses: [] };
  const provider = {
    observe: async () => (calls.push('observe'), observed),
  } as unknown as VirtualMachineProvider;
  const reconciler = virtualMachineReconciler(ctx, new Placer(listers), { providerFor: () => provider, resyncMs, random: () => 0.5 });
  const result: Result = await reconciler.reconcile({ signal: new AbortController().signal, log: pino({ level: 'silent' }) }, { namespace: 'acme', name: 'web' });
  const status = writes.at(-1)?.status;
  return {
    result,
    phase: status?.phase,
    host: status?.placement?.baremetal,
    externalController: status?.externalController,
    reasons: Object.fromEntries((status?.conditions ?? []).map((c) => [c.type, c.reason])),
    patches,
    events,
    calls,
  };
}

interface Case {
  name: string;
  world: World;
  want: Partial<Awaited<ReturnType<typeof reconcileOnce>>>;
}

const unplaced = () => withVersion(makeVm('acme', 'web'));
const placedWeb = (finalizers: string[] = [VM_FINALIZER]) => {
  const v = withVersion(placed('acme', 'web', 'bm1', 2, '4Gi'), { finalizers });
  v.status = { ...v.status, phase: 'Running', externalController: 'sim' };
  return v;
};

const cases: Case[] = [
  {
    name: 'forgets a VM that is gone, and does nothing else',
    world: inventory(),
    want: { result: {}, phase: undefined, patches: [], events: [], calls: [] },
  },
  {
    name: 'waits for a missing image before placing, Pending with a Warning',
    world: { ...inventory(), images: [], vms: [unplaced()] },
    want: {
      result: {},
      phase: 'Pending',
      host: undefined,
      reasons: { ReferencesResolved: 'MissingReferences', Scheduled: 'WaitingForReferences', Ready: 'WaitingForReferences' },
      events: ['Warning/WaitingForReferences'],
    },
  },
  {
    name: 'places a VM that fits, Provisioning, with its ExternalController, a Scheduled Event and no finalizer yet',
    world: { ...inventory(), vms: [unplaced()] },
    want: {
      result: {},
      phase: 'Provisioning',
      host: 'bm1',
      externalController: 'sim',
      reasons: { Scheduled: 'Scheduled', Provisioned: 'Provisioning', Ready: 'Provisioning' },
      patches: [],
      events: ['Normal/Scheduled'],
    },
  },
  {
    name: 'keeps the ExternalController a VM placed again already names: it may hold the machine',
    world: {
      ...inventory(),
      vms: [(() => {
        const v = unplaced();
        v.status = { externalController: 'holder' };
        return v;
      })()],
    },
    want: { phase: 'Provisioning', host: 'bm1', externalController: 'holder' },
  },
  {
    name: 'says Unschedulable when no host fits, and looks again after the resync',
    world: { ...inventory(1), vms: [unplaced()] },
    want: {
      result: { requeueAfterMs: resyncMs },
      phase: 'Unschedulable',
      host: undefined,
      reasons: { Scheduled: 'Unschedulable', Ready: 'Unschedulable' },
      events: ['Warning/FailedScheduling'],
    },
  },
  {
    name: 'adds the finalizer to a placed VM before anything happens outside VirtFlow',
    world: { ...inventory(), vms: [placedWeb([])] },
    want: {
      result: {},
      phase: undefined,
      patches: [{ metadata: { finalizers: [VM_FINALIZER], resourceVersion: '10' } }],
      calls: [],
    },
  },
  {
    name: 'restores a reservation lowered by someone else, with a Warning',
    world: {
      ...inventory(),
      vms: [(() => {
        const v = placedWeb();
        v.status!.resources = { cpu: 1, memory: '4Gi', storage: '100Gi', gpu: 0 };
        return v;
      })()],
    },
    want: { result: {}, events: ['Warning/ReservationRepaired'], calls: [] },
  },
  {
    name: 'hands a placed VM with its finalizer to the lifecycle, which observes its machine',
    world: { ...inventory(), vms: [placedWeb()] },
    want: { patches: [], calls: ['observe'] },
  },
];

describe('the VirtualMachine reconciler, one reconcile', () => {
  it.each(cases)('$name', async (c) => {
    const got = await reconcileOnce(c.world);
    const picked = Object.fromEntries(Object.keys(c.want).map((k) => [k, got[k as keyof typeof got]]));
    expect(picked).toEqual(c.want);
  });

  it('writes the restored reservation as the flavor has it', async () => {
    const v = placedWeb();
    v.status!.resources = { cpu: 1, memory: '4Gi', storage: '100Gi', gpu: 0 };
    const writes: VirtualMachine[] = [];
    const listers = listersOf({ ...inventory(), vms: [v] });
    const ctx = {
      listers,
      client: { replaceStatus: async (_: unknown, obj: VirtualMachine) => (writes.push(obj), obj) },
      events: { record: () => {} },
      now: () => new Date('2026-12-06T06:00:00Z'),
    } as unknown as ControllerContext;
    const reconciler = virtualMachineReconciler(ctx, new Placer(listers), { providerFor: () => ({}) as VirtualMachineProvider });
    await reconciler.reconcile({ signal: new AbortController().signal, log: pino({ level: 'silent' }) }, { namespace: 'acme', name: 'web' });
    expect(writes.map((w) => w.status?.resources)).toEqual([{ cpu: 2, memory: '4Gi', storage: '100Gi', gpu: 0 }]);
  });

  it('creates the machine of a VM it placed without asking first: it sent nothing for it', async () => {
    const writes: VirtualMachine[] = [];
    const calls: string[] = [];
    const listers = listersOf({ ...inventory(), vms: [unplaced()] });
    const ctx = {
      listers,
      client: { replaceStatus: async (_: unknown, obj: VirtualMachine) => (writes.push(obj), { ...obj, metadata: { ...obj.metadata, resourceVersion: '11' } }) },
      events: { record: () => {} },
      now: () => new Date('2026-12-06T06:00:00Z'),
    } as unknown as ControllerContext;
    const provider = {
      observe: async () => (calls.push('observe'), { exists: false, upToDate: false, addresses: [] }),
      create: async () => (calls.push('create'), { operationId: 'op-1', type: 'Create', state: 'Running' }),
    } as unknown as VirtualMachineProvider;
    const reconciler = virtualMachineReconciler(ctx, new Placer(listers), { providerFor: () => provider, resyncMs, random: () => 0.5 });
    const rc = { signal: new AbortController().signal, log: pino({ level: 'silent' }) };
    await reconciler.reconcile(rc, { namespace: 'acme', name: 'web' });
    const placedNow = writes.at(-1)!;
    expect(placedNow.status?.externalController).toBe('sim');
    // The write's event, then the finalizer's, bring it back.
    listers.vms = memoryLister([{ ...placedNow, metadata: { ...placedNow.metadata, resourceVersion: '12', finalizers: [VM_FINALIZER] } }], indexes.vms);
    await reconciler.reconcile(rc, { namespace: 'acme', name: 'web' });
    expect(calls).toEqual(['create']);
  });
});

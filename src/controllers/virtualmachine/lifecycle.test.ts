// The external half of the VM controller, one reconcile at a time: given a placed VM and what
// its external controller reports, the status written, the provider calls and the Result.
// The whole loop against the simulator runs in test/integration/lifecycle-*.test.ts.
import { describe, expect, it } from 'vitest';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import type { Condition } from '../../machinery/conditions.js';
import { ProviderUnreachable, type Observation, type Operation, type VirtualMachineProvider } from '../../providers/external-client.js';
import type { ControllerContext } from '../shared/context.js';
import { externalController, flavor, group, image, listersOf, tenant, vm as makeVm, type World } from '../testing/fixtures.js';
import { OPERATION_CHECK_MS, VM_FINALIZER, vmLifecycle } from './lifecycle.js';

const resyncMs = 30_000;
/** A VM whose operation runs is looked at again this soon (its reports may be lost or stale). */
const operationCheckMs = OPERATION_CHECK_MS;
const retryMs = 2_000;
const T0 = '2026-12-06T05:00:00Z';

const world = (extra: Partial<World> = {}): World => ({
  groups: [group('general')],
  tenants: [tenant('acme')],
  specifications: [flavor('small', 2, '4Gi')],
  images: [image('ubuntu')],
  externalControllers: [externalController('sim')],
  ...extra,
});

const cond = (type: string, status: Condition['status'], reason: string): Condition => ({ type, status, reason, message: '', lastTransitionTime: T0 });

/** A VM placed on bm1; `provisioned` also gives it a machine reported Running. */
function placedVm(opts: { provisioned?: boolean; spec?: Partial<VirtualMachine['spec']>; status?: Partial<NonNullable<VirtualMachine['status']>> } = {}): VirtualMachine {
  const v = makeVm('acme', 'web', opts.spec, {
    phase: 'Provisioning',
    placement: { baremetal: 'bm1', region: 'tw', datacenter: 'hsinchu', rack: 'r1' },
    resources: { cpu: 2, memory: '4Gi', storage: '100Gi', gpu: 0 },
    conditions: [cond('Scheduled', 'True', 'Scheduled')],
  });
  v.metadata = { ...v.metadata, uid: 'uid-1', generation: 1, resourceVersion: '10', creationTimestamp: T0, finalizers: [VM_FINALIZER] };
  if (opts.provisioned) {
    v.status = {
      ...v.status,
      phase: 'Running',
      powerState: 'On',
      externalController: 'sim',
      conditions: [...v.status!.conditions!, cond('Provisioned', 'True', 'Provisioned'), cond('Ready', 'True', 'Running')],
    };
  }
  v.status = { ...v.status, ...opts.status };
  return v;
}

const op = (type: Operation['type'], state: Operation['state'], id = 'op-1'): Operation => ({ id, type, state }) as Operation;
const machine = (extra: Partial<Observation> = {}): Observation => ({ exists: true, upToDate: true, powerState: 'On', externalId: 'ext-1', addresses: [], ...extra });
const noMachine = (extra: Partial<Observation> = {}): Observation => ({ exists: false, upToDate: false, addresses: [], ...extra });

/** A provider that answers `observed` (or fails with `fails`) and records every call. */
function fakeProvider(observed: Observation, fails?: Error) {
  const calls: string[] = [];
  let ops = 1;
  const answer = (what: string, type: Operation['type']) => async () => {
    calls.push(what);
    return { operationId: `op-${++ops}`, type, state: 'Running' } as const;
  };
  const provider: VirtualMachineProvider = {
    observe: async () => {
      calls.push('observe');
      if (fails) throw fails;
      return observed;
    },
    create: answer('create', 'Create'),
    update: answer('update', 'Update'),
    power: async (_vm, action) => (calls.push(`power ${action}`), { operationId: `op-${++ops}`, type: 'Power', state: 'Running' }),
    delete: answer('delete', 'Delete'),
  };
  return { provider, calls };
}

function harness(observed: Observation, opts: { fails?: Error; world?: World } = {}) {
  const { provider, calls } = fakeProvider(observed, opts.fails);
  const writes: VirtualMachine[] = [];
  const patches: unknown[] = [];
  const events: string[] = [];
  let rv = 10;
  const clock = { now: Date.parse('2026-12-06T06:00:00Z') };
  const ctx = {
    listers: listersOf(opts.world ?? world()),
    client: {
      replaceStatus: async (_: unknown, obj: VirtualMachine) => {
        writes.push(obj);
        return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
      },
      patch: async (_: unknown, _key: unknown, _type: string, body: unknown) => (patches.push(body), {}),
    },
    events: { record: (_: unknown, type: string, reason: string) => events.push(`${type}/${reason}`) },
    now: () => new Date(clock.now),
  } as unknown as ControllerContext;
  // random 0.5: jitter is exactly the delay asked for.
  const lifecycle = vmLifecycle(ctx, { providerFor: () => provider, resyncMs, providerRetryMs: retryMs, random: () => 0.5 });
  return { lifecycle, calls, writes, patches, events, clock };
}

const readyOf = (v: VirtualMachine | undefined) => v?.status?.conditions?.find((c) => c.type === 'Ready');

interface Case {
  name: string;
  vm: VirtualMachine;
  observed: Observation;
  fails?: Error;
  world?: World;
  /** The provider calls, in order. */
  calls: string[];
  /** The last status write: its phase and Ready reason (undefined: nothing written). */
  phase?: string;
  ready?: string;
  events: string[];
  requeueAfterMs?: number;
}

const cases: Case[] = [
  {
    name: 'records the ExternalController, then creates a machine for a VM just placed, without asking first (nothing was ever sent)',
    vm: placedVm(),
    observed: noMachine(),
    calls: ['create'],
    phase: 'Provisioning',
    events: [],
    requeueAfterMs: operationCheckMs,
  },
  {
    name: 'asks first when an ExternalController is recorded (a create may have been sent before a crash), then creates',
    vm: placedVm({ status: { phase: 'Provisioning', externalController: 'sim' } }),
    observed: noMachine(),
    calls: ['observe', 'create'],
    // Provisioning with the controller recorded already: nothing to write before the create.
    phase: undefined,
    events: [],
    requeueAfterMs: operationCheckMs,
  },
  {
    name: 'waits for the create that is running, saying it is building the machine',
    vm: placedVm({ status: { externalController: 'sim' } }),
    observed: noMachine({ lastOperation: op('Create', 'Running') }),
    calls: ['observe'],
    phase: 'Provisioning',
    ready: 'Provisioning',
    events: [],
    requeueAfterMs: operationCheckMs,
  },
  {
    name: 'waits without writing while another operation runs on a VM with no machine',
    vm: placedVm({ status: { externalController: 'sim' } }),
    observed: noMachine({ lastOperation: op('Delete', 'Running') }),
    calls: ['observe'],
    events: [],
    requeueAfterMs: operationCheckMs,
  },
  {
    name: 'waits for a missing image, with a Warning, and creates nothing',
    vm: placedVm(),
    observed: noMachine(),
    world: world({ images: [] }),
    calls: [],
    phase: 'Provisioning',
    ready: 'WaitingForReferences',
    events: ['Warning/WaitingForReferences'],
    requeueAfterMs: undefined,
  },
  {
    name: 'is Starting while the machine is built and its create not finished',
    vm: placedVm({ status: { externalController: 'sim' } }),
    observed: machine({ powerState: 'Off', lastOperation: op('Create', 'Running') }),
    calls: ['observe'],
    phase: 'Starting',
    ready: 'Starting',
    events: [],
    requeueAfterMs: operationCheckMs,
  },
  {
    name: 'is Running once the machine is on, with one Event for provisioned and running',
    vm: placedVm({ status: { externalController: 'sim' } }),
    observed: machine({ lastOperation: op('Create', 'Succeeded') }),
    calls: ['observe'],
    phase: 'Running',
    ready: 'Running',
    events: ['Normal/Running'],
    requeueAfterMs: resyncMs,
  },
  {
    name: 'keeps a Running VM whose machine is on Running, with no Event and no request',
    vm: placedVm({ provisioned: true }),
    observed: machine(),
    calls: ['observe'],
    phase: 'Running',
    ready: 'Running',
    events: [],
    requeueAfterMs: resyncMs,
  },
  {
    name: 'updates a machine older than the generation, the phase unchanged',
    vm: placedVm({ provisioned: true }),
    observed: machine({ upToDate: false }),
    calls: ['observe', 'update'],
    phase: 'Running',
    ready: 'Running',
    events: [],
    requeueAfterMs: operationCheckMs,
  },
  {
    name: 'starts a machine found off while runStrategy is Always, as drift (a Warning)',
    vm: placedVm({ provisioned: true }),
    observed: machine({ powerState: 'Off' }),
    calls: ['observe', 'power start'],
    phase: 'Starting',
    ready: 'ExternalDrift',
    events: ['Warning/ExternalDrift'],
    requeueAfterMs: operationCheckMs,
  },
  {
    name: 'stops a running machine when runStrategy is Halted',
    vm: placedVm({ provisioned: true, spec: { runStrategy: 'Halted' } }),
    observed: machine(),
    calls: ['observe', 'power stop'],
    phase: 'Stopping',
    ready: 'Stopping',
    events: ['Normal/Stopping'],
    requeueAfterMs: operationCheckMs,
  },
  {
    name: 'leaves power alone under runStrategy Manual, and says the VM was switched off outside',
    vm: placedVm({ provisioned: true, spec: { runStrategy: 'Manual' } }),
    observed: machine({ powerState: 'Off' }),
    calls: ['observe'],
    phase: 'Stopped',
    ready: 'Stopped',
    events: ['Normal/PowerChangedExternally'],
    requeueAfterMs: resyncMs,
  },
  {
    name: 'restarts when restartAt is newer than the last restart, Restarting first',
    vm: placedVm({ provisioned: true, spec: { restartAt: '2026-12-06T05:30:00Z' } }),
    observed: machine(),
    calls: ['observe', 'power restart'],
    phase: 'Restarting',
    ready: 'Restarting',
    events: ['Normal/Restarting'],
    requeueAfterMs: operationCheckMs,
  },
  {
    name: 're-creates a provisioned machine that is gone without a delete, as drift',
    vm: placedVm({ provisioned: true }),
    observed: noMachine(),
    calls: ['observe', 'create'],
    phase: 'Provisioning',
    ready: 'ExternalDrift',
    events: ['Warning/ExternalDrift'],
    requeueAfterMs: operationCheckMs,
  },
  {
    name: 'reports Ready Unknown and backs off when the external controller cannot be reached',
    vm: placedVm({ provisioned: true }),
    observed: machine(),
    fails: new ProviderUnreachable('observe', 'https://sim.example', 'connection refused'),
    calls: ['observe'],
    phase: 'Running',
    ready: 'ProviderUnreachable',
    events: ['Warning/ProviderUnreachable'],
    requeueAfterMs: retryMs,
  },
  {
    name: 'reports NoExternalController, calls nothing, and backs off when none serves the region',
    vm: placedVm(),
    observed: noMachine(),
    world: world({ externalControllers: [] }),
    calls: [],
    phase: 'Provisioning',
    ready: 'NoExternalController',
    events: ['Warning/NoExternalController'],
    requeueAfterMs: retryMs,
  },
];

describe('the lifecycle of a placed VM, one reconcile', () => {
  it.each(cases)('$name', async (c) => {
    const h = harness(c.observed, { fails: c.fails, world: c.world });
    const result = await h.lifecycle.lifecycle('acme/web', c.vm);
    const last = h.writes.at(-1);
    expect({
      calls: h.calls,
      phase: last?.status?.phase,
      ready: readyOf(last)?.reason,
      events: h.events,
      requeueAfterMs: result.requeueAfterMs,
    }).toEqual({ calls: c.calls, phase: c.phase, ready: c.ready, events: c.events, requeueAfterMs: c.requeueAfterMs });
  });

  it('writes the ExternalController before the create request, so a crash cannot build elsewhere', async () => {
    const h = harness(noMachine());
    await h.lifecycle.lifecycle('acme/web', placedVm());
    expect(h.writes.map((w) => w.status?.externalController)).toEqual(['sim']);
  });

  it('doubles the back-off per provider failure in a row, with one Warning for the repeated failure', async () => {
    const failing = harness(machine(), { fails: new ProviderUnreachable('observe', 'https://sim.example', 'connection refused') });
    const delays: (number | undefined)[] = [];
    let cached = placedVm({ provisioned: true });
    for (let i = 0; i < 3; i++) {
      delays.push((await failing.lifecycle.lifecycle('acme/web', cached)).requeueAfterMs);
      // The cache catches up with the write.
      const written = failing.writes.at(-1)!;
      cached = { ...written, metadata: { ...written.metadata, resourceVersion: `${20 + i}` } };
    }
    expect({ delays, writes: failing.writes.length, events: failing.events }).toEqual({
      delays: [retryMs, 2 * retryMs, 4 * retryMs],
      writes: 1,
      events: ['Warning/ProviderUnreachable'],
    });
  });

  it('writes nothing and asks nothing on a second reconcile of what the first wrote (a fixed point)', async () => {
    const h = harness(machine({ lastOperation: op('Create', 'Succeeded') }));
    await h.lifecycle.lifecycle('acme/web', placedVm({ status: { externalController: 'sim' } }));
    const written = h.writes.at(-1)!;
    await h.lifecycle.lifecycle('acme/web', { ...written, metadata: { ...written.metadata, resourceVersion: '11' } });
    expect({ writes: h.writes.length, calls: h.calls, events: h.events }).toEqual({ writes: 1, calls: ['observe'], events: ['Normal/Running'] });
  });

  it('does nothing on a cached VM still at the version its own last write replaced', async () => {
    const h = harness(machine({ lastOperation: op('Create', 'Succeeded') }));
    const vm = placedVm({ status: { externalController: 'sim' } });
    await h.lifecycle.lifecycle('acme/web', vm);
    expect(h.writes).toHaveLength(1);
    const again = await h.lifecycle.lifecycle('acme/web', vm);
    expect({ result: again, calls: h.calls, writes: h.writes.length }).toEqual({ result: {}, calls: ['observe'], writes: 1 });
  });
});

describe('deprovisioning a deleted VM, one reconcile', () => {
  const deleted = (v: VirtualMachine): VirtualMachine => ({ ...v, metadata: { ...v.metadata, deletionTimestamp: '2026-12-06T05:59:00Z' } });

  it('asks for the delete and waits for it, writing nothing yet', async () => {
    const h = harness(machine());
    const result = await h.lifecycle.deprovision({ namespace: 'acme', name: 'web' }, deleted(placedVm({ provisioned: true })));
    expect({ calls: h.calls, writes: h.writes.length, patches: h.patches, result }).toEqual({
      calls: ['observe', 'delete'],
      writes: 0,
      patches: [],
      result: { requeueAfterMs: operationCheckMs },
    });
  });

  it('waits for a running operation before deleting, Terminating', async () => {
    const h = harness(machine({ lastOperation: op('Power', 'Running') }));
    await h.lifecycle.deprovision({ namespace: 'acme', name: 'web' }, deleted(placedVm({ provisioned: true })));
    expect({ calls: h.calls, phase: h.writes.at(-1)?.status?.phase, ready: readyOf(h.writes.at(-1))?.reason }).toEqual({
      calls: ['observe'],
      phase: 'Terminating',
      ready: 'Deprovisioning',
    });
  });

  it('drops the finalizer and says Released once the delete has succeeded', async () => {
    const h = harness(noMachine({ lastOperation: op('Delete', 'Succeeded') }));
    const result = await h.lifecycle.deprovision({ namespace: 'acme', name: 'web' }, deleted(placedVm({ provisioned: true })));
    expect({ result, events: h.events, patches: h.patches }).toEqual({
      result: {},
      events: ['Normal/Released'],
      patches: [[
        { op: 'test', path: '/metadata/finalizers', value: [VM_FINALIZER] },
        { op: 'replace', path: '/metadata/finalizers', value: [] },
      ]],
    });
  });
});

describe('between observes, the status reports of its own requests', () => {
  const key = { namespace: 'acme', name: 'web' };
  /** The VM as the external controller's report leaves it, at a version after every write. */
  const reported = (v: VirtualMachine, rv: number, lastOperation: Operation, extra: Partial<NonNullable<VirtualMachine['status']>> = {}): VirtualMachine => ({
    ...v,
    metadata: { ...v.metadata, resourceVersion: String(rv) },
    status: { ...v.status, lastOperation, ...extra },
  });
  const deleted = (v: VirtualMachine): VirtualMachine => ({ ...v, metadata: { ...v.metadata, deletionTimestamp: '2026-12-06T05:59:00Z' } });

  it('creates, settles Running on the report, deletes and releases on the report: two requests, no observe', async () => {
    const h = harness(noMachine());
    await h.lifecycle.lifecycle('acme/web', placedVm());
    const built = reported(h.writes.at(-1)!, 100, op('Create', 'Succeeded', 'op-2'), { powerState: 'On', externalId: 'ext-9' });
    await h.lifecycle.lifecycle('acme/web', built);
    const running = h.writes.at(-1)!;
    expect({ phase: running.status?.phase, ready: readyOf(running)?.reason, externalId: running.status?.externalId }).toEqual({ phase: 'Running', ready: 'Running', externalId: 'ext-9' });
    await h.lifecycle.deprovision(key, deleted(reported(running, 200, op('Create', 'Succeeded', 'op-2'))));
    const gone = reported(deleted(running), 300, op('Delete', 'Succeeded', 'op-3'), { powerState: undefined, externalId: undefined });
    const result = await h.lifecycle.deprovision(key, gone);
    expect({ calls: h.calls, result, events: h.events }).toEqual({ calls: ['create', 'delete'], result: {}, events: ['Normal/Running', 'Normal/Released'] });
  });

  it('waits for the report of its create without asking, Provisioning', async () => {
    const h = harness(noMachine());
    await h.lifecycle.lifecycle('acme/web', placedVm());
    const woken = { ...h.writes.at(-1)!, metadata: { ...h.writes.at(-1)!.metadata, resourceVersion: '100' } };
    const result = await h.lifecycle.lifecycle('acme/web', woken);
    expect({ calls: h.calls, phase: h.writes.at(-1)?.status?.phase, result }).toEqual({ calls: ['create'], phase: 'Provisioning', result: { requeueAfterMs: operationCheckMs } });
  });

  const afterCreate = async () => {
    const h = harness(machine({ generation: 1, lastOperation: op('Create', 'Succeeded', 'op-x') }));
    await h.lifecycle.lifecycle('acme/web', placedVm());
    return { h, vm: h.writes.at(-1)! };
  };
  const observeCases: { name: string; vm: (v: VirtualMachine) => VirtualMachine }[] = [
    { name: 'a Failed report: observe says why and what is left', vm: (v) => reported(v, 100, op('Create', 'Failed', 'op-2')) },
    { name: 'a report of an operation it did not ask for', vm: (v) => reported(v, 100, op('Power', 'Succeeded', 'op-77')) },
    { name: 'a report older than the request (out of order)', vm: (v) => reported(v, 100, op('Delete', 'Succeeded', 'op-0')) },
  ];
  it.each(observeCases)('observes on $name', async ({ vm }) => {
    const { h, vm: written } = await afterCreate();
    await h.lifecycle.lifecycle('acme/web', vm(written));
    expect(h.calls).toEqual(['create', 'observe']);
  });

  it('observes once the resync period has gone by since the last report: drift is looked for', async () => {
    const { h, vm: written } = await afterCreate();
    const built = reported(written, 100, op('Create', 'Succeeded', 'op-2'));
    h.lifecycle.noteReport('acme/web', built);
    h.clock.now += resyncMs;
    await h.lifecycle.lifecycle('acme/web', built);
    expect(h.calls).toEqual(['create', 'observe']);
  });

  it('trusts a report that was slow to arrive from when it came, without observing', async () => {
    const { h, vm: written } = await afterCreate();
    h.clock.now += resyncMs;
    await h.lifecycle.lifecycle('acme/web', reported(written, 100, op('Create', 'Succeeded', 'op-2'), { powerState: 'On' }));
    expect({ calls: h.calls, phase: h.writes.at(-1)?.status?.phase }).toEqual({ calls: ['create'], phase: 'Running' });
  });

  it('observes every VM again after a restart: nothing is carried over', async () => {
    const first = await afterCreate();
    const restarted = harness(machine({ generation: 1, lastOperation: op('Create', 'Succeeded', 'op-2') }));
    await restarted.lifecycle.lifecycle('acme/web', reported(first.vm, 100, op('Create', 'Succeeded', 'op-2'), { powerState: 'On' }));
    expect(restarted.calls).toEqual(['observe']);
  });

  it('updates the machine when the spec moves on after a report, and trusts the update report', async () => {
    const h = harness(noMachine());
    await h.lifecycle.lifecycle('acme/web', placedVm());
    const built = reported(h.writes.at(-1)!, 100, op('Create', 'Succeeded', 'op-2'), { powerState: 'On' });
    await h.lifecycle.lifecycle('acme/web', { ...built, metadata: { ...built.metadata, generation: 2 } });
    const updating = h.writes.at(-1)!;
    await h.lifecycle.lifecycle('acme/web', reported(updating, 200, op('Update', 'Succeeded', 'op-3')));
    expect({ calls: h.calls, phase: h.writes.at(-1)?.status?.phase }).toEqual({ calls: ['create', 'update'], phase: 'Running' });
  });
});

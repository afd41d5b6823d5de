// The VM lifecycle through real HTTP: API server, simulated external controller and the
// controllers in this process. The simulator's clock is held while a test looks at a
// transitional phase, so an operation stays Running exactly as long as the check needs.
// Placed -> Provisioning -> Starting -> Running; runStrategy Halted -> Stopping -> Stopped
// (graceful and forced); Always again -> Starting -> Running; a newer restartAt ->
// Restarting -> Running; Manual leaves power alone. Conditions, lastOperation and
// observedGeneration are checked against what the simulator did. Last, the credential the
// external controller reports with may write VM status and nothing else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait.js';
import { GROUP, NS, condition, inOrder, ok, startWorld, vmPath, type World } from './lifecycle-harness.js';

let w: World;

beforeAll(async () => {
  w = await startWorld({ latencyMs: { create: 150, boot: 150, power: 200, update: 0, delete: 100 } });
});

afterAll(async () => {
  await w?.stop();
});

const running = (vm: any) => vm.status?.phase === 'Running' && condition(vm, 'Ready')?.status === 'True';
const stopped = (vm: any) => vm.status?.phase === 'Stopped' && vm.status?.powerState === 'Off';
const reasonsOf = (events: any[]) => events.map((e) => e.reason);
const machineOf = (vm: any) => w.sim.simulation.machines.get(vm.metadata.uid);

/** Every condition of the three the lifecycle keeps, stamped with the VM's generation. */
function expectConditionsOfGeneration(vm: any) {
  const generation = vm.metadata.generation;
  expect(vm.status.observedGeneration).toBe(generation);
  for (const type of ['Scheduled', 'Provisioned', 'Ready']) {
    expect(condition(vm, type)?.observedGeneration, `${type} observedGeneration`).toBe(generation);
  }
}

describe('one VM from creation to power changes', () => {
  it('a new VM goes Provisioning -> Starting -> Running, and its status says what the external controller did', async () => {
    const log = await w.watchVm('web-1');
    w.clock.hold();
    await w.createVm('web-1');
    let vm = await w.waitVm('web-1', 'the create requested', (v) => v.status?.lastOperation?.type === 'Create');
    expect(vm.status).toMatchObject({ phase: 'Provisioning', lastOperation: { state: 'Running' } });
    expect(condition(vm, 'Provisioned')).toMatchObject({ status: 'False', reason: 'Provisioning' });
    expect(condition(vm, 'Ready')).toMatchObject({ status: 'False' });
    // The machine is built (the first stage of the create) and boots: Starting.
    await waitUntil(() => w.clock.waiting > 0, 'the build stage due');
    w.clock.step();
    vm = await w.waitVm('web-1', 'Starting', (v) => v.status?.phase === 'Starting');
    expect(vm.status).toMatchObject({ powerState: 'Off', lastOperation: { type: 'Create', state: 'Running', message: expect.stringContaining('booting') } });
    expect(condition(vm, 'Provisioned')).toMatchObject({ status: 'False', reason: 'Provisioning' });
    expect(condition(vm, 'Ready')).toMatchObject({ status: 'False', reason: 'Starting' });
    w.clock.release();
    vm = await w.waitVm('web-1', 'Running and Ready', running);
    await log.until('Running', running);
    expect(log.phases(), `phases: ${log.phases().join(' -> ')}`).toSatisfy((p: string[]) => inOrder(p, ['Provisioning', 'Starting', 'Running']));
    await log.close();

    expect(condition(vm, 'Scheduled')).toMatchObject({ status: 'True', reason: 'Scheduled' });
    expect(condition(vm, 'Provisioned')).toMatchObject({ status: 'True', reason: 'Provisioned' });
    expect(condition(vm, 'Provisioned').message).toContain(vm.status.externalId);
    expect(condition(vm, 'Ready')).toMatchObject({ status: 'True', reason: 'Running' });
    expectConditionsOfGeneration(vm);
    const machine = machineOf(vm);
    expect(machine).toMatchObject({ powerState: 'On', boots: 1, generation: 1 });
    expect(vm.status).toMatchObject({
      powerState: 'On',
      externalId: machine!.externalId,
      addresses: machine!.addresses,
      lastOperation: { type: 'Create', state: 'Succeeded', message: `created on ${vm.status.placement.baremetal}` },
    });
    expect(vm.status.lastOperation.finishedAt).toEqual(expect.any(String));
    expect(w.sim.stats.uid(vm.metadata.uid)).toMatchObject({ machinesCreated: 1, failures: 0 });

    const runningEvent = await w.waitEvent('web-1', 'Running');
    expect(runningEvent.message).toBe(`Provisioned by vm-service-tw on ${vm.status.placement.baremetal} as ${vm.status.externalId}. The VM is running.`);
    expect(reasonsOf(await w.events('web-1'))).toEqual(expect.arrayContaining(['Scheduled', 'Running']));
  });

  it('runStrategy Halted stops it gracefully: Stopping -> Stopped, Ready False, the new generation observed', async () => {
    const log = await w.watchVm('web-1');
    w.clock.hold();
    const patched = await w.patchVm('web-1', { spec: { runStrategy: 'Halted' } });
    expect(patched.metadata.generation).toBe(2);
    await w.waitVm('web-1', 'Stopping', (v) => v.status?.phase === 'Stopping');
    w.clock.release();
    const vm = await w.waitVm('web-1', 'Stopped', stopped);
    await log.until('Stopped', stopped);
    expect(log.phases()).toSatisfy((p: string[]) => inOrder(p, ['Running', 'Stopping', 'Stopped']));
    await log.close();
    expect(vm.status.lastOperation).toMatchObject({ type: 'Power', state: 'Succeeded', message: 'shut down gracefully' });
    expect(condition(vm, 'Ready')).toMatchObject({ status: 'False', reason: 'Stopped' });
    expect(condition(vm, 'Provisioned')).toMatchObject({ status: 'True' });
    expectConditionsOfGeneration(vm);
    expect(machineOf(vm)).toMatchObject({ powerState: 'Off', generation: 2 });
    await w.waitEvent('web-1', 'Stopped');
    expect(reasonsOf(await w.events('web-1'))).toContain('Stopping');
  });

  it('runStrategy Always after Halted starts it again: Starting -> Running', async () => {
    const log = await w.watchVm('web-1');
    w.clock.hold();
    await w.patchVm('web-1', { spec: { runStrategy: 'Always' } });
    const starting = await w.waitVm('web-1', 'Starting', (v) => v.status?.phase === 'Starting');
    expect(condition(starting, 'Ready')).toMatchObject({ status: 'False', reason: 'Starting' });
    w.clock.release();
    const vm = await w.waitVm('web-1', 'Running again', running);
    await log.until('Running', running);
    expect(log.phases()).toSatisfy((p: string[]) => inOrder(p, ['Stopped', 'Starting', 'Running']));
    await log.close();
    expect(vm.status.lastOperation).toMatchObject({ type: 'Power', state: 'Succeeded', message: 'started' });
    expect(vm.status.powerState).toBe('On');
    expectConditionsOfGeneration(vm);
    expect(machineOf(vm)).toMatchObject({ powerState: 'On', boots: 2 });
  });

  it('stopPolicy Force powers it off at once', async () => {
    await w.patchVm('web-1', { spec: { runStrategy: 'Halted', stopPolicy: 'Force' } });
    const vm = await w.waitVm('web-1', 'Stopped by force', stopped);
    expect(vm.status.lastOperation).toMatchObject({ type: 'Power', state: 'Succeeded', message: 'powered off (forced)' });
    expect(condition(vm, 'Ready')).toMatchObject({ status: 'False', reason: 'Stopped' });
    expectConditionsOfGeneration(vm);
    await w.patchVm('web-1', { spec: { runStrategy: 'Always', stopPolicy: 'Graceful' } });
    await w.waitVm('web-1', 'Running again', (v) => running(v) && v.status.observedGeneration === v.metadata.generation);
  });

  it('a newer restartAt restarts it: Restarting -> Running, and status.restartedAt records it', async () => {
    const before = machineOf(await w.getVm('web-1'))!.boots;
    const restartAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const log = await w.watchVm('web-1');
    w.clock.hold();
    await w.patchVm('web-1', { spec: { restartAt } });
    const restarting = await w.waitVm('web-1', 'Restarting', (v) => v.status?.phase === 'Restarting');
    expect(condition(restarting, 'Ready')).toMatchObject({ status: 'False', reason: 'Restarting' });
    expect(restarting.status.restartedAt).toBeUndefined();
    w.clock.release();
    const restarted = (v: any) => running(v) && v.status.restartedAt === restartAt;
    const vm = await w.waitVm('web-1', 'restarted', restarted);
    await log.until('restarted', restarted);
    expect(log.phases()).toSatisfy((p: string[]) => inOrder(p, ['Running', 'Restarting', 'Running']));
    await log.close();
    expect(machineOf(vm)!.boots).toBe(before + 1);
    expect(vm.status.lastOperation).toMatchObject({ type: 'Power', state: 'Succeeded', message: 'restarted gracefully' });
    expectConditionsOfGeneration(vm);
    await w.waitEvent('web-1', 'Restarted');

    // An older restartAt is not a restart request: it is observed and nothing happens.
    const powers = w.sim.stats.uid(vm.metadata.uid).powers;
    const older = new Date(Date.parse(restartAt) - 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await w.patchVm('web-1', { spec: { restartAt: older } });
    const observes = w.sim.stats.uid(vm.metadata.uid).observes;
    const after = await w.waitVm(
      'web-1',
      'the older restartAt observed twice over',
      (v) => v.status.observedGeneration === v.metadata.generation && w.sim.stats.uid(v.metadata.uid).observes >= observes + 2,
    );
    expect(after.status.phase).toBe('Running');
    expect(after.status.restartedAt).toBe(restartAt);
    expect(machineOf(after)!.boots).toBe(before + 1);
    expect(w.sim.stats.uid(vm.metadata.uid).powers).toBe(powers);
  });

  it('runStrategy Manual leaves power alone: a machine switched off stays off and is reported Stopped', async () => {
    await w.createVm('manual-1', { runStrategy: 'Manual' });
    let vm = await w.waitVm('manual-1', 'Running', running);
    const uid = vm.metadata.uid;
    const powers = w.sim.stats.uid(uid).powers;
    expect(w.sim.simulation.setPower(uid, 'Off')).toBe(true);
    vm = await w.waitVm('manual-1', 'reported Stopped', stopped);
    expect(condition(vm, 'Ready')).toMatchObject({ status: 'False', reason: 'Stopped' });
    const event = await w.waitEvent('manual-1', 'PowerChangedExternally');
    expect(event.message).toContain('runStrategy Manual');
    // Observed again and again, and never started.
    const observes = w.sim.stats.uid(uid).observes;
    await w.waitVm('manual-1', 'observed three more times', () => w.sim.stats.uid(uid).observes >= observes + 3);
    expect(w.sim.stats.uid(uid).powers).toBe(powers);
    expect(w.sim.simulation.machines.get(uid)!.powerState).toBe('Off');
    expect((await w.getVm('manual-1')).status.phase).toBe('Stopped');

    // Switched on outside VirtFlow: reported Running, again without a power operation.
    w.sim.simulation.setPower(uid, 'On');
    await w.waitVm('manual-1', 'Running again', running);
    expect(w.sim.stats.uid(uid).powers).toBe(powers);
  });

  it('a VM created Halted is built and left off: Provisioning -> Stopped, never started', async () => {
    const log = await w.watchVm('halted-1');
    await w.createVm('halted-1', { runStrategy: 'Halted' });
    const vm = await w.waitVm('halted-1', 'Stopped', stopped);
    await log.until('Stopped', stopped);
    expect(log.phases()).not.toContain('Starting');
    expect(log.phases()).not.toContain('Running');
    await log.close();
    expect(condition(vm, 'Provisioned')).toMatchObject({ status: 'True' });
    expect(condition(vm, 'Ready')).toMatchObject({ status: 'False', reason: 'Stopped' });
    expect(machineOf(vm)).toMatchObject({ powerState: 'Off', boots: 0 });
    expect(w.sim.stats.uid(vm.metadata.uid).powers).toBe(0);
  });
});

describe('the credential of the external controller', () => {
  const asStatusWriter = () => ({ authorization: `Bearer ${w.vf.statusToken}` });

  it('the status reports arrived with the ExternalController\'s own identity, and only as status patches', async () => {
    const rows = await w.vf.db.query<{ username: string; verb: string; subresource: string; code: number }>(
      `SELECT username, verb, subresource, code FROM audit_events WHERE resource = 'virtualmachines' AND namespace = ? AND name = 'web-1'`,
      [NS],
    );
    // The token handed over in the callback: the ServiceAccount of ExternalController vm-service-tw.
    const fromController = rows.filter((r) => r.username === 'system:serviceaccount:virtflow-system:externalcontroller-vm-service-tw');
    expect(fromController.length).toBeGreaterThan(3);
    for (const r of fromController) {
      expect(r.subresource).toBe('status');
      expect(['patch', 'update']).toContain(r.verb);
      expect(r.code).toBe(200);
    }
  });

  it('may read VMs and patch their status, and nothing else (403)', async () => {
    const vm = ok(await w.vf.call('GET', vmPath('web-1'), undefined, asStatusWriter()), 200);
    const mergePatch = { ...asStatusWriter(), 'content-type': 'application/merge-patch+json' };
    const status = ok(await w.vf.call('PATCH', vmPath('web-1') + '/status', { status: { addresses: vm.status.addresses } }, mergePatch), 200);
    expect(status.spec).toEqual(vm.spec);

    // A status patch that also carries spec changes only the status.
    const sneaky = ok(await w.vf.call('PATCH', vmPath('web-1') + '/status', { spec: { runStrategy: 'Halted' }, status: {} }, mergePatch), 200);
    expect(sneaky.spec.runStrategy).toBe('Always');

    const refused = [
      await w.vf.call('PATCH', vmPath('web-1'), { spec: { runStrategy: 'Halted' } }, mergePatch),
      await w.vf.call('PUT', vmPath('web-1'), vm, asStatusWriter()),
      await w.vf.call('DELETE', vmPath('web-1'), undefined, asStatusWriter()),
      await w.vf.call('POST', vmPath(), { apiVersion: 'virtflow.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'x' }, spec: vm.spec }, asStatusWriter()),
      await w.vf.call('PATCH', `${GROUP}/baremetals/h1/status`, { status: { phase: 'Error' } }, mergePatch),
      await w.vf.call('GET', `${GROUP}/tenantquotas`, undefined, asStatusWriter()),
      await w.vf.call('GET', `/api/v1/namespaces/${NS}/secrets`, undefined, asStatusWriter()),
      await w.vf.call('POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, asStatusWriter()),
    ];
    for (const res of refused) expect(res.status, res.text).toBe(403);
    expect(refused[0]!.body).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    const after = ok(await w.vf.call('GET', vmPath('web-1')), 200);
    expect(after.spec).toEqual(vm.spec);
    expect(after.metadata.deletionTimestamp).toBeUndefined();
  });
});

// When the world misbehaves, through real HTTP: an external controller that cannot be
// reached (behind a relay the test closes and opens), machines that vanish or change power
// behind VirtFlow's back, and VirtFlow's own controllers killed between a request and the
// external controller's report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait.js';
import { GROUP, condition, ok, startWorld, type World } from './lifecycle-harness.js';

let w: World;

beforeAll(async () => {
  w = await startWorld({ relay: true, latencyMs: { create: 100, boot: 100, power: 100, delete: 100 } });
});

afterAll(async () => {
  await w?.stop();
});

const running = (vm: any) => vm.status?.phase === 'Running' && condition(vm, 'Ready')?.status === 'True';
const xcPath = `${GROUP}/externalcontrollers/vm-service-tw`;
const xcStatus = async () => ok(await w.vf.call('GET', xcPath), 200).status ?? {};

describe('an unreachable external controller', () => {
  it('is reported on the VM waiting for it and on the ExternalController, with Events, and both recover when it returns', async () => {
    await waitUntil(async () => (await xcStatus()).reachable === true, 'the ExternalController reachable');
    await w.relay!.close();

    const created = await w.createVm('unreach-1');
    const uid = created.metadata.uid;
    const vm = await w.waitVm('unreach-1', 'ProviderUnreachable', (v) => condition(v, 'Provisioned')?.reason === 'ProviderUnreachable');
    expect(condition(vm, 'Provisioned')).toMatchObject({ status: 'False' });
    expect(condition(vm, 'Provisioned').message).toContain(w.relay!.url);
    expect(condition(vm, 'Ready')).toMatchObject({ status: 'False', reason: 'ProviderUnreachable' });
    expect(condition(vm, 'Scheduled')).toMatchObject({ status: 'True' });
    const event = await w.waitEvent('unreach-1', 'ProviderUnreachable');
    expect(event.type).toBe('Warning');
    expect(event.message).toContain('unreachable');

    await waitUntil(async () => (await xcStatus()).reachable === false, 'the ExternalController not reachable');
    const xc = ok(await w.vf.call('GET', xcPath), 200);
    expect(condition(xc, 'Ready')).toMatchObject({ status: 'False', reason: 'ProviderUnreachable' });
    await w.waitEvent('vm-service-tw', 'ProviderUnreachable', 'default');
    expect(w.sim.stats.uid(uid).creates).toBe(0);

    // Retried with back-off while it is away: one Event, however many attempts.
    const reconciles = await w.vmReconciles();
    await waitUntil(async () => (await w.vmReconciles()) >= reconciles + 3, 'three more reconciles');
    expect((await w.events('unreach-1')).filter((e) => e.reason === 'ProviderUnreachable')).toHaveLength(1);

    await w.relay!.open();
    const recovered = await w.waitVm('unreach-1', 'Running once it is back', running);
    expect(condition(recovered, 'Provisioned')).toMatchObject({ status: 'True', reason: 'Provisioned' });
    expect(w.sim.stats.uid(uid).machinesCreated).toBe(1);
    await waitUntil(async () => (await xcStatus()).reachable === true, 'the ExternalController reachable again');
    await w.waitEvent('vm-service-tw', 'Reachable', 'default');
  });

  it('makes a running VM Ready Unknown (its state cannot be known), and Ready again when it returns', async () => {
    await w.relay!.close();
    const unknown = await w.waitVm('unreach-1', 'Ready Unknown', (v) => condition(v, 'Ready')?.status === 'Unknown');
    expect(condition(unknown, 'Ready').reason).toBe('ProviderUnreachable');
    expect(condition(unknown, 'Provisioned')).toMatchObject({ status: 'True' });
    expect(unknown.status.phase).toBe('Running');
    await w.relay!.open();
    await w.waitVm('unreach-1', 'Ready again', running);
  });
});

describe('drift: the machine changed behind VirtFlow\'s back', () => {
  it('a machine that vanished is reported (condition and Event) and built again on the same host', async () => {
    const vm = await w.createVm('drift-gone').then(() => w.waitVm('drift-gone', 'Running', running));
    const uid = vm.metadata.uid;
    w.clock.hold();
    expect(w.sim.simulation.vanish(uid)).toBe(true);
    const drifted = await w.waitVm('drift-gone', 'ExternalDrift', (v) => condition(v, 'Provisioned')?.reason === 'ExternalDrift');
    expect(drifted.status.phase).toBe('Provisioning');
    expect(condition(drifted, 'Provisioned')).toMatchObject({ status: 'False' });
    expect(condition(drifted, 'Ready')).toMatchObject({ status: 'False', reason: 'ExternalDrift' });
    expect(drifted.status.externalId).toBeUndefined();
    const event = await w.waitEvent('drift-gone', 'ExternalDrift');
    expect(event).toMatchObject({ type: 'Warning' });
    expect(event.message).toContain('no longer exists');
    w.clock.release();
    const repaired = await w.waitVm('drift-gone', 'Running again', running);
    expect(repaired.status.placement.baremetal).toBe(vm.status.placement.baremetal);
    expect(repaired.status.externalId).not.toBe(vm.status.externalId);
    // A lost machine is built again: the second machine of this uid, and no more.
    expect(w.sim.stats.uid(uid).machinesCreated).toBe(2);
  });

  it('a machine switched off while runStrategy is Always is reported and started again', async () => {
    const vm = await w.waitVm('drift-gone', 'Running', running);
    const uid = vm.metadata.uid;
    const boots = w.sim.simulation.machines.get(uid)!.boots;
    w.clock.hold();
    w.sim.simulation.setPower(uid, 'Off');
    const drifted = await w.waitVm('drift-gone', 'found off', (v) => condition(v, 'Ready')?.reason === 'ExternalDrift');
    expect(drifted.status).toMatchObject({ phase: 'Starting', powerState: 'Off' });
    expect(condition(drifted, 'Ready').message).toContain('found off while runStrategy is Always');
    w.clock.release();
    await w.waitVm('drift-gone', 'Running again', running);
    expect(w.sim.simulation.machines.get(uid)).toMatchObject({ powerState: 'On', boots: boots + 1 });
    const events = (await w.events('drift-gone')).filter((e) => e.reason === 'ExternalDrift');
    expect(events.map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringContaining('found off')]));
  });

  it('a machine switched on while runStrategy is Halted is reported and stopped again', async () => {
    await w.createVm('drift-on', { runStrategy: 'Halted' });
    const vm = await w.waitVm('drift-on', 'Stopped', (v) => v.status?.phase === 'Stopped');
    const uid = vm.metadata.uid;
    w.sim.simulation.setPower(uid, 'On');
    await w.waitEvent('drift-on', 'ExternalDrift');
    const stopped = await w.waitVm('drift-on', 'Stopped again', (v) => v.status?.phase === 'Stopped' && w.sim.simulation.machines.get(uid)?.powerState === 'Off');
    expect(stopped.status.lastOperation).toMatchObject({ type: 'Power', state: 'Succeeded', message: 'shut down gracefully' });
  });
});

describe('the controllers killed between a request and its report', () => {
  it('a successor that finds the create still running waits for it: one request, one machine', async () => {
    w.clock.hold();
    const created = await w.createVm('crash-1');
    const uid = created.metadata.uid;
    await waitUntil(() => w.sim.stats.uid(uid).creates >= 1, 'the create request');
    await w.stopControllers();
    w.startControllers();
    // The successor observes the running create, again and again, and asks nothing.
    const reconciles = await w.vmReconciles();
    await waitUntil(async () => (await w.vmReconciles()) >= reconciles + 2, 'the successor reconciling');
    expect(w.sim.stats.uid(uid).creates).toBe(1);
    w.clock.release();
    await w.waitVm('crash-1', 'Running', running);
    expect(w.sim.stats.uid(uid)).toMatchObject({ creates: 1, machinesCreated: 1 });
  });

  it('a successor that starts after the report finds the machine built: no second create', async () => {
    w.clock.hold();
    const created = await w.createVm('crash-2');
    const uid = created.metadata.uid;
    await waitUntil(() => w.sim.stats.uid(uid).creates >= 1, 'the create request');
    await w.stopControllers();
    // The machine is built and reported while no controller runs.
    w.clock.release();
    await waitUntil(() => w.sim.simulation.machines.get(uid)?.powerState === 'On' && w.sim.simulation.operationsInFlight === 0, 'the machine built');
    await w.sim.whenReported();
    const reported = await w.getVm('crash-2');
    expect(reported.status.lastOperation).toMatchObject({ type: 'Create', state: 'Succeeded' });
    w.startControllers();
    await w.waitVm('crash-2', 'Running', running);
    expect(w.sim.stats.uid(uid)).toMatchObject({ creates: 1, machinesCreated: 1 });
  });

  it('a delete interrupted the same way removes the machine once and releases the VM', async () => {
    const vm = await w.waitVm('crash-2', 'Running', running);
    const uid = vm.metadata.uid;
    w.clock.hold();
    await w.deleteVm('crash-2');
    await waitUntil(() => w.sim.stats.uid(uid).deletes >= 1, 'the delete request');
    await w.stopControllers();
    w.clock.release();
    await waitUntil(() => !w.sim.simulation.machines.has(uid), 'the machine deleted');
    w.startControllers();
    await w.waitGone('crash-2');
    // The successor found the delete done and asked nothing more.
    expect(w.sim.stats.uid(uid)).toMatchObject({ machinesCreated: 1, deletes: 1 });
  });
});

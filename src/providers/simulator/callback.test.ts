// The simulator reports back through a real VirtFlow API server: it PATCHes the VM's status
// subresource with the callback's token and CA, and those patches are what the VM
// controller will read.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { waitUntil } from '../../../test/support/wait.js';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import { FakeClock } from '../../runtime/testing.js';
import { HttpVirtualMachineProvider } from '../http-provider.js';
import { placementTw, ubuntu } from '../testing.js';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from './server.js';

let vf: TestServer;
const sims: SimulatorHandle[] = [];

beforeAll(async () => {
  vf = await startTestServer();
});
afterAll(async () => {
  await vf?.stop();
});
afterEach(async () => {
  for (const s of sims.splice(0)) await s.stop();
});

const vmPath = (name: string) => `/apis/virtflow.io/v1alpha1/namespaces/default/virtualmachines/${name}`;
const resources = { cpu: 2, memory: '4Gi', storage: '40Gi', gpu: 0 };

async function createVm(name: string): Promise<VirtualMachine> {
  const res = await vf.call('POST', '/apis/virtflow.io/v1alpha1/namespaces/default/virtualmachines', {
    apiVersion: 'virtflow.io/v1alpha1',
    kind: 'VirtualMachine',
    metadata: { name },
    spec: { specification: 'c2m4-g2', image: 'ubuntu-24.04', group: 'tw-general' },
  });
  expect(res.status, res.text).toBe(201);
  return res.body as VirtualMachine;
}

async function statusOf(name: string): Promise<NonNullable<VirtualMachine['status']>> {
  const res = await vf.call('GET', vmPath(name));
  expect(res.status, res.text).toBe(200);
  return (res.body as VirtualMachine).status ?? {};
}

async function simulator(opts: SimulatorOptions): Promise<SimulatorHandle> {
  const sim = await startSimulator(opts);
  sims.push(sim);
  return sim;
}

/** The provider as the VM controller builds it: VirtFlow's URL, CA and a status token. */
function providerFor(sim: SimulatorHandle, callback = true): HttpVirtualMachineProvider {
  return new HttpVirtualMachineProvider({
    endpoint: sim.url,
    callback: callback ? { apiServer: vf.url, caCert: vf.caCert, token: vf.token } : undefined,
  });
}

describe('status callbacks to VirtFlow', () => {
  it('report Running while the create takes time, then the result with power state, id and addresses', async () => {
    const clock = new FakeClock();
    const sim = await simulator({ clock, latencyMs: 60_000, region: 'tw' });
    const vm = await createVm('cb-create');
    const ref = await providerFor(sim).create(vm, placementTw, { image: ubuntu, resources });

    await waitUntil(async () => (await statusOf('cb-create')).lastOperation?.state === 'Running', 'the Running report');
    const running = await statusOf('cb-create');
    expect(running.lastOperation).toEqual({ type: 'Create', id: ref.operationId, state: 'Running', startedAt: '2030-01-01T00:00:00Z' });
    expect(running.externalId).toBeUndefined();

    clock.advance(60_000);
    await sim.whenReported();
    const done = await statusOf('cb-create');
    expect(done.lastOperation).toEqual({
      type: 'Create',
      id: ref.operationId,
      state: 'Succeeded',
      startedAt: '2030-01-01T00:00:00Z',
      finishedAt: '2030-01-01T00:01:00Z',
      message: 'created on bm-tw-001',
    });
    expect(done.powerState).toBe('On');
    expect(done.externalId).toMatch(/^sim-tw-\d+$/);
    expect(done.addresses).toEqual([{ type: 'InternalIP', address: expect.stringMatching(/^10\./) }]);
    expect(sim.reporter.counts).toMatchObject({ sent: 2, dropped: 0 });
  });

  it('a controller killed between the request and the callback, asking again, gets the same operation and one machine', async () => {
    const clock = new FakeClock();
    const sim = await simulator({ clock, latencyMs: 5_000 });
    const vm = await createVm('cb-restart');
    const before = await providerFor(sim).create(vm, placementTw, { image: ubuntu, resources });
    // The successor reads the VM again (with the Running report in it) and repeats the create.
    await waitUntil(async () => (await statusOf('cb-restart')).lastOperation?.state === 'Running', 'the Running report');
    const reread = (await vf.call('GET', vmPath('cb-restart'))).body as VirtualMachine;
    const after = await providerFor(sim).create(reread, placementTw, { image: ubuntu, resources });
    expect(after.operationId).toBe(before.operationId);
    clock.advance(5_000);
    await sim.whenReported();
    expect((await statusOf('cb-restart')).lastOperation).toMatchObject({ id: before.operationId, state: 'Succeeded' });
    expect(sim.stats.uid(vm.metadata.uid!)).toMatchObject({ creates: 2, machinesCreated: 1 });
  });

  it('use the token and API server configured on the simulator when the request carries none', async () => {
    const clock = new FakeClock();
    const sim = await simulator({ clock, callback: { apiServer: vf.url, caCert: vf.caCert, token: vf.token } });
    const vm = await createVm('cb-configured');
    await providerFor(sim, false).create(vm, placementTw, { image: ubuntu, resources });
    clock.advance(0);
    await sim.whenReported();
    expect(await statusOf('cb-configured')).toMatchObject({ powerState: 'On', lastOperation: { state: 'Succeeded' } });
  });

  it('report an injected failure as lastOperation Failed with its message, and nothing else', async () => {
    const clock = new FakeClock();
    const sim = await simulator({ clock, failureRate: 1, random: () => 0 });
    const vm = await createVm('cb-failed');
    await providerFor(sim).create(vm, placementTw, { image: ubuntu, resources });
    clock.advance(0);
    await sim.whenReported();
    const status = await statusOf('cb-failed');
    expect(status.lastOperation).toMatchObject({
      type: 'Create',
      state: 'Failed',
      message: 'simulated failure (rate 1): the hypervisor refused to create the machine',
    });
    expect(status.powerState).toBeUndefined();
    expect(status.externalId).toBeUndefined();
  });

  it('clear power state, id and addresses after a delete, and leave no stale message behind', async () => {
    const clock = new FakeClock();
    const sim = await simulator({ clock, latencyMs: { power: 1_000 } });
    const vm = await createVm('cb-delete');
    const provider = providerFor(sim);
    await provider.create(vm, placementTw, { image: ubuntu, resources });
    clock.advance(0);
    clock.advance(1_000);
    const stop = await provider.power(vm, 'stop', { force: true });
    // The Running report of the new operation replaces the finished create's whole record.
    await waitUntil(async () => (await statusOf('cb-delete')).lastOperation?.id === stop.operationId, 'the power Running report');
    expect((await statusOf('cb-delete')).lastOperation).toEqual({
      type: 'Power',
      id: stop.operationId,
      state: 'Running',
      startedAt: '2030-01-01T00:00:01Z',
    });
    clock.advance(1_000);
    await sim.whenReported();
    expect(await statusOf('cb-delete')).toMatchObject({ powerState: 'Off', lastOperation: { type: 'Power', message: 'powered off (forced)' } });

    const ref = await provider.delete(vm, { dataDisk: 'Delete' });
    clock.advance(0);
    await sim.whenReported();
    const status = await statusOf('cb-delete');
    expect(status.lastOperation).toMatchObject({ type: 'Delete', id: ref.operationId, state: 'Succeeded', message: 'deleted with its data disk' });
    expect(status).not.toHaveProperty('powerState');
    expect(status).not.toHaveProperty('externalId');
    expect(status).not.toHaveProperty('addresses');
  });

  it('of a VM that no longer exists are dropped, not retried', async () => {
    const clock = new FakeClock();
    const sim = await simulator({ clock });
    const vm = await createVm('cb-gone');
    await providerFor(sim).create(vm, placementTw, { image: ubuntu, resources });
    expect((await vf.call('DELETE', vmPath('cb-gone'))).status).toBe(200);
    clock.advance(0);
    await sim.whenReported();
    expect(sim.reporter.counts).toEqual({ sent: 0, retried: 0, dropped: 1, duplicated: 0, reordered: 0 });
    expect(clock.pending).toBe(0);
  });

  it('with a token VirtFlow does not accept are dropped, and the VM status is untouched', async () => {
    const clock = new FakeClock();
    const sim = await simulator({ clock, callback: { apiServer: vf.url, caCert: vf.caCert, token: 'not-a-virtflow-token' } });
    const vm = await createVm('cb-badtoken');
    await providerFor(sim, false).create(vm, placementTw, { image: ubuntu, resources });
    clock.advance(0);
    await sim.whenReported();
    expect(sim.reporter.counts.dropped).toBe(1);
    expect(await statusOf('cb-badtoken')).not.toHaveProperty('lastOperation');
  });
});

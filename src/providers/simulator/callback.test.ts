// The simulator reports back through a real VirtFlow API server: it PATCHes the VM's status
// subresource with the callback's token and CA, and those patches are what the VM
// controller will read.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { waitUntil } from '../../../test/support/wait.js';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import { FakeClock } from '../../runtime/testing.js';
import { HttpVirtualMachineProvider, httpProviderFor } from '../http-provider.js';
import { makeExternalController, makeVm, placementTw, ubuntu } from '../testing.js';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from './server.js';

let vf: TestServer;
const sims: SimulatorHandle[] = [];

beforeAll(async () => {
  vf = await startTestServer();
  // VMs live in a tenant's namespace: this file's go in "default", so a tenant owns it.
  const tenant = await vf.call('POST', '/apis/virtflow.io/v1alpha1/tenants', {
    apiVersion: 'virtflow.io/v1alpha1',
    kind: 'Tenant',
    metadata: { name: 'callbacks' },
    spec: { namespace: 'default' },
  });
  expect(tenant.status, tenant.text).toBe(201);
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
  const sim = await startSimulator({ token: 'callback-test-token', ...opts });
  sims.push(sim);
  return sim;
}

/** The provider as the VM controller builds it: VirtFlow's URL, CA and a status token. */
function providerFor(sim: SimulatorHandle, callback = true): HttpVirtualMachineProvider {
  return new HttpVirtualMachineProvider({
    endpoint: sim.url,
    allowInsecureHttp: true,
    token: sim.token,
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
    expect(done.externalId).toMatch(/^sim-tw-[0-9a-f]{6}-\d{6}$/);
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

  it('never go to an address a caller names: without the token the request is refused, with it a foreign apiServer is', async () => {
    // The attack of issue 13: a callback on the caller's own listener, to receive the token.
    const stolen: (string | undefined)[] = [];
    const listener = http.createServer((req, res) => {
      stolen.push(req.headers.authorization);
      res.writeHead(200).end('{}');
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const trap = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    try {
      const clock = new FakeClock();
      const sim = await simulator({ clock, callback: { apiServer: vf.url, caCert: vf.caCert, token: vf.statusToken } });
      const vm = await createVm('cb-trap');
      const body = {
        uid: vm.metadata.uid,
        generation: 1,
        namespace: 'default',
        name: 'cb-trap',
        placement: placementTw,
        resources,
        image: ubuntu,
        specification: 'c2m4-g2',
        callback: { apiServer: trap, statusPath: vmPath('cb-trap') + '/status' },
      };
      const post = (headers: Record<string, string>, payload: unknown = body) =>
        fetch(`${sim.url}/v1/virtualmachines`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(payload) });
      const anonymous = await post({});
      expect(anonymous.status).toBe(401);
      const wrongToken = await post({ authorization: 'Bearer callback-test-tokeN' });
      expect(wrongToken.status).toBe(401);
      const foreign = await post({ authorization: `Bearer ${sim.token}` });
      expect(foreign.status).toBe(400);
      expect(((await foreign.json()) as { message: string }).message).toContain(`callback.apiServer must be ${vf.url}`);
      // Another VM's status path is refused too: a report goes to the VM the request is for.
      const otherPath = await post({ authorization: `Bearer ${sim.token}` }, { ...body, callback: { statusPath: vmPath('someone-else') + '/status' } });
      expect(otherPath.status).toBe(400);
      expect(sim.simulation.machines.size).toBe(0);

      // Naming nothing (or the configured server) reports there, with the configured token.
      const fine = await post({ authorization: `Bearer ${sim.token}` }, { ...body, callback: { statusPath: body.callback.statusPath } });
      expect(fine.status).toBe(202);
      clock.advance(0);
      await sim.whenReported();
      expect(await statusOf('cb-trap')).toMatchObject({ powerState: 'On', lastOperation: { state: 'Succeeded' } });
      expect(stolen).toEqual([]);
    } finally {
      listener.closeAllConnections();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
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

describe('a simulator over TLS', () => {
  it('is trusted through the caBundle or the extra CA VirtFlow gives, and not by the system roots alone', async () => {
    const secure = await simulator({ tls: vf.tls, clock: new FakeClock() });
    expect(secure.url).toMatch(/^https:/);
    const xc = (spec: Record<string, unknown>) => makeExternalController('tls', { endpoint: secure.url, allowInsecureHttp: undefined, ...spec });
    const withBundle = httpProviderFor(xc({ caBundle: Buffer.from(vf.caCert).toString('base64') }), { token: secure.token });
    await expect(withBundle.observe(makeVm())).resolves.toMatchObject({ exists: false });
    const withExtra = httpProviderFor(xc({}), { token: secure.token, extraCa: vf.caCert });
    await expect(withExtra.observe(makeVm())).resolves.toMatchObject({ exists: false });
    const rootsOnly = httpProviderFor(xc({}), { token: secure.token });
    await expect(rootsOnly.observe(makeVm())).rejects.toMatchObject({ reason: 'ProviderUnreachable' });
  });
});

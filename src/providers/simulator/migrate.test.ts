// The optional migrate operation: announced in healthz, idempotent by requestId, moving the
// machine and nothing else; a simulator started without it neither announces nor serves it.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../runtime/testing.js';
import { HttpVirtualMachineProvider } from '../http-provider.js';
import { virtualMachineStatusPath, type CreateRequest } from '../protocol.js';
import { makeVm, placementTw, ubuntu } from '../testing.js';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from './server.js';

const TOKEN = 'migrate-test-token';
const running: SimulatorHandle[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

async function simulator(opts: SimulatorOptions): Promise<SimulatorHandle> {
  const sim = await startSimulator({ token: TOKEN, ...opts });
  running.push(sim);
  return sim;
}

async function call(sim: SimulatorHandle, method: string, path: string, body?: unknown) {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const createRequest = (uid: string): CreateRequest => ({
  uid,
  generation: 1,
  namespace: 'acme',
  name: 'web-1',
  placement: placementTw,
  resources: { cpu: 4, memory: '16Gi', storage: '100Gi', gpu: 0 },
  image: ubuntu,
  specification: 'c4m16-g2',
  callback: { statusPath: virtualMachineStatusPath('acme', 'web-1') },
});

const target = { baremetal: 'bm-tw-002', rack: 'rk-tw-a2', datacenter: 'dc-tw-1', region: 'tw' };

describe('migrate', () => {
  it('is announced, moves the machine keeping its id and disk, and a repeat answers the same operation', async () => {
    const clock = new FakeClock();
    const sim = await simulator({ clock, latencyMs: { migrate: 200 } });
    expect((await call(sim, 'GET', '/v1/healthz')).body.capabilities).toEqual(['migrate']);
    const uid = randomUUID();
    await call(sim, 'POST', '/v1/virtualmachines', createRequest(uid));
    clock.advance(1);
    const before = sim.simulation.machines.get(uid)!;
    const { externalId, dataDisk } = before;

    const provider = new HttpVirtualMachineProvider({ endpoint: sim.url, token: TOKEN, allowInsecureHttp: true });
    const vm = makeVm({ uid });
    const first = await provider.migrate(vm, target, { requestId: 'migrate:1' });
    expect(first).toMatchObject({ type: 'Migrate', state: 'Running' });
    const repeat = await provider.migrate(vm, target, { requestId: 'migrate:1' });
    expect(repeat.operationId).toBe(first.operationId);
    expect(sim.simulation.machines.get(uid)!.placement.baremetal).toBe('bm-tw-001');
    clock.advance(200);
    const observed = await provider.observe(vm);
    expect(observed.lastOperation).toMatchObject({ id: first.operationId, type: 'Migrate', state: 'Succeeded', message: 'migrated from bm-tw-001 to bm-tw-002' });
    const after = sim.simulation.machines.get(uid)!;
    expect([after.placement.baremetal, after.externalId, after.dataDisk]).toEqual(['bm-tw-002', externalId, dataDisk]);
    expect(sim.stats.uid(uid)).toMatchObject({ migrates: 2, replays: 1, machinesCreated: 1 });
  });

  it('of a uid without a machine is 404 NotFound, and a body without a target is 400 naming the field', async () => {
    const sim = await simulator({});
    const missing = await call(sim, 'POST', `/v1/virtualmachines/${randomUUID()}/migrate`, { generation: 1, placement: target, requestId: 'm' });
    expect(missing).toMatchObject({ status: 404, body: { code: 'NotFound' } });
    const invalid = await call(sim, 'POST', `/v1/virtualmachines/${randomUUID()}/migrate`, { generation: 1, requestId: 'm' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.message).toContain('placement');
  });

  it('is neither announced nor served by a simulator started with migrate: false', async () => {
    const sim = await simulator({ migrate: false });
    expect((await call(sim, 'GET', '/v1/healthz')).body.capabilities).toBeUndefined();
    const uid = randomUUID();
    await call(sim, 'POST', '/v1/virtualmachines', createRequest(uid));
    const res = await call(sim, 'POST', `/v1/virtualmachines/${uid}/migrate`, { generation: 1, placement: target, requestId: 'm' });
    expect(res.status).toBe(404);
    expect(res.body.message).toContain('no route');
    expect(sim.simulation.machines.get(uid)!.placement.baremetal).toBe('bm-tw-001');
  });
});

// The simulator speaks the documented protocol: raw HTTP round trips whose answers are
// checked against the protocol's schemas, failure injection from a seeded random source,
// latency on an injected clock, and counts per uid.
import { randomUUID } from 'node:crypto';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../runtime/testing.js';
import { ProviderRejected } from '../external-client.js';
import { HttpVirtualMachineProvider } from '../http-provider.js';
import { ErrorBody, Health, Observation, OperationAccepted, virtualMachineStatusPath, type CreateRequest } from '../protocol.js';
import { makeVm, placementTw, ubuntu } from '../testing.js';
import { seededRandom } from './random.js';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from './server.js';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (a: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
const conforms = {
  health: ajv.compile(Health),
  accepted: ajv.compile(OperationAccepted),
  observation: ajv.compile(Observation),
  error: ajv.compile(ErrorBody),
};

const running: SimulatorHandle[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

const TOKEN = 'simulator-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

async function simulator(opts: SimulatorOptions): Promise<SimulatorHandle> {
  const sim = await startSimulator({ token: TOKEN, ...opts });
  running.push(sim);
  return sim;
}

async function call(sim: SimulatorHandle, method: string, path: string, body?: unknown) {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

function createRequest(uid = randomUUID(), generation = 1): CreateRequest {
  return {
    uid,
    generation,
    namespace: 'acme',
    name: 'web-1',
    placement: placementTw,
    resources: { cpu: 4, memory: '16Gi', storage: '100Gi', gpu: 0 },
    image: ubuntu,
    specification: 'c4m16-g2',
    callback: { statusPath: virtualMachineStatusPath('acme', 'web-1') },
  };
}

describe('protocol round trips', () => {
  it('healthz names the protocol version, the service and the region', async () => {
    const sim = await simulator({ region: 'tw' });
    const res = await call(sim, 'GET', '/v1/healthz');
    expect(res.status).toBe(200);
    expect(conforms.health(res.body)).toBe(true);
    expect(res.body).toMatchObject({ status: 'ok', versions: ['v1'], service: 'VirtualMachine', regions: ['tw'] });
  });

  it('create answers 202 with an operation, a repeat answers 200 with the same one, and observe shows it', async () => {
    const clock = new FakeClock();
    const sim = await simulator({ clock, latencyMs: { create: 500 } });
    const req = createRequest();
    const first = await call(sim, 'POST', '/v1/virtualmachines', req);
    expect(first.status).toBe(202);
    expect(conforms.accepted(first.body)).toBe(true);
    expect(first.body).toMatchObject({ uid: req.uid, type: 'Create', state: 'Running' });
    const repeat = await call(sim, 'POST', '/v1/virtualmachines', req);
    expect(repeat.status).toBe(200);
    expect(repeat.body.operationId).toBe(first.body.operationId);

    const before = await call(sim, 'GET', `/v1/virtualmachines/${req.uid}`);
    expect(conforms.observation(before.body)).toBe(true);
    expect(before.body).toMatchObject({ exists: false, lastOperation: { id: first.body.operationId, state: 'Running' } });
    clock.advance(499);
    expect((await call(sim, 'GET', `/v1/virtualmachines/${req.uid}`)).body.exists).toBe(false);
    clock.advance(1);
    const after = await call(sim, 'GET', `/v1/virtualmachines/${req.uid}`);
    expect(conforms.observation(after.body)).toBe(true);
    expect(after.body).toMatchObject({ exists: true, generation: 1, powerState: 'On', lastOperation: { state: 'Succeeded' } });

    const stats = await call(sim, 'GET', '/v1/_stats');
    expect(stats.body.byUid[req.uid]).toMatchObject({ creates: 2, replays: 1, machinesCreated: 1 });
    expect(stats.body.machines).toBe(1);
  });

  it('with a boot latency, a create builds the machine (observed Off, the create still Running), then boots it', async () => {
    const clock = new FakeClock();
    const sim = await simulator({ clock, latencyMs: { create: 100, boot: 300 } });
    const req = createRequest();
    const first = await call(sim, 'POST', '/v1/virtualmachines', req);
    expect(first.status).toBe(202);
    const observe = async () => (await call(sim, 'GET', `/v1/virtualmachines/${req.uid}`)).body;
    expect(await observe()).toMatchObject({ exists: false, lastOperation: { state: 'Running' } });
    clock.advance(100);
    const built = await observe();
    expect(conforms.observation(built)).toBe(true);
    expect(built).toMatchObject({ exists: true, powerState: 'Off', lastOperation: { id: first.body.operationId, state: 'Running', message: 'built on bm-tw-001; booting' } });
    // Another request waits for the create, booting included.
    const stop = await call(sim, 'POST', `/v1/virtualmachines/${req.uid}/power`, { action: 'stop', requestId: 'stop:1' });
    expect(stop.body).toMatchObject({ code: 'OperationInProgress', operationId: first.body.operationId });
    clock.advance(299);
    expect((await observe()).powerState).toBe('Off');
    clock.advance(1);
    expect(await observe()).toMatchObject({ exists: true, powerState: 'On', lastOperation: { state: 'Succeeded', message: 'created on bm-tw-001' } });
    expect(sim.simulation.machines.get(req.uid)!.boots).toBe(1);
    expect(sim.stats.uid(req.uid).machinesCreated).toBe(1);
  });

  it('a create with powerOn false has no boot stage, and a single latency number never adds one', async () => {
    const clock = new FakeClock();
    const halted = await simulator({ clock, latencyMs: { create: 100, boot: 300 } });
    const req = { ...createRequest(), powerOn: false };
    await call(halted, 'POST', '/v1/virtualmachines', req);
    clock.advance(100);
    expect((await call(halted, 'GET', `/v1/virtualmachines/${req.uid}`)).body).toMatchObject({ exists: true, powerState: 'Off', lastOperation: { state: 'Succeeded' } });
    expect(halted.simulation.machines.get(req.uid)!.boots).toBe(0);

    const plain = await simulator({ clock, latencyMs: 100 });
    const other = createRequest();
    await call(plain, 'POST', '/v1/virtualmachines', other);
    clock.advance(100);
    expect((await call(plain, 'GET', `/v1/virtualmachines/${other.uid}`)).body).toMatchObject({ exists: true, powerState: 'On', lastOperation: { state: 'Succeeded' } });
  });

  it('the same uid created many times, concurrently and after completion, is one machine', async () => {
    const clock = new FakeClock();
    const sim = await simulator({ clock, latencyMs: 10 });
    const req = createRequest();
    const answers = await Promise.all(Array.from({ length: 10 }, () => call(sim, 'POST', '/v1/virtualmachines', req)));
    expect(new Set(answers.map((a) => a.body.operationId)).size).toBe(1);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
    clock.advance(10);
    await call(sim, 'POST', '/v1/virtualmachines', req);
    expect(sim.stats.uid(req.uid)).toMatchObject({ creates: 11, machinesCreated: 1 });
    expect(sim.simulation.machines.size).toBe(1);
  });

  it('refuses a body that does not match the schema, naming the field', async () => {
    const sim = await simulator({});
    const { resources: _dropped, ...noResources } = createRequest();
    const res = await call(sim, 'POST', '/v1/virtualmachines', { ...noResources, generation: 0 });
    expect(res.status).toBe(400);
    expect(conforms.error(res.body)).toBe(true);
    expect(res.body.code).toBe('Invalid');
    expect(res.body.message).toContain('/generation must be >= 1');
    expect(res.body.message).toContain("must have required property 'resources'");
    expect(sim.simulation.machines.size).toBe(0);
  });

  it('refuses a body that is not JSON', async () => {
    const sim = await simulator({});
    const res = await call(sim, 'POST', '/v1/virtualmachines', '{"uid": ');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('Invalid');
  });

  it('refuses a delete without requestId or with an unknown dataDisk policy', async () => {
    const sim = await simulator({});
    expect((await call(sim, 'DELETE', '/v1/virtualmachines/u1')).body.message).toContain('requestId');
    expect((await call(sim, 'DELETE', '/v1/virtualmachines/u1?requestId=r&dataDisk=Keep')).body.message).toContain('dataDisk');
  });

  it('answers an unknown path with a protocol error body', async () => {
    const sim = await simulator({});
    const res = await call(sim, 'GET', '/v2/virtualmachines');
    expect(res.status).toBe(404);
    expect(conforms.error(res.body)).toBe(true);
  });
});

describe('failure injection', () => {
  it('with a seeded random, exactly the predicted operations fail, are reported Failed, and a retry converges with one machine each', async () => {
    const seed = 7;
    const rate = 0.4;
    const clock = new FakeClock();
    const sim = await simulator({ clock, failureRate: rate, random: seededRandom(seed) });
    const provider = new HttpVirtualMachineProvider({ allowInsecureHttp: true, endpoint: sim.url, token: TOKEN });
    const vms = Array.from({ length: 20 }, (_, i) => makeVm({ name: `vm-${i}` }));

    // The same seed predicts which of the 20 first draws fail.
    const predict = seededRandom(seed);
    const predicted = vms.map(() => predict() < rate);
    expect(predicted.filter(Boolean).length).toBeGreaterThan(0);
    expect(predicted.filter((f) => !f).length).toBeGreaterThan(0);

    for (const vm of vms) await provider.create(vm, placementTw, { image: ubuntu });
    clock.advance(0);
    const seen = await Promise.all(vms.map((vm) => provider.observe(vm)));
    expect(seen.map((o) => o.lastOperation?.state === 'Failed')).toEqual(predicted);
    expect(seen.map((o) => o.exists)).toEqual(predicted.map((f) => !f));
    const failed = seen.find((o) => o.lastOperation?.state === 'Failed')!;
    expect(failed.lastOperation!.message).toBe('simulated failure (rate 0.4): the hypervisor refused to create the machine');

    // Retrying the same uid + generation until it sticks, as the VM controller would.
    for (let round = 0; round < 50; round++) {
      const missing = [];
      for (const vm of vms) if (!(await provider.observe(vm)).exists) missing.push(vm);
      if (missing.length === 0) break;
      for (const vm of missing) {
        const ref = await provider.create(vm, placementTw, { image: ubuntu });
        expect(ref.state).toBe('Running');
      }
      clock.advance(0);
    }
    for (const vm of vms) {
      expect(await provider.observe(vm)).toMatchObject({ exists: true, upToDate: true });
      expect(sim.stats.uid(vm.metadata.uid!).machinesCreated).toBe(1);
    }
    expect(sim.stats.totals().failures).toBeGreaterThanOrEqual(predicted.filter(Boolean).length);
  });

  it('a retry of a Failed operation is a new attempt with a new operation id', async () => {
    const clock = new FakeClock();
    const draws = [0.1, 0.9];
    const sim = await simulator({ clock, failureRate: 0.5, random: () => draws.shift()! });
    const provider = new HttpVirtualMachineProvider({ allowInsecureHttp: true, endpoint: sim.url, token: TOKEN });
    const vm = makeVm();
    const first = await provider.create(vm, placementTw, { image: ubuntu });
    clock.advance(0);
    expect((await provider.observe(vm)).lastOperation).toMatchObject({ id: first.operationId, state: 'Failed' });
    const second = await provider.create(vm, placementTw, { image: ubuntu });
    expect(second.operationId).not.toBe(first.operationId);
    clock.advance(0);
    expect((await provider.observe(vm)).lastOperation).toMatchObject({ id: second.operationId, state: 'Succeeded' });
  });

  it('in http mode answers 503 Unavailable, retryable, and changes nothing', async () => {
    const sim = await simulator({ failureRate: 1, failureMode: 'http', random: seededRandom(1), clock: new FakeClock() });
    const provider = new HttpVirtualMachineProvider({ allowInsecureHttp: true, endpoint: sim.url, token: TOKEN });
    const vm = makeVm();
    const err = await provider.create(vm, placementTw, { image: ubuntu }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderRejected);
    expect(err).toMatchObject({ status: 503, code: 'Unavailable', retryable: true });
    expect(await provider.observe(vm)).toMatchObject({ exists: false, lastOperation: undefined });
    expect(sim.stats.uid(vm.metadata.uid!)).toMatchObject({ creates: 1, failures: 1, machinesCreated: 0 });
    const raw = await fetch(`${sim.url}/v1/virtualmachines`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(createRequest()),
    });
    expect(raw.status).toBe(503);
    expect(raw.headers.get('retry-after')).toBe('1');
  });

  it('with a failure rate of 0 never draws from the random source', async () => {
    const sim = await simulator({
      clock: new FakeClock(),
      random: () => {
        throw new Error('drawn');
      },
    });
    const res = await call(sim, 'POST', '/v1/virtualmachines', createRequest());
    expect(res.status).toBe(202);
  });

  it('refuses a failure rate outside 0..1', async () => {
    await expect(startSimulator({ failureRate: 1.5 })).rejects.toThrow('between 0 and 1');
  });
});

describe('drift controls', () => {
  it('a machine that vanished behind VirtFlow\'s back is observed gone, and the same create builds it again', async () => {
    const clock = new FakeClock();
    const sim = await simulator({ clock });
    const provider = new HttpVirtualMachineProvider({ allowInsecureHttp: true, endpoint: sim.url, token: TOKEN });
    const vm = makeVm();
    await provider.create(vm, placementTw, { image: ubuntu });
    clock.advance(0);
    expect(sim.simulation.vanish(vm.metadata.uid!)).toBe(true);
    expect((await provider.observe(vm)).exists).toBe(false);
    await provider.create(vm, placementTw, { image: ubuntu });
    clock.advance(0);
    expect((await provider.observe(vm)).exists).toBe(true);
    expect(sim.stats.uid(vm.metadata.uid!).machinesCreated).toBe(2);
  });

  it('a machine switched off behind VirtFlow\'s back is observed Off', async () => {
    const clock = new FakeClock();
    const sim = await simulator({ clock });
    const provider = new HttpVirtualMachineProvider({ allowInsecureHttp: true, endpoint: sim.url, token: TOKEN });
    const vm = makeVm();
    await provider.create(vm, placementTw, { image: ubuntu });
    clock.advance(0);
    sim.simulation.setPower(vm.metadata.uid!, 'Off');
    expect((await provider.observe(vm)).powerState).toBe('Off');
  });
});

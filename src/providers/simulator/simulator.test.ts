// The simulator speaks the documented protocol: raw HTTP round trips whose answers are
// checked against the protocol's schemas, failure injection from a seeded random source,
// latency on an injected clock, and counts per uid.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
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
import { Simulation } from './simulation.js';
import { StatusReporter } from './status-reporter.js';

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

describe('guards', () => {
  /** A raw request, so the Host header can be anything. */
  function raw(sim: SimulatorHandle, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
    const url = new URL(sim.url);
    return new Promise((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, path, headers }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('will not start without a token unless told it is a test', async () => {
    await expect(startSimulator({})).rejects.toThrow('requires a bearer token');
  });

  it('answers 401 to a missing or wrong token, also one that differs only in its last character, on every route but healthz', async () => {
    const sim = await simulator({});
    const uid = randomUUID();
    for (const authorization of [undefined, `Bearer ${TOKEN.slice(0, -1)}X`, `bearer ${TOKEN}`, TOKEN]) {
      const headers: Record<string, string> = authorization ? { authorization } : {};
      for (const [method, path] of [['GET', `/v1/virtualmachines/${uid}`], ['DELETE', `/v1/virtualmachines/${uid}?requestId=bogus`], ['GET', '/v1/_stats']] as const) {
        const res = await fetch(`${sim.url}${path}`, { method, headers });
        expect(res.status, `${method} ${path} with ${authorization}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
    }
    expect(sim.stats.uid(uid)).toMatchObject({ observes: 0, deletes: 0 });
    expect((await fetch(`${sim.url}/v1/healthz`)).status).toBe(200);
  });

  it('answers only to Host names it knows (against DNS rebinding)', async () => {
    const sim = await simulator({ allowedHosts: ['sim.example.internal'] });
    expect((await raw(sim, '/v1/healthz', { host: 'attacker.example:7480' })).status).toBe(400);
    const refused = await raw(sim, '/v1/_stats', { host: 'attacker.example', ...auth });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('Host header');
    for (const host of ['127.0.0.1:1', 'localhost', 'sim.example.internal:7480']) {
      expect((await raw(sim, '/v1/healthz', { host })).status, host).toBe(200);
    }
  });

  it('refuses a body over the limit with 413, and a new machine beyond the most it tracks with 503', async () => {
    const clock = new FakeClock();
    const sim = await simulator({ clock, maxBodyBytes: 4096, maxTrackedUids: 2 });
    const big = { ...createRequest(), specification: 'x'.repeat(5000) };
    const tooBig = await call(sim, 'POST', '/v1/virtualmachines', big);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.message).toContain('larger than 4096 bytes');
    const [a, b, c] = [createRequest(), createRequest(), createRequest()];
    expect((await call(sim, 'POST', '/v1/virtualmachines', a)).status).toBe(202);
    expect((await call(sim, 'POST', '/v1/virtualmachines', b)).status).toBe(202);
    const full = await call(sim, 'POST', '/v1/virtualmachines', c);
    expect(full.status).toBe(503);
    expect(full.body).toMatchObject({ code: 'Unavailable', message: expect.stringContaining('at most 2 machines') });
    // A repeat of a tracked uid is still answered.
    expect((await call(sim, 'POST', '/v1/virtualmachines', a)).status).toBe(200);
  });

  it('forgets the oldest deleted uids beyond its bound, keeping memory flat', async () => {
    const clock = new FakeClock();
    const reporter = new StatusReporter({ clock });
    const sim = new Simulation({ clock, random: () => 1, reporter, maxDeletedUids: 10 });
    for (let i = 0; i < 100; i++) sim.delete(`gone-${i}`, 'Delete', 'r');
    expect(sim.trackedUids).toBeLessThanOrEqual(10);
    expect(sim.tracks('gone-99')).toBe(true);
    expect(sim.tracks('gone-0')).toBe(false);
    sim.stop();
    reporter.stop();
  });
});

describe('a bogus delete', () => {
  it('refuses a re-create of the deleted uid, unless the create says recreate', async () => {
    const clock = new FakeClock();
    const sim = await simulator({ clock });
    const req = createRequest();
    await call(sim, 'POST', '/v1/virtualmachines', req);
    clock.advance(0);
    const first = sim.simulation.machines.get(req.uid)!.externalId;
    expect((await call(sim, 'DELETE', `/v1/virtualmachines/${req.uid}?requestId=not-virtflow`)).status).toBe(202);
    clock.advance(0);
    expect((await call(sim, 'POST', '/v1/virtualmachines', req)).body.code).toBe('Deleted');
    const again = await call(sim, 'POST', '/v1/virtualmachines', { ...req, recreate: true });
    expect(again.status).toBe(202);
    clock.advance(0);
    expect(sim.simulation.machines.get(req.uid)).toMatchObject({ powerState: 'On' });
    expect(sim.simulation.machines.get(req.uid)!.externalId).not.toBe(first);
  });
});

describe('persistence', () => {
  it('a restarted simulator has every machine it built, with the same ids, disks and power; new ids never repeat old ones', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'virtflow-sim-'));
    const stateFile = path.join(home, 'simulator', 'state.json');
    try {
      const clock = new FakeClock();
      const first = await startSimulator({ token: TOKEN, clock, stateFile, region: 'tw' });
      const [on, off, retained] = [createRequest(), { ...createRequest(), powerOn: false }, createRequest()];
      for (const r of [on, off, retained]) await call(first, 'POST', '/v1/virtualmachines', r);
      clock.advance(0);
      await call(first, 'DELETE', `/v1/virtualmachines/${retained.uid}?requestId=delete:1&dataDisk=Retain`);
      clock.advance(0);
      const before = new Map([...first.simulation.machines].map(([uid, m]) => [uid, { ...m }]));
      const disk = first.simulation.retainedDisks.get(retained.uid);
      expect(before.size).toBe(2);
      await first.stop();
      const saved = JSON.parse(await readFile(stateFile, 'utf8'));
      expect(saved.machines).toHaveLength(2);
      expect((await stat(stateFile)).mode & 0o777).toBe(0o600);

      const second = await startSimulator({ token: TOKEN, clock, stateFile, region: 'tw' });
      try {
        expect(new Map([...second.simulation.machines].map(([uid, m]) => [uid, { ...m }]))).toEqual(before);
        expect(second.simulation.retainedDisks.get(retained.uid)).toEqual(disk);
        const observed = (await call(second, 'GET', `/v1/virtualmachines/${on.uid}`)).body;
        expect(observed).toMatchObject({ exists: true, generation: 1, powerState: 'On', externalId: before.get(on.uid)!.externalId });
        // The create VirtFlow repeats after its own restart builds nothing.
        expect((await call(second, 'POST', '/v1/virtualmachines', on)).status).toBe(202);
        clock.advance(0);
        expect(second.stats.uid(on.uid).machinesCreated).toBe(0);
        // The deleted uid stays deleted.
        expect((await call(second, 'POST', '/v1/virtualmachines', retained)).body.code).toBe('Deleted');
        // New machines get ids, addresses and disks no machine had before.
        const fresh = createRequest();
        await call(second, 'POST', '/v1/virtualmachines', fresh);
        clock.advance(0);
        const made = second.simulation.machines.get(fresh.uid)!;
        const old = [...before.values(), ...(disk ? [{ externalId: '', dataDisk: disk, addresses: [] }] : [])];
        expect(old.map((m) => m.externalId)).not.toContain(made.externalId);
        expect(old.map((m) => m.dataDisk.id)).not.toContain(made.dataDisk.id);
        expect(old.flatMap((m) => m.addresses.map((a) => a.address))).not.toContain(made.addresses[0]!.address);
        // A power change behind VirtFlow's back is kept too.
        second.simulation.setPower(on.uid, 'Off');
      } finally {
        await second.stop();
      }
      const third = await startSimulator({ token: TOKEN, clock, stateFile, region: 'tw' });
      expect(third.simulation.machines.get(on.uid)!.powerState).toBe('Off');
      expect(third.simulation.machines.size).toBe(3);
      await third.stop();
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

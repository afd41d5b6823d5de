// The HTTP provider against the simulator (and a few hand-made endpoints), through real HTTP.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, waitFor } from '../runtime/testing.js';
import { ProviderRejected, ProviderTimeout, ProviderUnreachable, type ProviderError } from './external-client.js';
import { HttpVirtualMachineProvider, httpProviderFor, probeExternalController } from './http-provider.js';
import { startSimulator, type SimulatorHandle } from './simulator/index.js';
import { makeExternalController, makeVm, placementTw, ubuntu } from './testing.js';

const latency = 1_000;
let clock: FakeClock;
let sim: SimulatorHandle;
let provider: HttpVirtualMachineProvider;

beforeAll(async () => {
  clock = new FakeClock();
  sim = await startSimulator({ latencyMs: latency, region: 'tw', clock, token: 'provider-test-token' });
  provider = new HttpVirtualMachineProvider({ allowInsecureHttp: true, endpoint: sim.url, timeoutMs: 10_000, token: sim.token });
});
afterAll(async () => {
  await sim?.stop();
});

/** Lets every operation accepted so far finish. */
const finishOperations = () => clock.advance(latency);

async function caught(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (err) {
    return err as ProviderError;
  }
  throw new Error('expected the call to fail');
}

/** A plain HTTP server answering every request with `handler`. */
async function stubEndpoint(handler: http.RequestListener): Promise<{ url: string; server: http.Server; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('observe', () => {
  it('answers exists false, not an error, for a uid the controller never saw', async () => {
    const vm = makeVm();
    await expect(provider.observe(vm)).resolves.toEqual({
      exists: false,
      upToDate: false,
      generation: undefined,
      powerState: undefined,
      externalId: undefined,
      addresses: [],
      lastOperation: undefined,
    });
    expect(sim.stats.uid(vm.metadata.uid!)).toMatchObject({ observes: 1, machinesCreated: 0 });
  });
});

describe('create', () => {
  it('is accepted at once, and repeating it (even from a restarted client) answers the same operation and builds one machine', async () => {
    const vm = makeVm();
    const uid = vm.metadata.uid!;
    const first = await provider.create(vm, placementTw, { image: ubuntu });
    expect(first).toEqual({ operationId: expect.any(String), type: 'Create', state: 'Running' });
    expect(sim.simulation.machines.has(uid)).toBe(false);

    // The VM controller dies before the callback; its successor asks again.
    const restarted = new HttpVirtualMachineProvider({ allowInsecureHttp: true, endpoint: sim.url, token: sim.token });
    const again = await restarted.create(vm, placementTw, { image: ubuntu });
    expect(again.operationId).toBe(first.operationId);
    expect((await provider.observe(vm)).lastOperation).toMatchObject({ id: first.operationId, type: 'Create', state: 'Running' });

    finishOperations();
    const afterwards = await provider.create(vm, placementTw, { image: ubuntu });
    expect(afterwards).toMatchObject({ operationId: first.operationId, state: 'Succeeded' });
    expect(sim.stats.uid(uid)).toMatchObject({ creates: 3, replays: 2, machinesCreated: 1 });

    const seen = await provider.observe(vm);
    expect(seen).toMatchObject({ exists: true, upToDate: true, generation: 1, powerState: 'On' });
    expect(seen.externalId).toMatch(/^sim-tw-[0-9a-f]{6}-\d{6}$/);
    expect(seen.addresses).toEqual([{ type: 'InternalIP', address: expect.stringMatching(/^10\.\d+\.\d+\.\d+$/) }]);
    expect(seen.lastOperation).toMatchObject({ id: first.operationId, state: 'Succeeded', finishedAt: expect.any(String) });
  });

  it('of a VM whose machine exists (built for an older generation) succeeds without building another', async () => {
    const vm = makeVm();
    await provider.create(vm, placementTw, { image: ubuntu });
    const newer = makeVm({ uid: vm.metadata.uid, generation: 2 });
    // While the first create runs, a create for a newer generation waits its turn.
    await expect(caught(provider.create(newer, placementTw, { image: ubuntu }))).resolves.toMatchObject({
      status: 409,
      code: 'OperationInProgress',
    });
    finishOperations();
    const ref = await provider.create(newer, placementTw, { image: ubuntu });
    finishOperations();
    expect((await provider.observe(newer)).lastOperation).toMatchObject({ id: ref.operationId, state: 'Succeeded', message: 'the machine already exists' });
    expect(sim.stats.uid(vm.metadata.uid!).machinesCreated).toBe(1);
  });

  it('leaves the machine off when runStrategy is Halted', async () => {
    const vm = makeVm();
    vm.spec.runStrategy = 'Halted';
    await provider.create(vm, placementTw, { image: ubuntu });
    finishOperations();
    expect((await provider.observe(vm)).powerState).toBe('Off');
  });

  it('while another operation runs on the uid is refused as retryable OperationInProgress', async () => {
    const vm = makeVm();
    await provider.create(vm, placementTw, { image: ubuntu });
    const err = await caught(provider.power(vm, 'stop'));
    expect(err).toBeInstanceOf(ProviderRejected);
    expect(err).toMatchObject({ status: 409, code: 'OperationInProgress', retryable: true, reason: 'ProviderRejected', operation: 'power' });
    finishOperations();
  });

  it('placed in a region the controller does not serve is refused, naming both regions', async () => {
    const vm = makeVm({ region: 'jp' });
    const err = await caught(provider.create(vm, { ...placementTw, region: 'jp' }, { image: ubuntu }));
    expect(err).toMatchObject({ status: 422, code: 'WrongRegion', retryable: false });
    expect(err.message).toContain('serves region tw, not jp');
  });
});

describe('update', () => {
  it('brings the machine to the new generation, after which observe says upToDate', async () => {
    const vm = makeVm();
    await provider.create(vm, placementTw, { image: ubuntu });
    finishOperations();
    const resized = makeVm({ uid: vm.metadata.uid, generation: 2 });
    resized.spec.specification = 'c8m32-g2';
    resized.status!.resources = { cpu: 8, memory: '32Gi', storage: '100Gi', gpu: 0 };
    expect(await provider.observe(resized)).toMatchObject({ exists: true, upToDate: false, generation: 1 });

    const ref = await provider.update(resized);
    expect(ref).toMatchObject({ type: 'Update', state: 'Running' });
    expect((await provider.update(resized)).operationId).toBe(ref.operationId);
    finishOperations();
    expect(await provider.observe(resized)).toMatchObject({ upToDate: true, generation: 2 });
    expect(sim.simulation.machines.get(vm.metadata.uid!)).toMatchObject({ specification: 'c8m32-g2', resources: { cpu: 8, memory: '32Gi' } });

    const stale = await caught(provider.update(makeVm({ uid: vm.metadata.uid, generation: 1 })));
    expect(stale).toMatchObject({ status: 409, code: 'StaleGeneration' });
  });

  it('of a uid without a machine is refused as NotFound', async () => {
    const err = await caught(provider.update(makeVm()));
    expect(err).toMatchObject({ status: 404, code: 'NotFound', retryable: false });
  });
});

describe('power', () => {
  it('stops gracefully or by force, starts and restarts; a repeated requestId is the same operation', async () => {
    const vm = makeVm();
    await provider.create(vm, placementTw, { image: ubuntu });
    finishOperations();

    const stop = await provider.power(vm, 'stop', { requestId: 'stop-1' });
    expect((await provider.power(vm, 'stop', { requestId: 'stop-1' })).operationId).toBe(stop.operationId);
    finishOperations();
    expect(await provider.observe(vm)).toMatchObject({ powerState: 'Off', lastOperation: { type: 'Power', message: 'shut down gracefully' } });

    await provider.power(vm, 'start', { requestId: 'start-1' });
    finishOperations();
    expect((await provider.observe(vm)).powerState).toBe('On');

    await provider.power(vm, 'stop', { requestId: 'stop-2', force: true });
    finishOperations();
    expect(await provider.observe(vm)).toMatchObject({ powerState: 'Off', lastOperation: { message: 'powered off (forced)' } });

    await provider.power(vm, 'restart', { requestId: 'restart-1' });
    finishOperations();
    expect((await provider.observe(vm)).powerState).toBe('On');
    expect(sim.simulation.machines.get(vm.metadata.uid!)!.boots).toBe(3);
    expect(sim.stats.uid(vm.metadata.uid!)).toMatchObject({ powers: 5, replays: 1, machinesCreated: 1 });
  });

  it('of a uid without a machine is refused as NotFound', async () => {
    await expect(caught(provider.power(makeVm(), 'start'))).resolves.toMatchObject({ status: 404, code: 'NotFound' });
  });
});

describe('delete', () => {
  it('removes the machine and retains its data disk when asked; repeating it is the same operation', async () => {
    const vm = makeVm();
    vm.metadata.deletionTimestamp = '2030-01-01T00:00:00Z';
    await provider.create(vm, placementTw, { image: ubuntu });
    finishOperations();
    const ref = await provider.delete(vm, { dataDisk: 'Retain' });
    expect(ref).toMatchObject({ type: 'Delete', state: 'Running' });
    finishOperations();
    expect(await provider.delete(vm, { dataDisk: 'Retain' })).toMatchObject({ operationId: ref.operationId, state: 'Succeeded' });
    const seen = await provider.observe(vm);
    expect(seen).toMatchObject({ exists: false, upToDate: false, addresses: [], lastOperation: { type: 'Delete', state: 'Succeeded' } });
    expect(seen.lastOperation!.message).toMatch(/data disk disk-\d+ retained/);
    expect(sim.simulation.retainedDisks.has(vm.metadata.uid!)).toBe(true);

    const recreate = await caught(provider.create(vm, placementTw, { image: ubuntu }));
    expect(recreate).toMatchObject({ status: 410, code: 'Deleted', retryable: false });
    expect(sim.stats.uid(vm.metadata.uid!).machinesCreated).toBe(1);
  });

  it('of a VM without a machine is not an error: it answers a Succeeded operation', async () => {
    const vm = makeVm();
    await expect(provider.delete(vm)).resolves.toMatchObject({ type: 'Delete', state: 'Succeeded' });
    expect(sim.simulation.retainedDisks.has(vm.metadata.uid!)).toBe(false);
  });
});

describe('errors', () => {
  const stubs: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const s of stubs.splice(0)) await s.close();
  });

  it('a closed port is ProviderUnreachable, naming the endpoint and the cause', async () => {
    const stub = await stubEndpoint(() => {});
    await stub.close();
    const unreachable = new HttpVirtualMachineProvider({ allowInsecureHttp: true, endpoint: stub.url });
    const err = await caught(unreachable.observe(makeVm()));
    expect(err).toBeInstanceOf(ProviderUnreachable);
    expect(err).toMatchObject({ reason: 'ProviderUnreachable', retryable: true, endpoint: stub.url, operation: 'observe' });
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('no answer within the timeout is ProviderTimeout, on the injected clock', async () => {
    const timeoutClock = new FakeClock();
    const held: http.ServerResponse[] = [];
    const stub = await stubEndpoint((_req, res) => void held.push(res));
    stubs.push(stub);
    const slow = httpProviderFor(makeExternalController('slow', { endpoint: stub.url, timeoutSeconds: 7 }), { clock: timeoutClock });
    expect(slow.timeoutMs).toBe(7_000);
    const pending = caught(slow.create(makeVm(), placementTw, { image: ubuntu }));
    await waitFor(() => held.length === 1, { what: 'the request to reach the endpoint' });
    timeoutClock.advance(6_999);
    expect(timeoutClock.pending).toBe(1);
    timeoutClock.advance(1);
    const err = await pending;
    expect(err).toBeInstanceOf(ProviderTimeout);
    expect(err).toMatchObject({ reason: 'ProviderTimeout', retryable: true, timeoutMs: 7_000, operation: 'create' });
  });

  it('an HTTP error is ProviderRejected with the status and the body\'s message', async () => {
    const stub = await stubEndpoint((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('hypervisor pool exhausted');
    });
    stubs.push(stub);
    const err = await caught(new HttpVirtualMachineProvider({ allowInsecureHttp: true, endpoint: stub.url }).power(makeVm(), 'start'));
    expect(err).toBeInstanceOf(ProviderRejected);
    expect(err).toMatchObject({ status: 500, retryable: true, body: 'hypervisor pool exhausted' });
    expect(err.message).toContain('HTTP 500: hypervisor pool exhausted');
  });

  it('a success status with a body that is not the protocol\'s is ProviderRejected', async () => {
    const stub = await stubEndpoint((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
    });
    stubs.push(stub);
    const err = await caught(new HttpVirtualMachineProvider({ allowInsecureHttp: true, endpoint: stub.url }).create(makeVm(), placementTw, { image: ubuntu }));
    expect(err).toMatchObject({ reason: 'ProviderRejected', status: 200 });
    expect(err.message).toContain('not an OperationAccepted body');
  });

  it('a controller that requires a token refuses one without it, and serves one with it', async () => {
    const guarded = await startSimulator({ token: 's3cret', clock: new FakeClock() });
    try {
      const err = await caught(new HttpVirtualMachineProvider({ allowInsecureHttp: true, endpoint: guarded.url }).observe(makeVm()));
      expect(err).toMatchObject({ status: 401, code: 'Unauthorized', retryable: false });
      const withToken = new HttpVirtualMachineProvider({ allowInsecureHttp: true, endpoint: guarded.url, token: 's3cret' });
      await expect(withToken.observe(makeVm())).resolves.toMatchObject({ exists: false });
    } finally {
      await guarded.stop();
    }
  });
});

describe('transport', () => {
  const stubs: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const s of stubs.splice(0)) await s.close();
  });
  const stub = async (handler: http.RequestListener) => {
    const s = await stubEndpoint(handler);
    stubs.push(s);
    return s;
  };

  it('sends nothing to an http endpoint unless allowInsecureHttp says so', async () => {
    let requests = 0;
    const plain = await stub((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ uid: 'x', exists: false, addresses: [] }));
    });
    const strict = httpProviderFor(makeExternalController('plain', { endpoint: plain.url, allowInsecureHttp: undefined }), { token: 'secret-token-1' });
    const err = await caught(strict.observe(makeVm()));
    expect(err).toMatchObject({ reason: 'InsecureEndpoint', operation: 'observe' });
    expect(err.message).toContain('allowInsecureHttp');
    expect(requests).toBe(0);
    await httpProviderFor(makeExternalController('plain', { endpoint: plain.url, allowInsecureHttp: true })).observe(makeVm());
    expect(requests).toBe(1);
  });

  it('does not follow a redirect, so the token never reaches the address it names', async () => {
    const seen: (string | undefined)[] = [];
    const elsewhere = await stub((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200).end('{}');
    });
    const redirecting = await stub((_req, res) => res.writeHead(307, { location: `${elsewhere.url}/v1/virtualmachines` }).end());
    const provider = new HttpVirtualMachineProvider({ allowInsecureHttp: true, endpoint: redirecting.url, token: 'secret-token-2' });
    const err = await caught(provider.create(makeVm(), placementTw, { image: ubuntu }));
    expect(err).toMatchObject({ reason: 'ProviderRejected', status: 307 });
    expect(err.message).toContain('redirects are not followed');
    expect(seen).toEqual([]);
  });

  it('refuses an answer larger than the cap, saying so', async () => {
    const huge = await stub((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // Streamed without a content-length, so only counting the bytes can stop it.
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 4 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('{}');
      };
      pump();
      res.on('error', () => {});
    });
    const err = await caught(new HttpVirtualMachineProvider({ allowInsecureHttp: true, endpoint: huge.url }).observe(makeVm()));
    expect(err).toMatchObject({ reason: 'ProviderRejected', status: 200 });
    expect(err.message).toContain(`the answer is larger than ${256 * 1024} bytes`);
  });

  it('repeats what a controller answered cut short, on one line, without the token or other credentials', async () => {
    const token = 'secret-token-3-abcdefghijklmnop';
    const noisy = await stub((req, res) => {
      const message = `you sent ${req.headers.authorization}\n\u001b[31mpassword=hunter2\nBasic dXNlcjpwYXNzd29yZDEyMw==${'x'.repeat(10_000)}`;
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'Oops', message }));
    });
    const err = await caught(new HttpVirtualMachineProvider({ allowInsecureHttp: true, endpoint: noisy.url, token }).power(makeVm(), 'start'));
    expect(err).toBeInstanceOf(ProviderRejected);
    for (const text of [err.message, (err as ProviderRejected).body ?? '']) {
      expect(text).not.toContain(token);
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain('dXNlcjpwYXNzd29yZDEyMw==');
      expect(text).not.toMatch(/[\n\u001b]/);
    }
    expect(err.message).toContain('[redacted]');
    expect(err.message.length).toBeLessThan(400);
  });
});

describe('probeExternalController', () => {
  it('reports a simulator reachable, with the time of the probe', async () => {
    const probeClock = new FakeClock(Date.parse('2030-05-06T07:08:09.500Z'));
    const result = await probeExternalController(makeExternalController('tw', { endpoint: sim.url }), { clock: probeClock });
    expect(result).toMatchObject({ reachable: true, lastProbeTime: '2030-05-06T07:08:09Z', health: { versions: ['v1'], regions: ['tw'] } });
  });

  it('reports a closed port unreachable with the reason, without throwing', async () => {
    const stub = await stubEndpoint(() => {});
    await stub.close();
    const result = await probeExternalController(makeExternalController('gone', { endpoint: stub.url }));
    expect(result).toMatchObject({ reachable: false, reason: 'ProviderUnreachable' });
    expect(result.message).toContain(stub.url);
  });

  it('reports an endpoint that does not serve protocol v1 unreachable', async () => {
    const stub = await stubEndpoint((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', versions: ['v2'] }));
    });
    try {
      const result = await probeExternalController(makeExternalController('future', { endpoint: stub.url }));
      expect(result).toMatchObject({ reachable: false, reason: 'ProviderRejected' });
      expect(result.message).toContain('serves protocol versions v2, not v1');
    } finally {
      await stub.close();
    }
  });
});

// The world of the lifecycle integration tests (test/integration/lifecycle-*.test.ts): a real
// API server over HTTPS on its own database, a simulated external controller reporting back
// with the status-writer token, and VirtFlow's controllers in this process — all talking
// real HTTP, as in `virtflow up`. The inventory is small: one region (tw), one data center,
// two racks, two hosts of 32 cores in group "general", tenant "acme" with a quota there.
//
// The external controller can be put behind a TCP relay (`relay: true`) that the test closes
// and opens again, to make it unreachable and bring it back without losing its machines.
import net from 'node:net';
import pino from 'pino';
import { Registry } from 'prom-client';
import { expect } from 'vitest';
import { loadKubeConfig, startControllers, type RunningControllers } from '../../src/cli/controllers.js';
import { realClock, sleepWith, type Clock, type Timer } from '../../src/runtime/clock.js';
import { seededRandom, startSimulator, type ClusterLatency, type FailureMode, type Latency, type SimulatorHandle } from '../../src/providers/simulator/index.js';
import { openWatch, type WatchStream } from '../support/api.js';
import { startTestServer, type TestResponse, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

export const GROUP = '/apis/virtflow.io/v1alpha1';
export const NS = 'acme';
export const vmPath = (name = '', ns = NS) => `${GROUP}/namespaces/${ns}/virtualmachines${name ? `/${name}` : ''}`;

/** Small timings so a test never waits for a production-sized period. */
export const timings = { resyncMs: 400, providerRetryMs: 150, probeIntervalMs: 300, clusterPollMs: 100 };

export interface WorldOptions {
  latencyMs?: Latency;
  failureRate?: number;
  failureMode?: FailureMode;
  seed?: number;
  /** Put the external controller behind a relay the test can close and open. */
  relay?: boolean;
  /** Host capacity in cores (memory is 4 GiB per core). */
  hostCpu?: number;
  quotaCpu?: number;
  /**
   * The simulator requires this bearer token, and the ExternalController names
   * `credentialsSecret` (virtflow-system/vm-service-tw-token) for it; the test creates it.
   */
  token?: string;
  /** Latencies of the simulated K8s Cluster Service (default: latencyMs when a number). */
  clusterLatencyMs?: ClusterLatency;
  /** The simulator serves live migration (default true); false plays one that cannot. */
  migrate?: boolean;
  /** The clusters the service builds are real simulated workload clusters, on the test's PostgreSQL. */
  workloadClusters?: boolean;
  /**
   * How often a settled VM is observed (default timings.resyncMs). A long one shows whether
   * the controllers converge on the reports alone, without waiting for the next resync.
   */
  resyncMs?: number;
}

export const credentialsSecret = { namespace: 'virtflow-system', name: 'vm-service-tw-token' };

export interface World {
  vf: TestServer;
  sim: SimulatorHandle;
  /** The simulator's clock: hold it to freeze the external world in a transitional state. */
  clock: GatedClock;
  /** Where the ExternalController points: the relay when there is one, else the simulator. */
  endpoint: string;
  relay?: Relay;
  controllers(): RunningControllers | undefined;
  startControllers(): void;
  stopControllers(): Promise<void>;
  /** Reconciles of VirtualMachines finished so far by the running controllers. */
  vmReconciles(): Promise<number>;
  createVm(name: string, spec?: Record<string, unknown>, metadata?: Record<string, unknown>): Promise<any>;
  getVm(name: string): Promise<any | undefined>;
  patchVm(name: string, patch: unknown): Promise<any>;
  deleteVm(name: string): Promise<void>;
  /** Waits until the VM's status satisfies `check`; answers the VM. */
  waitVm(name: string, what: string, check: (vm: any) => boolean, timeoutMs?: number): Promise<any>;
  waitGone(name: string, timeoutMs?: number): Promise<void>;
  /** Events about an object, oldest first. */
  events(name: string, ns?: string): Promise<any[]>;
  waitEvent(name: string, reason: string, ns?: string, timeoutMs?: number): Promise<any>;
  /** A watch on one VM from now on, to check the order of phases it went through. */
  watchVm(name: string): Promise<PhaseLog>;
  host(name: string): Promise<any>;
  quota(name?: string): Promise<any>;
  stop(): Promise<void>;
}

export interface PhaseLog {
  stream: WatchStream;
  /** Distinct consecutive phases seen so far. */
  phases(): string[];
  /** Waits until the watch has delivered a version of the VM that satisfies `check`. */
  until(what: string, check: (vm: any) => boolean): Promise<void>;
  close(): Promise<void>;
}

export function condition(vm: any, type: string): any {
  return (vm?.status?.conditions ?? []).find((c: any) => c.type === type);
}

/** Checks the status call went through, showing the body when it did not. */
export function ok(res: TestResponse, ...codes: number[]): any {
  const want = codes.length > 0 ? codes : [200, 201];
  expect(want, `HTTP ${res.status}: ${res.text}`).toContain(res.status);
  return res.body;
}

const api = 'virtflow.io/v1alpha1';

function inventory(opts: WorldOptions, endpoint: string): { path: string; body: any }[] {
  const cpu = opts.hostCpu ?? 32;
  const host = (name: string, rack: string) => ({
    path: `${GROUP}/baremetals`,
    body: {
      apiVersion: api,
      kind: 'Baremetal',
      metadata: { name },
      spec: { serialNumber: `SN-${name}`, rack, group: 'general', capacity: { cpu, memory: `${cpu * 4}Gi`, storage: '4Ti' } },
    },
  });
  return [
    { path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } },
    { path: `${GROUP}/datacenters`, body: { apiVersion: api, kind: 'Datacenter', metadata: { name: 'dc-1' }, spec: { region: 'tw' } } },
    { path: `${GROUP}/racks`, body: { apiVersion: api, kind: 'Rack', metadata: { name: 'r1' }, spec: { datacenter: 'dc-1' } } },
    { path: `${GROUP}/racks`, body: { apiVersion: api, kind: 'Rack', metadata: { name: 'r2' }, spec: { datacenter: 'dc-1' } } },
    { path: `${GROUP}/baremetalgroups`, body: { apiVersion: api, kind: 'BaremetalGroup', metadata: { name: 'general' }, spec: { region: 'tw' } } },
    host('h1', 'r1'),
    host('h2', 'r2'),
    { path: `${GROUP}/tenants`, body: { apiVersion: api, kind: 'Tenant', metadata: { name: NS }, spec: { namespace: NS } } },
    {
      path: `${GROUP}/tenantquotas`,
      body: {
        apiVersion: api,
        kind: 'TenantQuota',
        metadata: { name: 'acme-general' },
        spec: { tenant: NS, group: 'general', limits: { cpu: opts.quotaCpu ?? 2 * cpu, memory: `${8 * cpu}Gi`, storage: '8Ti' } },
      },
    },
    {
      path: `${GROUP}/virtualmachinespecifications`,
      body: { apiVersion: api, kind: 'VirtualMachineSpecification', metadata: { name: 'small' }, spec: { cpu: 2, memory: '4Gi', storage: '20Gi' } },
    },
    {
      path: `${GROUP}/virtualmachineimages`,
      body: {
        apiVersion: api,
        kind: 'VirtualMachineImage',
        metadata: { name: 'ubuntu' },
        spec: { os: { family: 'ubuntu', version: '24.04' }, source: { url: 'https://images.example/ubuntu.qcow2' }, format: 'qcow2' },
      },
    },
    {
      path: `${GROUP}/externalcontrollers`,
      body: {
        apiVersion: api,
        kind: 'ExternalController',
        metadata: { name: 'vm-service-tw' },
        // Plain http to a simulator on loopback, said on purpose (allowInsecureHttp).
        spec: { service: 'VirtualMachine', regions: ['tw'], endpoint, allowInsecureHttp: true, timeoutSeconds: 2, ...(opts.token ? { credentialsSecret } : {}) },
      },
    },
  ];
}

export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  const vf = await startTestServer();
  const clock = new GatedClock();
  const sim = await startSimulator({
    clock,
    port: 0,
    latencyMs: opts.latencyMs ?? 0,
    failureRate: opts.failureRate ?? 0,
    failureMode: opts.failureMode,
    random: seededRandom(opts.seed ?? 7),
    callback: { apiServer: vf.url, caCert: vf.caCert, token: vf.statusToken },
    callbackBackoffMs: { base: 20, max: 500 },
    migrate: opts.migrate,
    ...(opts.token ? { token: opts.token } : { allowUnauthenticated: true }),
    clusterLatencyMs: opts.clusterLatencyMs,
    ...(opts.workloadClusters ? { workloadClusters: { databaseUrl: vf.databaseUrl, home: vf.home } } : {}),
  });
  const relay = opts.relay ? await startRelay(sim.port) : undefined;
  const endpoint = relay ? relay.url : sim.url;
  for (const { path, body } of inventory(opts, endpoint)) ok(await vf.call('POST', path, body));

  let running: RunningControllers | undefined;
  let registry = new Registry();
  const log = pino({ level: process.env.VIRTFLOW_TEST_LOG ?? 'silent' });
  const world: World = {
    vf,
    sim,
    clock,
    endpoint,
    relay,
    controllers: () => running,
    startControllers() {
      if (running) throw new Error('the controllers are running already');
      registry = new Registry();
      running = startControllers({
        kubeConfig: loadKubeConfig(vf.kubeconfig),
        registry,
        leaderElection: false,
        resyncMs: opts.resyncMs ?? timings.resyncMs,
        providerRetryMs: timings.providerRetryMs,
        probeIntervalMs: timings.probeIntervalMs,
        clusterPollMs: timings.clusterPollMs,
        // The callback travels in every create, so the external controller reports with the
        // status-writer token it was handed, not with anything it was configured with.
        callback: { apiServer: vf.url, caCert: vf.caCert, token: vf.statusToken },
        log,
      });
      running.done.catch(() => {});
    },
    async stopControllers() {
      const r = running;
      running = undefined;
      await r?.stop();
    },
    async vmReconciles() {
      const metric = registry.getSingleMetric('controller_runtime_reconcile_total');
      if (!metric) return 0;
      const { values } = await metric.get();
      return values.filter((v) => v.labels.controller === 'virtualmachine').reduce((n, v) => n + v.value, 0);
    },
    async createVm(name, spec = {}, metadata = {}) {
      return ok(
        await vf.call('POST', vmPath(), {
          apiVersion: api,
          kind: 'VirtualMachine',
          metadata: { name, namespace: NS, ...metadata },
          spec: { specification: 'small', image: 'ubuntu', group: 'general', ...spec },
        }),
      );
    },
    async getVm(name) {
      const res = await vf.call('GET', vmPath(name));
      if (res.status === 404) return undefined;
      return ok(res, 200);
    },
    async patchVm(name, patch) {
      return ok(await vf.call('PATCH', vmPath(name), patch, { 'content-type': 'application/merge-patch+json' }), 200);
    },
    async deleteVm(name) {
      ok(await vf.call('DELETE', vmPath(name)), 200, 202);
    },
    async waitVm(name, what, check, timeoutMs = 20_000) {
      let last: any;
      try {
        await waitUntil(async () => {
          last = await world.getVm(name);
          return last !== undefined && check(last);
        }, `${name}: ${what}`, timeoutMs);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nlast status: ${JSON.stringify(last?.status, null, 1)}`);
      }
      return last;
    },
    async waitGone(name, timeoutMs = 20_000) {
      let last: any;
      try {
        await waitUntil(async () => (last = await world.getVm(name)) === undefined, `${name} deleted`, timeoutMs);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nlast: ${JSON.stringify({ metadata: last?.metadata, status: last?.status }, null, 1)}`);
      }
    },
    async events(name, ns = NS) {
      const selector = encodeURIComponent(`involvedObject.name=${name}`);
      const path = ns ? `/api/v1/namespaces/${ns}/events?fieldSelector=${selector}` : `/api/v1/events?fieldSelector=${selector}`;
      const list = ok(await vf.call('GET', path), 200);
      return (list.items as any[]).sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
    },
    async waitEvent(name, reason, ns = NS, timeoutMs = 15_000) {
      let found: any;
      let seen: any[] = [];
      try {
        await waitUntil(async () => {
          seen = await world.events(name, ns);
          found = seen.find((e) => e.reason === reason);
          return found !== undefined;
        }, `an Event ${reason} about ${name}`, timeoutMs);
      } catch (err) {
        throw new Error(`${(err as Error).message}; events: ${seen.map((e) => `${e.type}/${e.reason}: ${e.message}`).join(' | ')}`);
      }
      return found;
    },
    async watchVm(name) {
      const current = await world.getVm(name);
      const rv = current?.metadata.resourceVersion;
      const stream = await openWatch(
        vf as never,
        `${vmPath()}?watch=true&fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}${rv ? `&resourceVersion=${rv}` : ''}`,
      );
      const initial = current?.status?.phase ? [current.status.phase as string] : [];
      return {
        stream,
        phases() {
          const out = [...initial];
          for (const e of stream.events) {
            const phase = e.object?.status?.phase;
            if ((e.type === 'ADDED' || e.type === 'MODIFIED') && phase && out[out.length - 1] !== phase) out.push(phase);
          }
          return out;
        },
        async until(what, check) {
          await stream.waitFor((e) => (e.type === 'ADDED' || e.type === 'MODIFIED') && check(e.object), `${name}: ${what} (watch)`, 20_000);
        },
        close: () => stream.close(),
      };
    },
    async host(name) {
      return ok(await vf.call('GET', `${GROUP}/baremetals/${name}`), 200);
    },
    async quota(name = 'acme-general') {
      return ok(await vf.call('GET', `${GROUP}/tenantquotas/${name}`), 200);
    },
    async stop() {
      clock.release();
      await world.stopControllers().catch(() => {});
      await relay?.stop().catch(() => {});
      await sim.stop().catch(() => {});
      await vf.stop();
    },
  };
  world.startControllers();
  return world;
}

/** Orders phases by first appearance; checks `want` appears in `seen` in that order. */
export function inOrder(seen: string[], want: string[]): boolean {
  let i = 0;
  for (const phase of seen) if (phase === want[i]) i++;
  return i === want.length;
}

// ---------------------------------------------------------------------------------------
// Real time that a test can hold: while held, timers that come due wait (in order) until
// step() or release() runs them. The simulator's operations finish on timers, so holding
// its clock keeps an operation Running for as long as a test needs to see what VirtFlow
// shows meanwhile — no race against a latency. Operations without latency still finish.

export class GatedClock implements Clock {
  private held = false;
  private due: (() => void)[] = [];

  now(): number {
    return Date.now();
  }

  setTimer(fn: () => void, ms: number): Timer {
    let cancelled = false;
    const run = () => {
      if (!cancelled) fn();
    };
    // Zero-delay timers (operations configured without latency) are never held.
    const timer = realClock.setTimer(() => (this.held && ms > 0 ? this.due.push(run) : run()), ms);
    return {
      cancel: () => {
        cancelled = true;
        timer.cancel();
      },
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }

  hold(): void {
    this.held = true;
  }

  /** Timers that came due while held. */
  get waiting(): number {
    return this.due.length;
  }

  /** Runs the timers that are due, and stays held. */
  step(): void {
    const due = this.due;
    this.due = [];
    for (const run of due) run();
  }

  release(): void {
    this.held = false;
    this.step();
  }
}

// ---------------------------------------------------------------------------------------
// A TCP relay: open, it forwards to the target; closed, connections are refused and those
// open are cut. The external controller behind it keeps its machines meanwhile.

export interface Relay {
  url: string;
  port: number;
  isOpen(): boolean;
  close(): Promise<void>;
  open(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRelay(targetPort: number): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const listen = async () => {
    const s = net.createServer((client) => {
      const upstream = net.connect(targetPort, '127.0.0.1');
      sockets.add(client);
      sockets.add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as net.AddressInfo).port;
    server = s;
  };
  const close = async () => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    isOpen: () => server !== undefined,
    close,
    open: async () => {
      if (!server) await listen();
    },
    stop: close,
  };
}

// The `placement` suite: VM placement end to end and the scheduler alone.
//
//  1. The scheduler alone (benchScheduler): 1,000 hosts, 50 tenants, 10,000 requests in one
//     Binpack batch over an in-memory snapshot: decisions per second, and the hosts Binpack
//     used against the lower bound ceil(total demand / host allocatable).
//  2. The real thing: an embedded PostgreSQL, the API server in its own process
//     (api-server-process.ts), and VirtFlow's controllers in this process, exactly as
//     `virtflow controller` runs them. The inventory (1,000 hosts in 50 racks, 50 tenants
//     with a quota each, four flavors) is created through the API and left to settle; then
//     10,000 VMs are created through the API by 16 clients, and the clock runs from the first
//     create until the controllers' cache shows every VM placed. Figures: VMs placed per
//     second, the create-to-placed latency, the hosts Binpack used against the same lower
//     bound, and a check that no host and no quota is over its limit (from the placements
//     as the API lists them at the end).
//
// Knobs (environment): BENCH_HOSTS (1000), BENCH_TENANTS (50), BENCH_VMS (10000),
// BENCH_PLACEMENT_TIMEOUT_S (300: the run through the API gives up this long after it starts
// creating objects, saying how far it got),
// BENCH_PROFILE=1 (CPU profile of the controllers' process during the run, summarized into
// $BENCH_OUT/placement-profile.txt), BENCH_OUT (/tmp/virtflow-bench).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Pool } from 'undici';
import { loadKubeConfig } from '../../src/cli/controllers.js';
import { setupControllers } from '../../src/controllers/setup.js';
import { Kinds } from '../../src/controllers/shared/resources-of-kinds.js';
import type { VirtualMachine } from '../../src/kinds/virtualmachine.js';
import { lowerBoundHosts, type Resources } from '../../src/scheduler/index.js';
import { seededRandom } from '../../src/scheduler/testing/prng.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/store/embedded.js';
import { formatProfileSummary, summarizeProfile } from './profile-summary.js';
import { benchScheduler } from './scheduler-bench.js';
import { BENCH_OUT, envNumber, percentile, progress, round, sortNumbers, type FigureInfo, type Figures } from './suite.js';
import { createDatabase } from '../support/create-database.js';
import { BenchChild } from './bench-child.js';

export const name = 'placement';
export const description = 'VM placement: 10,000 VMs through the API onto 1,000 hosts of 50 tenants; the scheduler alone; Binpack vs the lower bound';

const HOSTS = envNumber('BENCH_HOSTS', 1000);
const TENANTS = envNumber('BENCH_TENANTS', 50);
const VMS = envNumber('BENCH_VMS', 10_000);
const TIMEOUT_MS = envNumber('BENCH_PLACEMENT_TIMEOUT_S', 300) * 1000;
const PROFILE = process.env.BENCH_PROFILE === '1';
const CLIENTS = 16;
const HOSTS_PER_RACK = 20;
const RACKS_PER_DC = 12;

export const figures: Record<string, FigureInfo> = {
  schedulerDecisionsPerSecond: { label: 'scheduler alone: decisions/s (1,000 hosts)', unit: '/s', goal: { op: '>=', value: 25_000 } },
  schedulerDecisionsPerCpuSecond: { label: 'scheduler alone: decisions per CPU-second (busy machines)', unit: '/s' },
  schedulerPlaced: { label: 'scheduler alone: placed / requests', unit: '' },
  schedulerBinpackHosts: { label: 'scheduler alone: Binpack hosts used', unit: 'hosts' },
  schedulerLowerBound: { label: 'scheduler alone: lower bound', unit: 'hosts' },
  schedulerBinpackOverBound: { label: 'scheduler alone: hosts used / lower bound', unit: '', goal: { op: '<=', value: 1.1 } },
  inventorySettleSeconds: { label: 'API: inventory created and settled', unit: 's' },
  vms: { label: 'API: VMs created', unit: 'VMs' },
  createSeconds: { label: 'API: time to create them (16 clients)', unit: 's' },
  placeSeconds: { label: 'API: first create -> all placed', unit: 's', goal: { op: '<=', value: 15 } },
  vmsPlacedPerSecond: { label: 'API: VMs placed per second', unit: '/s', goal: { op: '>=', value: 650 } },
  placeLatencyP50Ms: { label: 'API: create -> placed p50', unit: 'ms' },
  placeLatencyP99Ms: { label: 'API: create -> placed p99', unit: 'ms' },
  binpackHosts: { label: 'API: Binpack hosts used', unit: 'hosts' },
  lowerBound: { label: 'API: lower bound', unit: 'hosts' },
  binpackOverBound: { label: 'API: hosts used / lower bound', unit: '', goal: { op: '<=', value: 1.1 } },
  overbooked: { label: 'API: hosts or quotas over their limit', unit: '', goal: { op: '<=', value: 0 } },
  apiWritesPerSecond: { label: 'API writes/s while placing (all kinds)', unit: '/s' },
  apiWritesPerVm: { label: 'API writes per VM (creates, status, Events, ...)', unit: '', goal: { op: '<=', value: 2.5 } },
  apiWriteMeanMs: { label: 'API write latency while placing, mean', unit: 'ms' },
  controllerCpuPercent: { label: 'CPU while placing: controllers process', unit: '% core' },
  serverCpuPercent: { label: 'CPU while placing: API server process', unit: '% core' },
};

const Gi = 2 ** 30;
const Ti = 2 ** 40;
const API = 'virtflow.io/v1alpha1';

// The same host shape and flavor mix as the scheduler-only benchmark.
const host = { cpu: 64, memory: 512 * Gi, storage: 8 * Ti };
const overcommit = { cpu: 2, memory: 1, storage: 1 };
const flavors = [
  { name: 'c2m4', weight: 40, cpu: 2, memory: '4Gi', storage: '50Gi', r: { cpu: 2, memory: 4 * Gi, storage: 50 * Gi, gpu: 0 } },
  { name: 'c4m16', weight: 30, cpu: 4, memory: '16Gi', storage: '100Gi', r: { cpu: 4, memory: 16 * Gi, storage: 100 * Gi, gpu: 0 } },
  { name: 'c8m32', weight: 20, cpu: 8, memory: '32Gi', storage: '200Gi', r: { cpu: 8, memory: 32 * Gi, storage: 200 * Gi, gpu: 0 } },
  { name: 'c16m64', weight: 10, cpu: 16, memory: '64Gi', storage: '500Gi', r: { cpu: 16, memory: 64 * Gi, storage: 500 * Gi, gpu: 0 } },
];

// ---------------------------------------------------------------------------------------
// The API server process

interface ServerInfo {
  url: string;
  token: string;
  caCert: string;
}

// ---------------------------------------------------------------------------------------
// Requests

export class Api {
  constructor(
    readonly pool: Pool,
    readonly token: string,
  ) {}

  async send(method: 'POST' | 'GET', urlPath: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await this.pool.request({
      method,
      path: urlPath,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
  }

  async create(obj: { kind: string; metadata: { name: string; namespace?: string } }, plural: string, core = false): Promise<void> {
    const prefix = core ? '/api/v1' : `/apis/${API}`;
    const ns = obj.metadata.namespace ? `/namespaces/${obj.metadata.namespace}` : '';
    const res = await this.send('POST', `${prefix}${ns}/${plural}`, obj);
    if (res.status !== 201) throw new Error(`cannot create ${obj.kind} ${obj.metadata.name}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }

  async list(plural: string): Promise<any[]> {
    const res = await this.send('GET', `/apis/${API}/${plural}`);
    if (res.status !== 200) throw new Error(`cannot list ${plural}: ${res.status}`);
    return res.body.items;
  }
}

export async function inParallel<T>(items: T[], width: number, work: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------
// The workload

export interface Workload {
  inventory: { plural: string; core?: boolean; obj: any }[];
  vms: { obj: any; resources: Resources; tenant: string }[];
  limits: Map<string, Resources>;
}

export function workload(): Workload {
  const rng = seededRandom(42);
  const inventory: Workload['inventory'] = [];
  const add = (plural: string, obj: any, core = false) => inventory.push({ plural, obj, core });
  const racks = Math.ceil(HOSTS / HOSTS_PER_RACK);
  const dcs = Math.ceil(racks / RACKS_PER_DC);
  add('baremetalgroups', { apiVersion: API, kind: 'BaremetalGroup', metadata: { name: 'general' }, spec: { overcommit, strategy: 'Binpack' } });
  for (let d = 0; d < dcs; d++) {
    add('datacenters', { apiVersion: API, kind: 'Datacenter', metadata: { name: `dc-${d}` }, spec: { region: d % 2 === 0 ? 'north' : 'south' } });
  }
  for (let r = 0; r < racks; r++) {
    add('racks', { apiVersion: API, kind: 'Rack', metadata: { name: `rack-${r}` }, spec: { datacenter: `dc-${Math.floor(r / RACKS_PER_DC)}` } });
  }
  for (let i = 0; i < HOSTS; i++) {
    add('baremetals', {
      apiVersion: API,
      kind: 'Baremetal',
      metadata: { name: `bm-${String(i).padStart(4, '0')}` },
      spec: {
        serialNumber: `SN-${i}`,
        rack: `rack-${Math.floor(i / HOSTS_PER_RACK)}`,
        unit: 1 + 2 * (i % HOSTS_PER_RACK),
        group: 'general',
        capacity: { cpu: host.cpu, memory: '512Gi', storage: '8Ti' },
        // One host in 50 is in maintenance, as in the scheduler-only benchmark.
        state: i % 50 === 49 ? 'Maintenance' : 'Available',
      },
    });
  }
  for (const f of flavors) {
    add('virtualmachinespecifications', { apiVersion: API, kind: 'VirtualMachineSpecification', metadata: { name: f.name }, spec: { cpu: f.cpu, memory: f.memory, storage: f.storage } });
  }
  add('virtualmachineimages', {
    apiVersion: API,
    kind: 'VirtualMachineImage',
    metadata: { name: 'ubuntu' },
    spec: { os: { family: 'ubuntu', version: '24.04' }, source: { url: 'https://images.example/ubuntu.img' }, format: 'qcow2' },
  });
  const tenants = Array.from({ length: TENANTS }, (_, i) => `tenant-${String(i).padStart(2, '0')}`);
  const limits = new Map<string, Resources>();
  for (const t of tenants) {
    add('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: t } }, true);
    add('tenants', { apiVersion: API, kind: 'Tenant', metadata: { name: t }, spec: {} });
    // Room for the tenant's share several times over: the quota is checked on every
    // decision, but the run measures placement, so every VM should find a host.
    const cpu = Math.ceil((VMS / TENANTS) * 16);
    limits.set(t, { cpu, memory: cpu * 4 * Gi, storage: (VMS / TENANTS) * 500 * Gi, gpu: 0 });
    add('tenantquotas', {
      apiVersion: API,
      kind: 'TenantQuota',
      metadata: { name: `${t}-general` },
      spec: { tenant: t, group: 'general', limits: { cpu, memory: `${cpu * 4}Gi`, storage: `${Math.ceil((VMS / TENANTS) * 500)}Gi` } },
    });
  }
  const totalWeight = flavors.reduce((s, f) => s + f.weight, 0);
  const vms: Workload['vms'] = [];
  for (let i = 0; i < VMS; i++) {
    let roll = rng.next() * totalWeight;
    const f = flavors.find((x) => (roll -= x.weight) < 0) ?? flavors[0]!;
    const t = rng.pick(tenants);
    const spec: Record<string, unknown> = { specification: f.name, image: 'ubuntu', group: 'general' };
    // A tenth belong to three-replica apps spread across racks.
    if (i % 10 === 0) spec.placement = { spreadAcross: 'Rack', spreadKey: `app-${Math.floor(i / 30)}` };
    vms.push({ obj: { apiVersion: API, kind: 'VirtualMachine', metadata: { name: `vm-${String(i).padStart(5, '0')}`, namespace: t }, spec }, resources: f.r, tenant: t });
  }
  return { inventory, vms, limits };
}

// ---------------------------------------------------------------------------------------

async function schedulerAlone(): Promise<Figures> {
  benchScheduler({ hosts: HOSTS, tenants: TENANTS, requests: Math.min(VMS, 2_000), seed: 7 }); // warm-up
  const r = benchScheduler({ hosts: HOSTS, tenants: TENANTS, requests: VMS });
  progress(name, `scheduler alone: ${r.decisionsPerSecond} decisions/s (${r.decisionsPerCpuSecond} per CPU-second), ${r.placed} placed, ${r.binpackHostsUsed} hosts (bound ${r.lowerBound})`);
  return {
    schedulerDecisionsPerSecond: r.decisionsPerSecond,
    schedulerDecisionsPerCpuSecond: r.decisionsPerCpuSecond,
    schedulerPlaced: `${r.placed}/${VMS}`,
    schedulerBinpackHosts: r.binpackHostsUsed,
    schedulerLowerBound: r.lowerBound,
    schedulerBinpackOverBound: round(r.binpackHostsUsed / r.lowerBound, 3),
  };
}

async function throughTheApi(): Promise<Figures> {
  await mkdir(BENCH_OUT, { recursive: true });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'virtflow-bench-placement-'));
  let embedded: EmbeddedDatabase | undefined;
  let server: BenchChild<ServerInfo> | undefined;
  let pool: Pool | undefined;
  const abort = new AbortController();
  let managerDone: Promise<void> | undefined;
  let session: Session | undefined;
  try {
    progress(name, `starting PostgreSQL in ${dir}`);
    embedded = await startEmbeddedPostgres(path.join(dir, 'pg'), { persistent: false });
    const dbUrl = await createDatabase(embedded.url, 'virtflow_placement');
    const home = path.join(dir, 'home');
    progress(name, 'starting the API server process');
    server = await BenchChild.start<ServerInfo>(
      path.join(path.dirname(fileURLToPath(import.meta.url)), 'api-server-process.ts'),
      { databaseUrl: dbUrl.toString(), home },
      { label: 'the API server', stopGraceMs: 15_000 },
    );
    pool = new Pool(server.info.url, { connect: { ca: server.info.caCert }, connections: CLIENTS, pipelining: 1 });
    const api = new Api(pool, server.info.token);

    const w = workload();
    const inventoryStart = performance.now();
    const deadline = inventoryStart + TIMEOUT_MS;
    progress(name, `creating the inventory: ${w.inventory.length} objects (${HOSTS} hosts, ${TENANTS} tenants)`);
    // Kinds in order (hosts after their racks, quotas after their tenants), each kind in parallel.
    const byPlural = new Map<string, Workload['inventory']>();
    for (const item of w.inventory) byPlural.set(item.plural, [...(byPlural.get(item.plural) ?? []), item]);
    for (const items of byPlural.values()) await inParallel(items, CLIENTS, (item) => api.create(item.obj, item.plural, item.core));

    const registry = new Registry();
    const controllers = setupControllers({
      kubeConfig: loadKubeConfig(path.join(home, 'kubeconfig')),
      leaderElection: false,
      registry,
      vmWorkers: process.env.BENCH_VM_WORKERS ? Number(process.env.BENCH_VM_WORKERS) : undefined,
      // Conflicts are retried by design; at this scale their warnings would drown the progress.
      log: pino({ level: process.env.VIRTFLOW_LOG_LEVEL ?? 'error' }),
    });
    const { listers } = controllers;
    managerDone = controllers.manager.start(abort.signal);
    managerDone.catch((err) => progress(name, `controllers stopped: ${(err as Error).message}`));

    // Placement is measured on a settled inventory: every host's phase and labels written.
    const settled = () =>
      listers.hosts.list().length === HOSTS &&
      listers.hosts.list().every((h) => h.status?.phase && h.metadata.labels?.['topology.virtflow.io/rack']) &&
      listers.quotas.list().every((q) => q.status?.limits);
    await until(settled, 'the inventory to settle', deadline, () => `${listers.hosts.list().filter((h) => h.status?.phase).length}/${HOSTS} hosts have a phase`);
    const inventorySettleSeconds = round((performance.now() - inventoryStart) / 1000, 1);
    progress(name, `inventory settled in ${inventorySettleSeconds} s`);

    // Track placements as the controllers' own cache sees them.
    const createdAt = new Map<string, number>();
    const placedAt = new Map<string, number>();
    controllers.manager.informer<VirtualMachine>(Kinds.VirtualMachine).subscribe((e) => {
      const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
      if (e.type !== 'deleted' && e.object.status?.placement?.baremetal && !placedAt.has(key)) placedAt.set(key, performance.now());
    });
    const unschedulable = () => listers.vms.byIndex('byPhase', 'Unschedulable').length;

    if (PROFILE) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 500 });
      await session.post('Profiler.start');
    }
    const requestsBefore = await serverRequests(api);
    const cpuBefore = process.cpuUsage();
    const serverCpuBefore = await server.call<NodeJS.CpuUsage>('cpu');
    progress(name, `creating ${VMS} VMs through the API (${CLIENTS} clients)`);
    const t0 = performance.now();
    const ticker = setInterval(() => progress(name, `${createdAt.size} created, ${placedAt.size} placed, ${unschedulable()} unschedulable`), 10_000);
    let createSeconds = 0;
    try {
      await inParallel(w.vms, CLIENTS, async (v) => {
        if (performance.now() > deadline) throw new Error(`gave up after ${TIMEOUT_MS / 1000} s while creating VMs: ${createdAt.size}/${VMS} created, ${placedAt.size} placed`);
        await api.create(v.obj, 'virtualmachines');
        createdAt.set(`${v.obj.metadata.namespace}/${v.obj.metadata.name}`, performance.now());
      });
      createSeconds = (performance.now() - t0) / 1000;
      progress(name, `created ${VMS} VMs in ${round(createSeconds, 1)} s; ${placedAt.size} placed so far`);
      await until(() => placedAt.size >= VMS, 'every VM to be placed', deadline, () => `${placedAt.size}/${VMS} placed, ${unschedulable()} unschedulable`);
    } finally {
      clearInterval(ticker);
    }
    const last = Math.max(...placedAt.values());
    const placeSeconds = (last - t0) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const controllerCpuPercent = Math.round(((cpu.user + cpu.system) / 1000 / (last - t0)) * 100);
    const serverCpu = await server.call<NodeJS.CpuUsage>('cpu');
    const serverCpuPercent = Math.round(((serverCpu.user - serverCpuBefore.user + serverCpu.system - serverCpuBefore.system) / 1000 / (last - t0)) * 100);
    await writeProfile(session);
    session = undefined;
    const requests = requestsBetween(requestsBefore, await serverRequests(api));
    progress(name, `API writes from the first create until all were placed, by verb and resource (code): ${requests.text}`);
    await writeFile(path.join(BENCH_OUT, 'placement-requests.txt'), `${requests.text.split(', ').join('\n')}\n`);
    const latencies = sortNumbers([...createdAt].map(([k, at]) => (placedAt.get(k) ?? Number.NaN) - at));
    progress(name, `all ${VMS} placed ${round(placeSeconds, 1)} s after the first create`);

    // Check the result from what the API lists, not from the controllers' cache.
    const vms = await api.list('virtualmachines');
    const perHost = new Map<string, Resources>();
    const perTenant = new Map<string, Resources>();
    const sizeOf = new Map(flavors.map((f) => [f.name, f.r]));
    const addTo = (m: Map<string, Resources>, k: string, r: Resources) => {
      const cur = m.get(k) ?? { cpu: 0, memory: 0, storage: 0, gpu: 0 };
      m.set(k, { cpu: cur.cpu + r.cpu, memory: cur.memory + r.memory, storage: cur.storage + r.storage, gpu: 0 });
    };
    const placedDemands: Resources[] = [];
    for (const v of vms) {
      const at = v.status?.placement?.baremetal;
      if (!at) continue;
      const r = sizeOf.get(v.spec.specification)!;
      placedDemands.push(r);
      addTo(perHost, at, r);
      addTo(perTenant, v.metadata.namespace, r);
    }
    const allocatable = { cpu: host.cpu * overcommit.cpu, memory: host.memory * overcommit.memory, storage: host.storage * overcommit.storage, gpu: 0 };
    let overbooked = 0;
    for (const r of perHost.values()) if (r.cpu > allocatable.cpu || r.memory > allocatable.memory || r.storage > allocatable.storage) overbooked++;
    for (const [t, r] of perTenant) {
      const l = w.limits.get(t)!;
      if (r.cpu > l.cpu || r.memory > l.memory || r.storage > l.storage) overbooked++;
    }
    const bound = lowerBoundHosts(placedDemands, allocatable);
    return {
      inventorySettleSeconds,
      vms: VMS,
      createSeconds: round(createSeconds, 1),
      placeSeconds: round(placeSeconds, 1),
      vmsPlacedPerSecond: Math.round(VMS / placeSeconds),
      placeLatencyP50Ms: Math.round(percentile(latencies, 50)),
      placeLatencyP99Ms: Math.round(percentile(latencies, 99)),
      binpackHosts: perHost.size,
      lowerBound: bound,
      binpackOverBound: round(perHost.size / bound, 3),
      overbooked,
      apiWritesPerSecond: Math.round(requests.writes / placeSeconds),
      apiWritesPerVm: round(requests.writes / VMS, 2),
      apiWriteMeanMs: requests.meanMs,
      controllerCpuPercent,
      serverCpuPercent,
    };
  } finally {
    // Written also when the run gives up: that is when the profile is wanted most.
    await writeProfile(session).catch(() => {});
    abort.abort();
    await managerDone?.catch(() => {});
    await pool?.close().catch(() => {});
    if (server) await server.stop().catch(() => {});
    await embedded?.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

type RequestRows = Map<string, { count: number; seconds: number }>;

/** The API server's writes (and lists) by verb, resource and code: count and total seconds. */
async function serverRequests(api: Api): Promise<RequestRows> {
  const res = await api.pool.request({ method: 'GET', path: '/metrics', headers: { authorization: `Bearer ${api.token}` } });
  const text = await res.body.text();
  const rows: RequestRows = new Map();
  for (const line of text.split('\n')) {
    const m = /^apiserver_request_duration_seconds_(sum|count)\{(.*)\} ([\d.e+-]+)/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (labels.verb === 'GET' || labels.verb === 'WATCH') continue;
    const key = `${labels.verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''} (${labels.code})`;
    const row = rows.get(key) ?? { count: 0, seconds: 0 };
    if (m[1] === 'sum') row.seconds = Number(m[3]);
    else row.count = Number(m[3]);
    rows.set(key, row);
  }
  return rows;
}

/** What happened between two readings: the writes only (lists excluded), by kind. */
function requestsBetween(before: RequestRows, after: RequestRows): { writes: number; meanMs: number; text: string } {
  const rows = [...after]
    .filter(([k]) => !k.startsWith('LIST '))
    .map(([k, r]) => {
      const b = before.get(k) ?? { count: 0, seconds: 0 };
      return [k, { count: r.count - b.count, seconds: r.seconds - b.seconds }] as const;
    })
    .filter(([, r]) => r.count > 0)
    .sort((a, b) => b[1].count - a[1].count);
  const writes = rows.reduce((n, [, r]) => n + r.count, 0);
  const seconds = rows.reduce((n, [, r]) => n + r.seconds, 0);
  const text = rows.map(([k, r]) => `${r.count} ${k} mean ${round((r.seconds / r.count) * 1000, 1)} ms`).join(', ');
  return { writes, meanMs: writes > 0 ? round((seconds / writes) * 1000, 1) : 0, text };
}

async function writeProfile(session: Session | undefined): Promise<void> {
  if (!session) return;
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  await writeFile(path.join(BENCH_OUT, 'placement-controllers.cpuprofile'), JSON.stringify(profile));
  await writeFile(path.join(BENCH_OUT, 'placement-profile.txt'), formatProfileSummary(summarizeProfile(profile as never, 40)));
  progress(name, `CPU profile of the controllers written to ${path.join(BENCH_OUT, 'placement-profile.txt')}`);
}

/** Polls a cheap in-process condition; throws a clear message at the deadline. */
async function until(check: () => boolean, what: string, deadline: number, state?: () => string): Promise<void> {
  while (!check()) {
    if (performance.now() > deadline) {
      throw new Error(`gave up after ${Math.round(TIMEOUT_MS / 1000)} s waiting for ${what}${state ? `: ${state()}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function run(): Promise<Figures> {
  const alone = await schedulerAlone();
  const api = await throughTheApi();
  return { ...alone, ...api };
}

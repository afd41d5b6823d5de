// The `lifecycle` suite: VMs through create -> Running -> delete, end to end, on what
// `virtflow up` runs — the API server, the controllers and the simulated external controller
// at zero latency, in one process of their own (lifecycle-up-process.ts) on an embedded
// PostgreSQL. This process is the user: it creates the VMs over HTTPS from 16 clients, watches
// them, and deletes them once all are Ready.
//
//  1. create-to-Ready latency of each VM: from just before its POST to the watch event in
//     which its Ready condition is first True (p50/p99/max);
//  2. VMs per second: created and Ready, deleted and gone, and end to end (first POST to the
//     last VM gone);
//  3. what the simulator counted: machines built per uid (must be 1), machines left (must be
//     0), requests per VM;
//  4. a CPU profile of the `virtflow up` process over the whole run, with the CPU split
//     (that process, PostgreSQL, this one), written to $BENCH_OUT (default
//     /tmp/virtflow-bench): lifecycle.cpuprofile and a summary in lifecycle-profile.txt; its
//     log in lifecycle-up.log.
//
// Knobs (environment): BENCH_VMS (5000), BENCH_LIFECYCLE_DEADLINE_S (300): the run gives up
// when the VMs are not all Ready, or not all gone, that long after the first create. A run
// that gives up says so in its `outcome` row (and misses the VMs Ready / gone goals), with the
// figures of what it did by then; only a run that could not start fails the suite.
// BENCH_LIFECYCLE_NO_GC=1 (diagnostics, not the figure of record) runs the API server without
// its ownerReference garbage collector, to see what the lifecycle costs without it.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, Pool, request } from 'undici';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/store/embedded.js';
import { formatProfileSummary, summarizeProfileFile } from './profile-summary.js';
import { BENCH_OUT, envNumber, percentile, progress, round, sortNumbers, type FigureInfo, type Figures } from './suite.js';
import { createDatabase } from '../support/create-database.js';
import { postgresCpuSeconds } from './postgres-cpu.js';
import { BenchChild } from './bench-child.js';

export const name = 'lifecycle';
export const description = 'VMs through create -> Running -> delete on virtflow up (simulator at zero latency)';

const VMS = envNumber('BENCH_VMS', 5_000);
const DEADLINE_MS = envNumber('BENCH_LIFECYCLE_DEADLINE_S', 300) * 1000;
export const CLIENTS = 16;
export const NS = 'bench';
export const GROUP = '/apis/virtflow.io/v1alpha1';
/** One VM is 1 cpu, 1 GiB, 10 GiB; a host takes 100 of them. */
const PER_HOST = 100;

export const figures: Record<string, FigureInfo> = {
  outcome: { label: 'outcome' },
  vms: { label: 'VMs', unit: 'VMs' },
  vmsReady: { label: 'VMs Ready', unit: 'VMs', goal: { op: '>=', value: VMS } },
  vmsGone: { label: 'VMs deleted and gone', unit: 'VMs', goal: { op: '>=', value: VMS } },
  endToEndPerSecond: { label: 'VMs/s end to end (create->Running->gone)', unit: '/s' },
  readyPerSecond: { label: 'VMs/s created and Ready', unit: '/s' },
  gonePerSecond: { label: 'VMs/s deleted and gone', unit: '/s' },
  createToReadyP50Ms: { label: 'create -> Ready p50', unit: 'ms' },
  createToReadyP99Ms: { label: 'create -> Ready p99', unit: 'ms' },
  createToReadyMaxMs: { label: 'create -> Ready max', unit: 'ms' },
  deleteToGoneP50Ms: { label: 'delete -> gone p50', unit: 'ms' },
  deleteToGoneP99Ms: { label: 'delete -> gone p99', unit: 'ms' },
  createRequestP99Ms: { label: 'POST VM latency p99', unit: 'ms' },
  mostMachinesPerUid: { label: 'machines built per uid, most', unit: '', goal: { op: '<=', value: 1 } },
  machinesLeft: { label: 'machines left after the deletes', unit: '', goal: { op: '<=', value: 0 } },
  providerRequestsPerVm: { label: 'requests to the external controller per VM', unit: '' },
  statusReportsPerVm: { label: 'status reports (callbacks) per VM', unit: '' },
  upCpuMsPerVm: { label: 'CPU per VM: virtflow up', unit: 'ms' },
  postgresCpuMsPerVm: { label: 'CPU per VM: PostgreSQL', unit: 'ms' },
  clientCpuMsPerVm: { label: 'CPU per VM: this load generator', unit: 'ms' },
};

const here = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------

export interface UpInfo {
  url: string;
  token: string;
  caCert: string;
}

interface SimStats {
  totals: { creates: number; updates: number; powers: number; deletes: number; observes: number; machinesCreated: number };
  uids: number;
  machines: number;
  mostMachinesPerUid: number;
  uidsWithDuplicates: number;
  reports: { sent: number; retried: number; dropped: number };
}



// ---------------------------------------------------------------------------------------
// HTTP

export async function send(
  pool: Pool,
  token: string,
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'GET',
  urlPath: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; text: string }> {
  const res = await pool.request({
    method,
    path: urlPath,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

export async function mustCreate(pool: Pool, token: string, urlPath: string, body: unknown): Promise<void> {
  const res = await send(pool, token, 'POST', urlPath, body);
  if (res.status !== 201) throw new Error(`POST ${urlPath} answered ${res.status}: ${res.text.slice(0, 300)}`);
}

/** Runs `work(i)` for i in [0, count) from `clients` concurrent loops; answers per-call latencies. */
export async function concurrently(count: number, clients: number, work: (i: number) => Promise<void>, deadline: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const loop = async () => {
    for (;;) {
      const i = next++;
      if (i >= count || performance.now() > deadline) return;
      const t0 = performance.now();
      await work(i);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  return latencies;
}

/**
 * A watch of the bench namespace's VMs that records, per name, when Ready first became True
 * and when the VM was deleted; it reconnects from the last resourceVersion when the server
 * ends the stream.
 */
export class VmWatch {
  readonly readyAt = new Map<string, number>();
  readonly goneAt = new Map<string, number>();
  private rv = '';
  private stopped = false;
  private abort = new AbortController();
  private readonly dispatcher: Agent;
  private waiters: (() => void)[] = [];
  private running?: Promise<void>;

  constructor(
    private readonly info: UpInfo,
  ) {
    this.dispatcher = new Agent({ connect: { ca: info.caCert } });
  }

  async start(): Promise<void> {
    const list = await request(`${this.info.url}${GROUP}/namespaces/${NS}/virtualmachines?limit=1`, {
      dispatcher: this.dispatcher,
      headers: { authorization: `Bearer ${this.info.token}` },
    });
    this.rv = ((await list.body.json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    this.running = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const res = await request(
          `${this.info.url}${GROUP}/namespaces/${NS}/virtualmachines?watch=true&allowWatchBookmarks=true&timeoutSeconds=600&resourceVersion=${this.rv}`,
          { dispatcher: this.dispatcher, signal: this.abort.signal, headers: { authorization: `Bearer ${this.info.token}` } },
        );
        if (res.statusCode !== 200) throw new Error(`watch answered ${res.statusCode}: ${await res.body.text()}`);
        let buffer = '';
        for await (const chunk of res.body) {
          buffer += (chunk as Buffer).toString('utf8');
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (line.trim()) this.onEvent(JSON.parse(line));
          }
        }
      } catch (err) {
        if (this.stopped) return;
        progress(name, `  watch ended (${(err as Error).message}); watching again from ${this.rv}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private onEvent(e: { type: string; object: any }): void {
    const now = performance.now();
    if (e.object?.metadata?.resourceVersion) this.rv = e.object.metadata.resourceVersion;
    if (e.type === 'ERROR') throw new Error(`watch error: ${JSON.stringify(e.object)}`);
    const vmName = e.object?.metadata?.name as string | undefined;
    if (!vmName || e.type === 'BOOKMARK') return;
    if (e.type === 'DELETED') {
      if (!this.goneAt.has(vmName)) this.goneAt.set(vmName, now);
    } else if (!this.readyAt.has(vmName)) {
      const ready = (e.object.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
      if (ready?.status === 'True') this.readyAt.set(vmName, now);
    }
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when `done()` holds, or false at the deadline. */
  async until(done: () => boolean, deadline: number): Promise<boolean> {
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.running?.catch(() => {});
    await this.dispatcher.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------

const api = 'virtflow.io/v1alpha1';
export const vmName = (i: number) => `vm-${String(i).padStart(5, '0')}`;
export const vmBody = (n: string) => ({
  apiVersion: api,
  kind: 'VirtualMachine',
  metadata: { name: n, namespace: NS },
  spec: { specification: 'bench-1c', image: 'bench-image', group: 'bench' },
});

export async function inventory(pool: Pool, token: string, vms: number): Promise<void> {
  const hosts = Math.ceil((vms + 1) / PER_HOST);
  await mustCreate(pool, token, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await mustCreate(pool, token, `${GROUP}/datacenters`, { apiVersion: api, kind: 'Datacenter', metadata: { name: 'bench-dc' }, spec: { region: 'tw' } });
  for (const r of ['bench-r1', 'bench-r2']) await mustCreate(pool, token, `${GROUP}/racks`, { apiVersion: api, kind: 'Rack', metadata: { name: r }, spec: { datacenter: 'bench-dc' } });
  await mustCreate(pool, token, `${GROUP}/baremetalgroups`, { apiVersion: api, kind: 'BaremetalGroup', metadata: { name: 'bench' }, spec: { region: 'tw', strategy: 'Binpack' } });
  for (let h = 0; h < hosts; h++) {
    await mustCreate(pool, token, `${GROUP}/baremetals`, {
      apiVersion: api,
      kind: 'Baremetal',
      metadata: { name: `bench-h${String(h).padStart(3, '0')}` },
      spec: { serialNumber: `SN-BENCH-${h}`, rack: h % 2 ? 'bench-r2' : 'bench-r1', group: 'bench', capacity: { cpu: PER_HOST, memory: `${PER_HOST}Gi`, storage: `${PER_HOST * 10}Gi` } },
    });
  }
  await mustCreate(pool, token, `${GROUP}/tenants`, { apiVersion: api, kind: 'Tenant', metadata: { name: NS }, spec: { namespace: NS } });
  await mustCreate(pool, token, `${GROUP}/tenantquotas`, {
    apiVersion: api,
    kind: 'TenantQuota',
    metadata: { name: 'bench-bench' },
    spec: { tenant: NS, group: 'bench', limits: { cpu: hosts * PER_HOST, memory: `${hosts * PER_HOST}Gi`, storage: `${hosts * PER_HOST * 10}Gi` } },
  });
  await mustCreate(pool, token, `${GROUP}/virtualmachinespecifications`, { apiVersion: api, kind: 'VirtualMachineSpecification', metadata: { name: 'bench-1c' }, spec: { cpu: 1, memory: '1Gi', storage: '10Gi' } });
  await mustCreate(pool, token, `${GROUP}/virtualmachineimages`, {
    apiVersion: api,
    kind: 'VirtualMachineImage',
    metadata: { name: 'bench-image' },
    spec: { os: { family: 'ubuntu', version: '24.04' }, source: { url: 'https://images.example/bench.qcow2' }, format: 'qcow2' },
  });
}

export async function run(): Promise<Figures> {
  await mkdir(BENCH_OUT, { recursive: true });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'virtflow-bench-lifecycle-'));
  const dataDir = path.join(dir, 'pg');
  let embedded: EmbeddedDatabase | undefined;
  let up: BenchChild<UpInfo> | undefined;
  let pool: Pool | undefined;
  let watch: VmWatch | undefined;
  try {
    progress(name, `starting PostgreSQL in ${dir}`);
    embedded = await startEmbeddedPostgres(dataDir, { persistent: false });
    const dbUrl = await createDatabase(embedded.url, 'virtflow_lifecycle');

    progress(name, 'starting virtflow up (API server, controllers, simulator) in its own process');
    const logFile = path.join(BENCH_OUT, 'lifecycle-up.log');
    up = await BenchChild.start<UpInfo>(
      path.join(here, 'lifecycle-up-process.ts'),
      { databaseUrl: dbUrl.toString(), home: path.join(dir, 'home'), noGarbageCollector: process.env.BENCH_LIFECYCLE_NO_GC === '1' },
      { label: 'virtflow up', logFile, stopGraceMs: 15_000 },
    );
    const { token } = up.info;
    pool = new Pool(up.info.url, { connect: { ca: up.info.caCert }, connections: CLIENTS, pipelining: 1 });
    progress(name, `inventory for ${VMS} VMs: ${Math.ceil((VMS + 1) / PER_HOST)} hosts of ${PER_HOST} cores`);
    await inventory(pool, token, VMS);
    watch = new VmWatch(up.info);
    await watch.start();

    // Warm-up: one VM through the whole lifecycle, so caches are synced and code is compiled.
    progress(name, 'warm-up: one VM created, Ready, deleted');
    const warmDeadline = performance.now() + 120_000;
    await mustCreate(pool, token, `${GROUP}/namespaces/${NS}/virtualmachines`, vmBody('warm-up'));
    if (!(await watch.until(() => watch!.readyAt.has('warm-up'), warmDeadline))) throw new Error('gave up: the warm-up VM was not Ready within 120 s');
    await send(pool, token, 'DELETE', `${GROUP}/namespaces/${NS}/virtualmachines/warm-up`);
    if (!(await watch.until(() => watch!.goneAt.has('warm-up'), warmDeadline))) throw new Error('gave up: the warm-up VM was not gone within 120 s');
    const warmStats = await up.call<SimStats>('stats');
    const warmCounters = await up.call<Record<string, number>>('counters');

    const cpu0 = { up: await up.call<NodeJS.CpuUsage>('cpu'), pg: await postgresCpuSeconds(dataDir), client: process.cpuUsage() };
    const profileFile = path.join(BENCH_OUT, 'lifecycle.cpuprofile');
    const profileText = path.join(BENCH_OUT, 'lifecycle-profile.txt');
    await up.call('profile-start');
    /** Stops the profile and writes its summary, headed by `headline`; also when giving up. */
    const writeProfile = async (headline: string) => {
      const cpu1 = { up: await up!.call<NodeJS.CpuUsage>('cpu'), pg: await postgresCpuSeconds(dataDir), client: process.cpuUsage(cpu0.client) };
      await up!.call('profile-stop', { file: profileFile });
      const stats = await up!.call<SimStats>('stats');
      const cpuMs = {
        up: (cpu1.up.user + cpu1.up.system - cpu0.up.user - cpu0.up.system) / 1000,
        pg: (cpu1.pg - cpu0.pg) * 1000,
        client: (cpu1.client.user + cpu1.client.system) / 1000,
      };
      const summary = await summarizeProfileFile(profileFile, 30);
      const counters = await up!.call<Record<string, number>>('counters');
      const perVm = Object.entries(counters)
        .map(([key, value]) => [key, (value - (warmCounters[key] ?? 0)) / VMS] as const)
        .filter(([, value]) => value >= 0.05)
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([key, value]) => `  ${value.toFixed(2).padStart(7)}  ${key}`);
      await writeFile(
        profileText,
        [
          headline,
          `CPU: virtflow up ${round(cpuMs.up / 1000, 1)} s, PostgreSQL ${round(cpuMs.pg / 1000, 1)} s, load generator ${round(cpuMs.client / 1000, 1)} s`,
          `simulator: ${JSON.stringify(stats)}`,
          '',
          'per VM (API requests, reconciles and queue adds; 0.05 and over):',
          ...perVm,
          '',
          formatProfileSummary(summary),
        ].join('\n'),
      );
      progress(name, `profile summary in ${profileText}`);
      return { cpuMs, stats };
    };

    // 1. Creates, and every VM Ready.
    progress(name, `creating ${VMS} VMs from ${CLIENTS} clients`);
    const t0 = performance.now();
    const deadline = t0 + DEADLINE_MS;
    const createdAt = new Map<string, number>();
    let createErrors = 0;
    let firstError = '';
    const postLatencies = await concurrently(
      VMS,
      CLIENTS,
      async (i) => {
        const n = vmName(i);
        createdAt.set(n, performance.now());
        const res = await send(pool!, token, 'POST', `${GROUP}/namespaces/${NS}/virtualmachines`, vmBody(n));
        if (res.status !== 201) {
          createErrors++;
          firstError ||= `${res.status} ${res.text.slice(0, 200)}`;
        }
      },
      deadline,
    );
    const created = createdAt.size - createErrors;
    progress(name, `  ${created} created in ${round((performance.now() - t0) / 1000, 1)} s; waiting for Ready`);
    const reporter = setInterval(() => progress(name, `  ${watch!.readyAt.size - 1}/${VMS} Ready`), 10_000);
    const allReady = await watch.until(() => [...createdAt.keys()].every((n) => watch!.readyAt.has(n)), deadline);
    clearInterval(reporter);
    const tReady = performance.now();
    const readyCount = [...createdAt.keys()].filter((n) => watch!.readyAt.has(n)).length;
    const readyLatency = sortNumbers([...createdAt].flatMap(([n, t]) => (watch!.readyAt.has(n) ? [watch!.readyAt.get(n)! - t] : [])));
    const post = sortNumbers(postLatencies);
    const requests = (s: SimStats['totals']) => s.creates + s.updates + s.powers + s.deletes + s.observes;
    /** The figures of the phases done so far; a run that gives up still answers them. */
    const result = async (outcome: string, deletes?: { tDel: number; tGone: number; gone: number; goneLatency: number[] }): Promise<Figures> => {
      if (process.env.BENCH_LIFECYCLE_NO_GC === '1') outcome = `${outcome} [diagnostic: API server without its garbage collector]`;
      const headline = `lifecycle bench, ${VMS} VMs: ${outcome}`;
      progress(name, headline);
      const { cpuMs, stats } = await writeProfile(headline);
      const figures: Figures = {
        outcome,
        vms: VMS,
        vmsReady: readyCount,
        vmsGone: deletes?.gone ?? 0,
        readyPerSecond: allReady ? round(VMS / ((tReady - t0) / 1000), 1) : Number.NaN,
        createToReadyP50Ms: round(percentile(readyLatency, 50), 0),
        createToReadyP99Ms: allReady ? round(percentile(readyLatency, 99), 0) : Number.NaN,
        createToReadyMaxMs: allReady ? round(readyLatency[readyLatency.length - 1]!, 0) : Number.NaN,
        createRequestP99Ms: round(percentile(post, 99), 1),
      };
      if (deletes) {
        const done = deletes.gone === VMS;
        figures.gonePerSecond = done ? round(VMS / ((deletes.tGone - deletes.tDel) / 1000), 1) : Number.NaN;
        figures.deleteToGoneP50Ms = round(percentile(deletes.goneLatency, 50), 0);
        figures.deleteToGoneP99Ms = done ? round(percentile(deletes.goneLatency, 99), 0) : Number.NaN;
        figures.endToEndPerSecond = done ? round(VMS / ((deletes.tGone - t0) / 1000), 1) : Number.NaN;
      }
      Object.assign(figures, {
        mostMachinesPerUid: stats.mostMachinesPerUid,
        machinesLeft: stats.machines,
        providerRequestsPerVm: round((requests(stats.totals) - requests(warmStats.totals)) / VMS, 1),
        statusReportsPerVm: round((stats.reports.sent - warmStats.reports.sent) / VMS, 1),
        upCpuMsPerVm: round(cpuMs.up / VMS, 2),
        postgresCpuMsPerVm: round(cpuMs.pg / VMS, 2),
        clientCpuMsPerVm: round(cpuMs.client / VMS, 2),
      });
      return figures;
    };
    if (createErrors > 0 || !allReady) {
      return await result(
        `GAVE UP after ${round((tReady - t0) / 1000, 0)} s: ${readyCount}/${VMS} Ready, ${created} created, ${createErrors} creates refused${firstError ? ` (first: ${firstError})` : ''}`,
      );
    }
    progress(name, `  all ${VMS} Ready after ${round((tReady - t0) / 1000, 1)} s: p50 ${round(percentile(readyLatency, 50), 0)} ms, p99 ${round(percentile(readyLatency, 99), 0)} ms`);

    // 2. Deletes, and every VM gone.
    progress(name, `deleting ${VMS} VMs from ${CLIENTS} clients`);
    const tDel = performance.now();
    const deletedAt = new Map<string, number>();
    let deleteErrors = 0;
    await concurrently(
      VMS,
      CLIENTS,
      async (i) => {
        const n = vmName(i);
        deletedAt.set(n, performance.now());
        const res = await send(pool!, token, 'DELETE', `${GROUP}/namespaces/${NS}/virtualmachines/${n}`);
        if (res.status !== 200 && res.status !== 202) {
          deleteErrors++;
          firstError ||= `${res.status} ${res.text.slice(0, 200)}`;
        }
      },
      deadline,
    );
    const reporter2 = setInterval(() => progress(name, `  ${watch!.goneAt.size - 1}/${VMS} gone`), 10_000);
    const allGone = await watch.until(() => [...deletedAt.keys()].every((n) => watch!.goneAt.has(n)), deadline);
    clearInterval(reporter2);
    const tGone = performance.now();
    const gone = [...deletedAt.keys()].filter((n) => watch!.goneAt.has(n)).length;
    const goneLatency = sortNumbers([...deletedAt].flatMap(([n, t]) => (watch!.goneAt.has(n) ? [watch!.goneAt.get(n)! - t] : [])));
    const deletes = { tDel, tGone, gone, goneLatency };
    if (deleteErrors > 0 || !allGone || deletedAt.size < VMS) {
      return await result(
        `GAVE UP after ${round((tGone - t0) / 1000, 0)} s: all ${VMS} were Ready after ${round((tReady - t0) / 1000, 0)} s, then ${gone}/${VMS} gone ${round((tGone - tDel) / 1000, 0)} s after the deletes began (${deletedAt.size} sent, ${deleteErrors} refused${firstError ? `, first: ${firstError}` : ''})`,
        deletes,
      );
    }
    return await result(`complete: Ready after ${round((tReady - t0) / 1000, 1)} s, gone ${round((tGone - tDel) / 1000, 1)} s after the deletes began`, deletes);
  } finally {
    await watch?.stop().catch(() => {});
    await pool?.close().catch(() => {});
    await up?.stop().catch(() => {});
    await embedded?.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

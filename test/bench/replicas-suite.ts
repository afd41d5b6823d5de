// The `replicas` suite: VirtFlow scaled out on one PostgreSQL.
//
//  1. creates/s through one `virtflow server` process, then through two on the same database
//     with the same 16 clients spread over both (ConfigMaps, BENCH_REPLICA_CREATES each run);
//  2. watch delivery across servers: a watch on server B while ConfigMaps are written
//     through server A at BENCH_REPLICA_WATCH_RATE per second for 5 s: latency from the
//     write's answer to the event on B, and events missing;
//  3. two `virtflow controller` processes with the Lease (15 s), one on each server, and a
//     simulated external controller here: BENCH_REPLICA_VMS VMs created, the leader killed
//     (SIGKILL) once a third of them are built; time until the other holds the Lease and
//     until it builds the next machine, and machines built twice (must be 0). The successor
//     waits out the lease (15 s) from when it last saw it renewed, by its own clock.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, Pool, request, type Dispatcher } from 'undici';
import { startSimulator, type SimulatorHandle } from '../../src/providers/simulator/index.js';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/store/embedded.js';
import {
  API,
  baremetal,
  create,
  createAll,
  datacenter,
  flavor,
  get,
  group,
  image,
  inParallel,
  list,
  namespace,
  quota,
  rack,
  tenant,
  vm,
  waitUntil,
  type Api,
} from '../integration/placement-support.js';
import { apiCaller } from '../support/server.js';
import { BenchChild } from './bench-child.js';
import { BENCH_OUT, envNumber, percentile, progress, round, sortNumbers, type FigureInfo, type Figures } from './suite.js';
import { createDatabase } from '../support/create-database.js';

export const name = 'replicas';
export const description = 'two virtflow server processes and two controller processes on one PostgreSQL';

const CREATES = envNumber('BENCH_REPLICA_CREATES', 5_000);
const WATCH_RATE = envNumber('BENCH_REPLICA_WATCH_RATE', 200);
const WATCH_SECONDS = 5;
const VMS = envNumber('BENCH_REPLICA_VMS', 300);
const CLIENTS = 16;
const LEASE_DURATION_S = 15;
const here = path.dirname(fileURLToPath(import.meta.url));

export const figures: Record<string, FigureInfo> = {
  createsPerSecondOne: { label: 'creates/s, one server (16 clients)', unit: '/s' },
  createsPerSecondTwo: { label: 'creates/s, two servers (8 + 8 clients)', unit: '/s' },
  twoOverOne: { label: 'two servers / one', unit: 'x' },
  crossWatchP50Ms: { label: 'write on A -> event on B, p50', unit: 'ms' },
  crossWatchP99Ms: { label: 'write on A -> event on B, p99', unit: 'ms' },
  crossWatchMissing: { label: 'events missing on B', unit: '', goal: { op: '<=', value: 0 } },
  failoverLeaseS: { label: 'leader killed -> Lease held by the other', unit: 's', goal: { op: '<=', value: LEASE_DURATION_S + 5 } },
  failoverWorkS: { label: 'leader killed -> next machine built', unit: 's', goal: { op: '<=', value: LEASE_DURATION_S + 5 } },
  failoverConvergeS: { label: 'leader killed -> every VM Running', unit: 's' },
  failoverDuplicates: { label: 'VMs built twice', unit: '', goal: { op: '<=', value: 0 } },
};

interface ServerInfo {
  url: string;
  token: string;
  caCert: string;
}

function configMap(name: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { payload: 'x'.repeat(64) } });
}

/** `count` creates in `ns`, each client on the server of its index (round robin). */
async function createLoad(targets: { pool: Dispatcher; token: string }[], ns: string, prefix: string, count: number): Promise<{ perSecond: number; errors: number }> {
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const worker = async (client: number) => {
    const { pool, token } = targets[client % targets.length]!;
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const res = await pool.request({
        path: `/api/v1/namespaces/${ns}/configmaps`,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: configMap(`${prefix}-${i}`),
      });
      await res.body.text();
      if (res.statusCode !== 201) errors++;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => worker(c)));
  return { perSecond: count / ((performance.now() - started) / 1000), errors };
}

/** A watch whose events are timed on arrival, by object name. */
async function openWatch(server: ServerInfo, dispatcher: Dispatcher, ns: string, resourceVersion: string) {
  const arrived = new Map<string, number>();
  const controller = new AbortController();
  const res = await request(`${server.url}/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${resourceVersion}`, {
    dispatcher,
    headers: { authorization: `Bearer ${server.token}` },
    signal: controller.signal,
  });
  let buffer = '';
  const reading = (async () => {
    for await (const chunk of res.body) {
      const now = performance.now();
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.trim()) continue;
        const event = JSON.parse(line) as { type: string; object: { metadata: { name: string } } };
        if (event.type === 'ADDED') arrived.set(event.object.metadata.name, now);
      }
    }
  })().catch(() => {});
  return {
    arrived,
    async close() {
      controller.abort();
      await reading;
    },
  };
}

function startController(kubeconfig: string, metricsPort: number, logFile: string): ChildProcess {
  const child = spawn(process.execPath, [path.join(here, '../../bin/virtflow.js'), 'controller', '--kubeconfig', kubeconfig, '--metrics-port', String(metricsPort)], {
    env: { ...process.env, VIRTFLOW_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

async function isLeader(metricsPort: number): Promise<boolean> {
  const res = await request(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => undefined);
  if (!res) return false;
  const text = await res.body.text();
  return /^leader_election_master_status\{name="virtflow-controller"\} 1$/m.test(text);
}

export async function run(): Promise<Figures> {
  await mkdir(BENCH_OUT, { recursive: true });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'virtflow-bench-replicas-'));
  const out: Figures = {};
  let db: EmbeddedDatabase | undefined;
  const servers: BenchChild<ServerInfo>[] = [];
  const controllers: ChildProcess[] = [];
  const dispatchers: Dispatcher[] = [];
  let sim: SimulatorHandle | undefined;
  let closeApi: (() => Promise<void>) | undefined;
  try {
    db = await startEmbeddedPostgres(path.join(dir, 'pg'), { persistent: false });
    const dbUrl = await createDatabase(db.url, 'virtflow_replicas');
    for (const id of ['a', 'b']) {
      progress(name, `starting server ${id}`);
      // One after the other: the first one migrates the schema.
      servers.push(await BenchChild.start<ServerInfo>(path.join(here, 'api-server-process.ts'), { databaseUrl: dbUrl.toString(), home: path.join(dir, `home-${id}`) }, { label: `server ${id}` }));
    }
    const [a, b] = servers.map((s) => s.info) as [ServerInfo, ServerInfo];
    const pools = [a, b].map((s) => {
      const pool = new Pool(s.url, { connect: { ca: s.caCert }, connections: CLIENTS, pipelining: 1 });
      dispatchers.push(pool);
      return { pool, token: s.token };
    });
    const { call, close } = apiCaller(a.url, a.token, a.caCert);
    closeApi = close;
    for (const ns of ['warm', 'one', 'two', 'watch']) await create({ call }, namespace(ns));

    // 1. creates/s
    await createLoad(pools, 'warm', 'w', 1_000);
    progress(name, `1. ${CREATES} creates through one server`);
    const one = await createLoad([pools[0]!], 'one', 'c', CREATES);
    progress(name, `   ${round(one.perSecond, 0)}/s; now through two`);
    const two = await createLoad(pools, 'two', 'c', CREATES);
    progress(name, `   ${round(two.perSecond, 0)}/s`);
    Object.assign(out, { createsPerSecondOne: round(one.perSecond, 0), createsPerSecondTwo: round(two.perSecond, 0), twoOverOne: round(two.perSecond / one.perSecond, 2) });

    // 2. watch delivery across servers
    progress(name, `2. ${WATCH_RATE}/s written through A for ${WATCH_SECONDS} s, watched on B`);
    const start = await call('GET', '/api/v1/namespaces/watch/configmaps');
    const watchAgent = new Agent({ connect: { ca: b.caCert } });
    dispatchers.push(watchAgent);
    const watch = await openWatch(b, watchAgent, 'watch', start.body.metadata.resourceVersion);
    const answered = new Map<string, number>();
    const total = WATCH_RATE * WATCH_SECONDS;
    const t0 = performance.now();
    await inParallel(Array.from({ length: total }, (_, i) => i), 8, async (i) => {
      const due = t0 + (i * 1000) / WATCH_RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const res = await pools[0]!.pool.request({ path: '/api/v1/namespaces/watch/configmaps', method: 'POST', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }, body: configMap(`w-${i}`) });
      await res.body.text();
      if (res.statusCode === 201) answered.set(`w-${i}`, performance.now());
    });
    await waitUntil(() => [...answered.keys()].every((n) => watch.arrived.has(n)), 'every write to reach the watch on B', 10_000).catch(() => {});
    await watch.close();
    const lags = sortNumbers([...answered].flatMap(([n, t]) => (watch.arrived.has(n) ? [Math.max(0, watch.arrived.get(n)! - t)] : [])));
    Object.assign(out, {
      crossWatchP50Ms: round(percentile(lags, 50), 1),
      crossWatchP99Ms: round(percentile(lags, 99), 1),
      crossWatchMissing: [...answered.keys()].filter((n) => !watch.arrived.has(n)).length,
    });

    // 3. leader failover
    progress(name, `3. two controller processes; ${VMS} VMs; the leader killed once a third are built`);
    const homeA = path.join(dir, 'home-a');
    const statusToken = (await readFile(path.join(homeA, 'status-writer-token'), 'utf8')).trim();
    sim = await startSimulator({ port: 0, latencyMs: { create: 200, boot: 200 }, callback: { apiServer: a.url, caCert: a.caCert, token: statusToken }, allowUnauthenticated: true });
    const api: Api = { call };
    const hosts = Math.ceil(VMS / 16) + 1;
    await createAll(api, [
      datacenter('dc-1', 'tw'),
      rack('rack-1', 'dc-1'),
      group('general'),
      ...Array.from({ length: hosts }, (_, i) => baremetal(`bm-${i}`, 'rack-1', 'general', { cpu: 32, memory: '128Gi', storage: '4Ti' })),
      flavor('small', 1, '2Gi', '10Gi'),
      image('ubuntu'),
      tenant('acme'),
      namespace('acme'),
      quota('acme-general', 'acme', 'general', { cpu: VMS * 2 }),
      { apiVersion: API, kind: 'ExternalController', metadata: { name: 'replicas-simulator' }, spec: { service: 'VirtualMachine', regions: [], endpoint: sim.url, allowInsecureHttp: true } },
    ]);
    const ports = [await freePort(), await freePort()];
    controllers.push(startController(path.join(dir, 'home-a', 'kubeconfig'), ports[0]!, path.join(BENCH_OUT, 'replicas-controller-a.log')));
    controllers.push(startController(path.join(dir, 'home-b', 'kubeconfig'), ports[1]!, path.join(BENCH_OUT, 'replicas-controller-b.log')));
    await waitUntil(async () => (await isLeader(ports[0]!)) || (await isLeader(ports[1]!)), 'a controller process to lead', 90_000, 500);
    await waitUntil(async () => (await list(api, 'baremetals')).every((h) => h.status?.phase === 'Ready'), 'the hosts to be Ready', 60_000, 500);
    const leader = (await isLeader(ports[0]!)) ? 0 : 1;
    const holderBefore = (await get(api, 'leases', 'virtflow-controller', 'virtflow-system')).spec.holderIdentity as string;
    const creating = inParallel(Array.from({ length: VMS }, (_, i) => i), 16, (i) => create(api, vm('acme', `vm-${String(i).padStart(4, '0')}`, { specification: 'small', group: 'general' })));
    const built = () => sim!.stats.totals().machinesCreated;
    await waitUntil(() => built() >= VMS / 3, 'a third of the machines to be built', 120_000);
    const builtAtKill = built();
    const killedAt = performance.now();
    controllers[leader]!.kill('SIGKILL');
    progress(name, `   killed the leader (controller ${leader === 0 ? 'a' : 'b'}) with ${builtAtKill} of ${VMS} built`);
    // Machines the killed leader asked for land within the simulator's latency (200 ms): what
    // is built after the first second is the new leader's work.
    let workAt = 0;
    let builtByOld = -1;
    const watchWork = setInterval(() => {
      if (builtByOld < 0 && performance.now() - killedAt > 1_000) builtByOld = built();
      else if (builtByOld >= 0 && !workAt && built() > builtByOld) workAt = performance.now();
    }, 20);
    await waitUntil(async () => (await get(api, 'leases', 'virtflow-controller', 'virtflow-system')).spec.holderIdentity !== holderBefore, 'the other process to take the Lease', 120_000, 50);
    const leaseAt = performance.now();
    await creating;
    await waitUntil(async () => (await list(api, 'virtualmachines', 'acme')).filter((v) => v.status?.phase === 'Running').length === VMS, 'every VM Running', 300_000, 500);
    const convergedAt = performance.now();
    clearInterval(watchWork);
    Object.assign(out, {
      failoverLeaseS: round((leaseAt - killedAt) / 1000, 1),
      failoverWorkS: workAt ? round((workAt - killedAt) / 1000, 1) : Number.NaN,
      failoverConvergeS: round((convergedAt - killedAt) / 1000, 1),
      failoverDuplicates: sim.stats.uids().filter((uid) => sim!.stats.uid(uid).machinesCreated > 1).length,
    });
    return out;
  } finally {
    for (const c of controllers) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await sim?.stop();
    await closeApi?.();
    for (const d of dispatchers) await d.close().catch(() => {});
    for (const s of servers) await s.stop().catch(() => {});
    await db?.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

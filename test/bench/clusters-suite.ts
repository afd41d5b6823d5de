// The `clusters` suite: K8sClusters that VirtFlow builds, at scale. 20 clusters of 3
// control-plane nodes and two pools of 5 workers (260 VMs) are created at once and waited
// Active; then all are upgraded one minor version and waited Succeeded. Everything runs in
// this process as `virtflow up` runs it (API server on an embedded PostgreSQL, controllers,
// the simulator playing the VM service and the K8s Cluster Service with short latencies);
// this process is also the user, over HTTPS.
//
// Figures: time to Active, time to upgraded, CPU per node (this process and PostgreSQL) for
// each phase, and the most hosts and quotas ever seen over their limits while it ran (must be
// 0). Knobs (environment): BENCH_CLUSTERS (20), BENCH_CLUSTERS_WORKERS (5 per pool),
// BENCH_CLUSTERS_DEADLINE_S (300).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { loadKubeConfig, startControllers, type RunningControllers } from '../../src/cli/controllers.js';
import { startStandalone, type Standalone } from '../../src/cli/standalone.js';
import { compare, parseQuantity } from '../../src/machinery/quantity.js';
import { startSimulator, type SimulatorHandle } from '../../src/providers/simulator/index.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/store/embedded.js';
import { postgresCpuSeconds } from './postgres-cpu.js';
import { envNumber, progress, round, type FigureInfo, type Figures } from './suite.js';
import { createDatabase } from '../support/create-database.js';

export const name = 'clusters';
export const description = 'K8sClusters (3 control plane + 2 pools) built to Active, then upgraded, on virtflow up';

const CLUSTERS = envNumber('BENCH_CLUSTERS', 20);
const WORKERS = envNumber('BENCH_CLUSTERS_WORKERS', 5);
const DEADLINE_MS = envNumber('BENCH_CLUSTERS_DEADLINE_S', 300) * 1000;
const NODES = CLUSTERS * (3 + 2 * WORKERS);
const NS = 'bench';
const GROUP = '/apis/virtflow.io/v1alpha1';
const api = 'virtflow.io/v1alpha1';
/** 16 hosts of 64 cores on 4 racks; a node is 2 cores: room for the nodes and the surges. */
const HOSTS = Math.max(16, Math.ceil((NODES * 2 * 1.3) / 64));

export const figures: Record<string, FigureInfo> = {
  outcome: { label: 'outcome' },
  nodes: { label: 'nodes (VMs)', unit: 'VMs' },
  clustersActive: { label: 'clusters Active', unit: '', goal: { op: '>=', value: CLUSTERS } },
  clustersUpgraded: { label: 'clusters upgraded', unit: '', goal: { op: '>=', value: CLUSTERS } },
  timeToActiveS: { label: 'time to all Active', unit: 's' },
  timeToUpgradedS: { label: 'time to all upgraded', unit: 's' },
  buildCpuMsPerNode: { label: 'CPU per node built: virtflow', unit: 'ms' },
  buildPostgresCpuMsPerNode: { label: 'CPU per node built: PostgreSQL', unit: 'ms' },
  upgradeCpuMsPerNode: { label: 'CPU per node replaced: virtflow', unit: 'ms' },
  upgradePostgresCpuMsPerNode: { label: 'CPU per node replaced: PostgreSQL', unit: 'ms' },
  hostsOverLimit: { label: 'hosts over capacity, most seen', unit: '', goal: { op: '<=', value: 0 } },
  quotasOverLimit: { label: 'quotas over limits, most seen', unit: '', goal: { op: '<=', value: 0 } },
  vmsLeft: { label: 'VMs after the run (no surge node left)', unit: 'VMs', goal: { op: '<=', value: NODES } },
};

class Client {
  constructor(
    private readonly pool: Pool,
    private readonly token: string,
  ) {}
  async call(method: 'GET' | 'POST' | 'PATCH', urlPath: string, body?: unknown): Promise<any> {
    const res = await this.pool.request({
      method,
      path: urlPath,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${urlPath} answered ${res.statusCode}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  }
}

async function inventory(c: Client, simulator: string): Promise<void> {
  await c.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const post = (plural: string, kind: string, name: string, spec: unknown, namespaced = false) =>
    c.call('POST', `${GROUP}${namespaced ? `/namespaces/${NS}` : ''}/${plural}`, { apiVersion: api, kind, metadata: { name, ...(namespaced ? { namespace: NS } : {}) }, spec });
  await post('datacenters', 'Datacenter', 'dc', { region: 'b' });
  for (let r = 1; r <= 4; r++) await post('racks', 'Rack', `r${r}`, { datacenter: 'dc' });
  await post('baremetalgroups', 'BaremetalGroup', 'g', { region: 'b' });
  for (let h = 1; h <= HOSTS; h++) {
    await post('baremetals', 'Baremetal', `h${h}`, { serialNumber: `SN-${h}`, rack: `r${((h - 1) % 4) + 1}`, group: 'g', capacity: { cpu: 64, memory: '256Gi', storage: '8Ti' } });
  }
  await post('tenants', 'Tenant', NS, { namespace: NS });
  await post('tenantquotas', 'TenantQuota', 'bench-g', { tenant: NS, group: 'g', limits: { cpu: HOSTS * 64 - 64, memory: `${(HOSTS - 1) * 256}Gi`, storage: '1000Ti' } });
  await post('virtualmachinespecifications', 'VirtualMachineSpecification', 'node', { cpu: 2, memory: '8Gi', storage: '40Gi' });
  await post('virtualmachineimages', 'VirtualMachineImage', 'img', { os: { family: 'ubuntu' }, source: { url: 'https://images.example/u.qcow2' } });
  await post('externalcontrollers', 'ExternalController', 'vm', { service: 'VirtualMachine', endpoint: simulator, allowInsecureHttp: true });
  await post('externalcontrollers', 'ExternalController', 'k8s', { service: 'K8sCluster', endpoint: simulator, allowInsecureHttp: true });
}

/** Hosts and quotas over their limits now. */
async function overLimits(c: Client): Promise<{ hosts: number; quotas: number }> {
  const hosts = (await c.call('GET', `${GROUP}/baremetals`)).items as any[];
  const quotas = (await c.call('GET', `${GROUP}/tenantquotas`)).items as any[];
  const over = (used: any, limit: any) =>
    (used?.cpu ?? 0) > (limit?.cpu ?? Infinity) || (used?.memory !== undefined && limit?.memory !== undefined && compare(parseQuantity(used.memory), parseQuantity(limit.memory)) > 0);
  return { hosts: hosts.filter((h) => over(h.status?.allocated, h.spec.capacity)).length, quotas: quotas.filter((q) => over(q.status?.used, q.status?.limits)).length };
}

export async function run(): Promise<Figures> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'virtflow-bench-clusters-'));
  const dataDir = path.join(dir, 'pg');
  let embedded: EmbeddedDatabase | undefined;
  let standalone: Standalone | undefined;
  let sim: SimulatorHandle | undefined;
  let controllers: RunningControllers | undefined;
  let pool: Pool | undefined;
  const out: Figures = { outcome: 'did not start', nodes: NODES };
  try {
    progress(name, `starting PostgreSQL in ${dir}`);
    embedded = await startEmbeddedPostgres(dataDir, { persistent: false });
    const dbUrl = await createDatabase(embedded.url, 'virtflow_clusters');
    standalone = await startStandalone({ home: path.join(dir, 'home'), port: 0, databaseUrl: dbUrl.toString() });
    sim = await startSimulator({
      port: 0,
      latencyMs: { create: 20, boot: 20, delete: 20, power: 20, update: 20 },
      clusterLatencyMs: { bootstrap: 200, join: 100, drain: 100, teardown: 100 },
      callback: { apiServer: standalone.url, caCert: standalone.caCert, token: standalone.statusToken },
      // A bench on loopback: plain http, no token (the ExternalControllers say so on purpose).
      allowUnauthenticated: true,
    });
    controllers = startControllers({ kubeConfig: loadKubeConfig(standalone.kubeconfig), registry: standalone.server.metrics.registry, clusterPollMs: 250 });
    controllers.done.catch(() => {});
    pool = new Pool(standalone.url, { connect: { ca: standalone.caCert }, connections: 8, pipelining: 1 });
    const c = new Client(pool, standalone.token);
    progress(name, `inventory: ${HOSTS} hosts of 64 cores on 4 racks; ${CLUSTERS} clusters of 3 + 2x${WORKERS} nodes = ${NODES} VMs`);
    await inventory(c, sim.url);

    let mostHosts = 0;
    let mostQuotas = 0;
    const clusters = Array.from({ length: CLUSTERS }, (_, i) => `c${String(i + 1).padStart(2, '0')}`);
    const list = async () => (await c.call('GET', `${GROUP}/namespaces/${NS}/k8sclusters`)).items as any[];
    const waitAll = async (what: string, done: (k: any) => boolean): Promise<number> => {
      const deadline = Date.now() + DEADLINE_MS;
      let lastReport = Date.now();
      for (;;) {
        const items = await list();
        const over = await overLimits(c);
        mostHosts = Math.max(mostHosts, over.hosts);
        mostQuotas = Math.max(mostQuotas, over.quotas);
        const n = items.filter(done).length;
        if (Date.now() - lastReport > 10_000) {
          lastReport = Date.now();
          const vms = (await c.call('GET', `${GROUP}/namespaces/${NS}/virtualmachines`)).items as any[];
          const count = (values: string[]) => Object.entries(values.reduce<Record<string, number>>((m, v) => ((m[v] = (m[v] ?? 0) + 1), m), {})).map(([k, v]) => `${k} ${v}`).join(', ');
          progress(name, `${what}: ${n}/${CLUSTERS}; clusters ${count(items.map((k) => k.status?.phase ?? 'none'))}; VMs ${count(vms.map((v) => v.status?.phase ?? 'none'))}`);
        }
        if (n >= CLUSTERS || Date.now() > deadline) {
          progress(name, `${what}: ${n}/${CLUSTERS}`);
          return n;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    const cpuNow = async () => ({ self: process.cpuUsage(), pg: await postgresCpuSeconds(dataDir) });
    const cpuSince = async (before: { self: NodeJS.CpuUsage; pg: number }) => {
      const d = process.cpuUsage(before.self);
      return { selfMs: (d.user + d.system) / 1000, pgMs: ((await postgresCpuSeconds(dataDir)) - before.pg) * 1000 };
    };

    progress(name, 'creating the clusters and their pools');
    const cpu0 = await cpuNow();
    const t0 = performance.now();
    for (const name of clusters) {
      await c.call('POST', `${GROUP}/namespaces/${NS}/k8sclusters`, {
        apiVersion: api,
        kind: 'K8sCluster',
        metadata: { name, namespace: NS },
        spec: { version: 'v1.30.2', image: 'img', controlPlane: { replicas: 3, specification: 'node', group: 'g' }, upgrade: { healthTimeout: '5m' } },
      });
      for (const p of ['a', 'b']) {
        await c.call('POST', `${GROUP}/namespaces/${NS}/k8snodepools`, {
          apiVersion: api,
          kind: 'K8sNodePool',
          metadata: { name: `${name}-${p}`, namespace: NS },
          spec: { cluster: name, replicas: WORKERS, specification: 'node' },
        });
      }
    }
    const active = await waitAll('Active', (k) => k.status?.phase === 'Active' && k.status?.nodes === `${2 * WORKERS}/${2 * WORKERS}` && k.status?.controlPlane?.nodes === '3/3');
    const tActive = performance.now();
    const buildCpu = await cpuSince(cpu0);
    Object.assign(out, {
      outcome: active === CLUSTERS ? 'built' : `gave up building after ${DEADLINE_MS / 1000} s`,
      clustersActive: active,
      timeToActiveS: round((tActive - t0) / 1000, 1),
      buildCpuMsPerNode: round(buildCpu.selfMs / NODES, 1),
      buildPostgresCpuMsPerNode: round(buildCpu.pgMs / NODES, 1),
    });
    out.hostsOverLimit = mostHosts;
    out.quotasOverLimit = mostQuotas;
    if (active < CLUSTERS) return out;

    progress(name, 'upgrading every cluster from v1.30.2 to v1.31.0');
    const cpu1 = await cpuNow();
    const t1 = performance.now();
    for (const name of clusters) await c.call('PATCH', `${GROUP}/namespaces/${NS}/k8sclusters/${name}`, { spec: { version: 'v1.31.0' } });
    const upgraded = await waitAll('upgraded', (k) => k.status?.upgrade?.state === 'Succeeded' && k.status?.upgrade?.to === 'v1.31.0' && k.status?.phase === 'Active');
    const upgradeCpu = await cpuSince(cpu1);
    const vms = (await c.call('GET', `${GROUP}/namespaces/${NS}/virtualmachines`)).items as any[];
    Object.assign(out, {
      outcome: upgraded === CLUSTERS ? 'built and upgraded' : `gave up upgrading after ${DEADLINE_MS / 1000} s`,
      clustersUpgraded: upgraded,
      timeToUpgradedS: round((performance.now() - t1) / 1000, 1),
      upgradeCpuMsPerNode: round(upgradeCpu.selfMs / NODES, 1),
      upgradePostgresCpuMsPerNode: round(upgradeCpu.pgMs / NODES, 1),
      vmsLeft: vms.length,
    });
    const over = await overLimits(c);
    out.hostsOverLimit = Math.max(mostHosts, over.hosts);
    out.quotasOverLimit = Math.max(mostQuotas, over.quotas);
    return out;
  } finally {
    await pool?.close().catch(() => {});
    await controllers?.stop().catch(() => {});
    await sim?.stop().catch(() => {});
    await standalone?.stop().catch(() => {});
    await embedded?.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

// The `floor` suite: the most VMs per second the API server allows the lifecycle, measured
// without any controller. The API server runs alone in its own process
// (api-server-process.ts) on an embedded PostgreSQL, with the same inventory as the
// `lifecycle` suite and two watches of the VMs open (the controllers' informer and the
// user's, as in that suite). This process then makes, for every VM, exactly the writes one
// VM's lifecycle makes on `virtflow up` (lifecycle-profile.txt counts them per VM):
//   to Running: POST the VM; PUT status (the placement); PATCH the finalizer in; PATCH
//     status twice (the external controller's two reports); PUT status (Running); two
//     Events;
//   to gone: DELETE; PATCH status (the external controller's delete report); one Event;
//     PATCH the finalizer out.
// The writes of one VM go one after another, 16 VMs at a time. Nothing else runs, so the
// figures are a ceiling for the lifecycle suite's: what the controllers, the simulator and
// the watches' consumers cost comes on top. The last figure is that ceiling as a rate: the
// machine's cores divided by the CPU the server and PostgreSQL spend per VM, as if every
// core did nothing else.
//
// Knobs (environment): BENCH_VMS (5000), BENCH_OUT (/tmp/virtflow-bench: a CPU profile of
// the server, floor.cpuprofile, and its summary in floor-profile.txt).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/store/embedded.js';
import { BenchChild } from './bench-child.js';
import { CLIENTS, GROUP, NS, VmWatch, concurrently, inventory, send, vmBody, vmName, type UpInfo } from './lifecycle-suite.js';
import { postgresCpuSeconds } from './postgres-cpu.js';
import { formatProfileSummary, summarizeProfileFile } from './profile-summary.js';
import { BENCH_OUT, envNumber, progress, round, type FigureInfo, type Figures } from './suite.js';
import { createDatabase } from '../support/create-database.js';

export const name = 'floor';
export const description = "the lifecycle's API writes alone, without controllers: the most VMs/s the API server allows";

const VMS = envNumber('BENCH_VMS', 5_000);
const DEADLINE_MS = 300_000;
const WRITES_TO_RUNNING = 8;
const WRITES_TO_GONE = 4;

export const figures: Record<string, FigureInfo> = {
  vms: { label: 'VMs', unit: 'VMs' },
  writesPerVm: { label: 'API writes per VM (as the lifecycle makes them)', unit: '' },
  runningPerSecond: { label: 'VMs/s: the writes to Running', unit: '/s' },
  gonePerSecond: { label: 'VMs/s: the writes to gone', unit: '/s' },
  endToEndPerSecond: { label: 'VMs/s: all the writes', unit: '/s' },
  writesPerSecond: { label: 'API writes/s', unit: '/s' },
  serverCpuMsPerVm: { label: 'CPU per VM: API server', unit: 'ms' },
  postgresCpuMsPerVm: { label: 'CPU per VM: PostgreSQL', unit: 'ms' },
  clientCpuMsPerVm: { label: 'CPU per VM: this load generator', unit: 'ms' },
  serverCpuMsPerWrite: { label: 'CPU per write: API server', unit: 'ms' },
  ceilingPerSecond: { label: "VMs/s this machine's cores allow for these writes alone", unit: '/s' },
};

const here = path.dirname(fileURLToPath(import.meta.url));
const MERGE = 'application/merge-patch+json';
const vmPath = (n: string) => `${GROUP}/namespaces/${NS}/virtualmachines/${n}`;
const stamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

interface Stored {
  metadata: { uid: string; resourceVersion: string; name: string; namespace: string };
  status?: Record<string, unknown>;
}

/** Sends one write; anything but a 2xx ends the run with the server's answer. */
async function write(pool: Pool, token: string, method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', urlPath: string, body?: unknown, contentType?: string): Promise<Stored> {
  const res = await send(pool, token, method, urlPath, body, contentType);
  if (res.status < 200 || res.status >= 300) throw new Error(`${method} ${urlPath} answered ${res.status}: ${res.text.slice(0, 300)}`);
  return JSON.parse(res.text) as Stored;
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string) {
  return { type, status, reason, message, lastTransitionTime: stamp() };
}

function event(vm: Stored, reason: string, message: string) {
  const now = stamp();
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { namespace: NS, name: `${vm.metadata.name}.${reason.toLowerCase()}-${vm.metadata.uid.slice(0, 8)}` },
    involvedObject: { apiVersion: 'virtflow.io/v1alpha1', kind: 'VirtualMachine', name: vm.metadata.name, namespace: NS, uid: vm.metadata.uid, resourceVersion: vm.metadata.resourceVersion },
    type: 'Normal',
    reason,
    message,
    count: 1,
    firstTimestamp: now,
    lastTimestamp: now,
    source: { component: 'virtflow-controller' },
    reportingComponent: 'virtflow-controller',
    reportingInstance: '',
  };
}

/** The writes of one VM from nothing to Running, in the lifecycle's order and shapes. */
async function toRunning(pool: Pool, token: string, n: string): Promise<void> {
  const events = `/api/v1/namespaces/${NS}/events`;
  let vm = await write(pool, token, 'POST', `${GROUP}/namespaces/${NS}/virtualmachines`, vmBody(n));
  const host = `bench-h${String(Number(n.slice(3)) % 10).padStart(3, '0')}`;
  vm.status = {
    externalController: 'simulator',
    phase: 'Provisioning',
    placement: { baremetal: host, rack: 'bench-r1', datacenter: 'bench-dc', region: 'tw', scheduledAt: stamp() },
    resources: { cpu: 1, memory: '1Gi', storage: '10Gi' },
    conditions: [
      condition('Scheduled', 'True', 'Scheduled', `Placed on ${host}: the fullest host with room (Binpack).`),
      condition('Provisioned', 'False', 'Provisioning', 'Waiting for the external controller.'),
      condition('Ready', 'False', 'Provisioning', 'The VM is being provisioned.'),
    ],
  };
  vm = await write(pool, token, 'PUT', `${vmPath(n)}/status`, vm);
  await write(pool, token, 'POST', events, event(vm, 'Scheduled', `Placed on ${host} (tw/bench-dc/bench-r1)`));
  await write(pool, token, 'PATCH', vmPath(n), { metadata: { finalizers: ['virtflow.io/external-machine'], resourceVersion: vm.metadata.resourceVersion } }, MERGE);
  const operation = { type: 'Create', id: `op-${vm.metadata.uid}`, startedAt: stamp() };
  await write(pool, token, 'PATCH', `${vmPath(n)}/status`, { status: { lastOperation: { ...operation, state: 'Running' } } }, MERGE);
  vm = await write(pool, token, 'PATCH', `${vmPath(n)}/status`, {
    status: {
      powerState: 'On',
      externalId: `sim-${vm.metadata.uid}`,
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      lastOperation: { ...operation, state: 'Succeeded', finishedAt: stamp(), message: 'created' },
    },
  }, MERGE);
  vm.status = {
    ...vm.status,
    phase: 'Running',
    conditions: [
      condition('Scheduled', 'True', 'Scheduled', `Placed on ${host}.`),
      condition('Provisioned', 'True', 'Provisioned', 'The external controller built the machine.'),
      condition('Ready', 'True', 'Running', 'The VM is running.'),
    ],
  };
  vm = await write(pool, token, 'PUT', `${vmPath(n)}/status`, vm);
  await write(pool, token, 'POST', events, event(vm, 'Running', 'The VM is running.'));
}

/** The writes of one VM from Running to gone. */
async function toGone(pool: Pool, token: string, n: string): Promise<void> {
  const vm = await write(pool, token, 'DELETE', vmPath(n));
  await write(pool, token, 'PATCH', `${vmPath(n)}/status`, {
    status: { powerState: null, externalId: null, addresses: null, lastOperation: { type: 'Delete', id: `op-d-${vm.metadata.uid}`, state: 'Succeeded', startedAt: stamp(), finishedAt: stamp() } },
  }, MERGE);
  await write(pool, token, 'POST', `/api/v1/namespaces/${NS}/events`, event(vm, 'Released', 'The external controller removed the machine. Released the reservation.'));
  await write(pool, token, 'PATCH', vmPath(n), { metadata: { finalizers: null } }, MERGE);
}

export async function run(): Promise<Figures> {
  await mkdir(BENCH_OUT, { recursive: true });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'virtflow-bench-floor-'));
  const dataDir = path.join(dir, 'pg');
  let embedded: EmbeddedDatabase | undefined;
  let server: BenchChild<UpInfo> | undefined;
  let pool: Pool | undefined;
  const watches: VmWatch[] = [];
  try {
    progress(name, `starting PostgreSQL in ${dir}`);
    embedded = await startEmbeddedPostgres(dataDir, { persistent: false });
    const dbUrl = await createDatabase(embedded.url, 'virtflow_floor');
    progress(name, 'starting the API server alone in its own process');
    server = await BenchChild.start<UpInfo>(path.join(here, 'api-server-process.ts'), { databaseUrl: dbUrl.toString(), home: path.join(dir, 'home') }, { label: 'the API server', stopGraceMs: 15_000 });
    const { token } = server.info;
    pool = new Pool(server.info.url, { connect: { ca: server.info.caCert }, connections: CLIENTS, pipelining: 1 });
    await inventory(pool, token, VMS);
    for (let i = 0; i < 2; i++) {
      const watch = new VmWatch(server.info);
      await watch.start();
      watches.push(watch);
    }
    const watch = watches[0]!;
    // Warm-up: one VM through all the writes, so the server's code is compiled.
    await toRunning(pool, token, 'warm-up');
    await toGone(pool, token, 'warm-up');

    const cpu0 = { server: await server.call<NodeJS.CpuUsage>('cpu'), pg: await postgresCpuSeconds(dataDir), client: process.cpuUsage() };
    const profileFile = path.join(BENCH_OUT, 'floor.cpuprofile');
    await server.call('profile-start');
    progress(name, `the writes to Running of ${VMS} VMs from ${CLIENTS} clients`);
    const t0 = performance.now();
    const deadline = t0 + DEADLINE_MS;
    const names = Array.from({ length: VMS }, (_, i) => vmName(i));
    await concurrently(VMS, CLIENTS, (i) => toRunning(pool!, token, names[i]!), deadline);
    const tRunning = performance.now();
    progress(name, `the writes to gone of ${VMS} VMs`);
    await concurrently(VMS, CLIENTS, (i) => toGone(pool!, token, names[i]!), deadline);
    const gone = await watch.until(() => names.every((n) => watch.goneAt.has(n)), deadline);
    const tGone = performance.now();
    if (!gone) throw new Error(`gave up: ${names.filter((n) => !watch.goneAt.has(n)).length} VMs not gone by the deadline`);

    const cpu1 = { server: await server.call<NodeJS.CpuUsage>('cpu'), pg: await postgresCpuSeconds(dataDir), client: process.cpuUsage(cpu0.client) };
    await server.call('profile-stop', { file: profileFile });
    const cpuMs = {
      server: (cpu1.server.user + cpu1.server.system - cpu0.server.user - cpu0.server.system) / 1000,
      pg: (cpu1.pg - cpu0.pg) * 1000,
      client: (cpu1.client.user + cpu1.client.system) / 1000,
    };
    const writes = VMS * (WRITES_TO_RUNNING + WRITES_TO_GONE);
    const headline = `floor bench, ${VMS} VMs: ${writes} writes in ${round((tGone - t0) / 1000, 1)} s`;
    progress(name, headline);
    await writeFile(path.join(BENCH_OUT, 'floor-profile.txt'), [headline, '', formatProfileSummary(await summarizeProfileFile(profileFile, 30))].join('\n'));
    return {
      vms: VMS,
      writesPerVm: WRITES_TO_RUNNING + WRITES_TO_GONE,
      runningPerSecond: round(VMS / ((tRunning - t0) / 1000), 1),
      gonePerSecond: round(VMS / ((tGone - tRunning) / 1000), 1),
      endToEndPerSecond: round(VMS / ((tGone - t0) / 1000), 1),
      writesPerSecond: Math.round(writes / ((tGone - t0) / 1000)),
      serverCpuMsPerVm: round(cpuMs.server / VMS, 2),
      postgresCpuMsPerVm: round(cpuMs.pg / VMS, 2),
      clientCpuMsPerVm: round(cpuMs.client / VMS, 2),
      serverCpuMsPerWrite: round(cpuMs.server / writes, 3),
      // Every core busy with nothing but the server and PostgreSQL doing these writes.
      ceilingPerSecond: Math.round((os.availableParallelism() * 1000) / ((cpuMs.server + cpuMs.pg) / VMS)),
    };
  } finally {
    for (const w of watches) await w.stop();
    await pool?.close().catch(() => {});
    await server?.stop();
    await embedded?.stop();
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

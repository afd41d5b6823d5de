// `virtflow up` killed (SIGKILL) while VMs are being provisioned, and again while VMs are
// being deleted, each time started again on the same home: the scenario and its figures,
// shared by the end-to-end test (at CI size) and `npm run bench -- faults` (at scale).
//
// The external controller is a simulator in the calling process, registered through the API,
// so it outlives the killed process and counts every machine it built. What must hold:
// every VM converges (Running, or gone when deleted), no uid is built twice, the hosts' and
// quotas' status equals the sum over the VMs placed on them, and nothing is left behind (no
// machine without its VM, no VM without its machine).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startSimulator, type FailureMode, type Latency, type Misdelivery, type SimulatorHandle } from '../../src/providers/simulator/index.js';
import { apiCaller } from '../support/server.js';
import { startVirtflow, type VirtflowProcess } from '../support/kubectl.js';
import {
  API,
  baremetal,
  create,
  createAll,
  datacenter,
  expectedAccounting,
  flavor,
  get,
  group,
  image,
  inParallel,
  list,
  namespace,
  pathOf,
  quota,
  rack,
  readWorld,
  res,
  tenant,
  vm,
  waitUntil,
  type Api,
  type World,
} from '../integration/placement-support.js';

export interface CrashScenarioOptions {
  databaseUrl: string;
  home: string;
  /** VMs created; `virtflow up` is killed once a quarter of them are built. */
  vms: number;
  /** Of those, VMs deleted; it is killed again once a quarter of them are gone. */
  deletes: number;
  /** false: the same VMs without killing anything, e.g. to measure an unreliable simulator alone. */
  kill?: boolean;
  /** The external controller's behaviour (default: 300 ms per operation, no failures). */
  simulator?: { latencyMs?: Latency; failureRate?: number; failureMode?: FailureMode; misdelivery?: Misdelivery };
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface CrashFigures {
  /** At the first kill: machines built, of `vms`. */
  builtAtKill: number;
  /** From the restart (process started; without kills, the first create) until every VM is Running. */
  provisionConvergeS: number;
  /** From the restarted process's "listening" line until it renewed the Lease. */
  leaseTakeoverS: number;
  /** At the second kill: VMs gone, of `deletes`. */
  goneAtKill: number;
  /** From the restart (without kills, the first delete) until every deleted VM is gone. */
  deleteConvergeS: number;
  deleteLeaseTakeoverS: number;
  /** uids the simulator built more than one machine for. */
  duplicates: number;
  /** Machines without a VM plus VMs without a machine. */
  leftBehind: number;
  /** Fields of the hosts' and quotas' status that differ from the sums over their placed VMs. */
  reservationMismatches: number;
  /** Whether the Lease names the same holder after each restart. */
  sameHolder: boolean;
}

const NS = 'crash';
const LEASE = { name: 'virtflow-controller', namespace: 'virtflow-system' };
const HOST_CPU = 32;
/** Between checks that list every VM: often enough to time convergence, rarely enough not to load it. */
const POLL_MS = 250;

async function lease(api: Api): Promise<{ holder: string; renewed: number }> {
  const l = await get(api, 'leases', LEASE.name, LEASE.namespace);
  return { holder: l.spec?.holderIdentity ?? '', renewed: Date.parse(l.spec?.renewTime ?? '') || 0 };
}

/** Seconds from `since` until the Lease was renewed after `after` (a time before the restart). */
async function leaseRenewedAfter(api: Api, after: number, since: number, timeoutMs: number): Promise<number> {
  await waitUntil(async () => (await lease(api).catch(() => ({ renewed: 0 }))).renewed > after, 'the restarted controllers to renew the Lease', timeoutMs);
  return (Date.now() - since) / 1000;
}

export async function runCrashScenario(opts: CrashScenarioOptions): Promise<CrashFigures> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const log = opts.log ?? (() => {});
  const { home, databaseUrl } = opts;
  const start = (port?: number) => startVirtflow({ databaseUrl, home, port, simulatorArgs: ['--no-simulator'] });
  let up: VirtflowProcess | undefined = await start();
  const port = up.port;
  const token = (await readFile(path.join(home, 'admin-token'), 'utf8')).trim();
  const statusToken = (await readFile(path.join(home, 'status-writer-token'), 'utf8')).trim();
  const caCert = await readFile(path.join(home, 'pki', 'ca.crt'), 'utf8');
  const { call, close } = apiCaller(up.url, token, caCert);
  const api: Api = { call };
  let sim: SimulatorHandle | undefined;
  try {
    sim = await startSimulator({
      port: 0,
      latencyMs: opts.simulator?.latencyMs ?? { create: 300, boot: 300, delete: 300 },
      failureRate: opts.simulator?.failureRate,
      failureMode: opts.simulator?.failureMode,
      callback: { apiServer: up.url, caCert, token: statusToken },
      callbackBackoffMs: { base: 50, max: 1_000 },
      // On loopback, plain http and no token (the ExternalController says so on purpose).
      allowUnauthenticated: true,
    });
    const hosts = Math.ceil(opts.vms / (HOST_CPU / 2)) + 1;
    await createAll(api, [
      datacenter('dc-1', 'tw'),
      rack('rack-1', 'dc-1'),
      group('general'),
      ...Array.from({ length: hosts }, (_, i) => baremetal(`bm-${i}`, 'rack-1', 'general', { cpu: HOST_CPU, memory: `${HOST_CPU * 4}Gi`, storage: '4Ti' })),
      flavor('small', 1, '2Gi', '10Gi'),
      image('ubuntu'),
      tenant(NS),
      namespace(NS),
      quota(`${NS}-general`, NS, 'general', { cpu: opts.vms * 2 }),
      { apiVersion: API, kind: 'ExternalController', metadata: { name: 'crash-simulator' }, spec: { service: 'VirtualMachine', regions: [], endpoint: sim.url, allowInsecureHttp: true } },
    ]);
    if (opts.simulator?.misdelivery) sim.reporter.misdeliver(opts.simulator.misdelivery);
    await waitUntil(async () => (await list(api, 'baremetals')).every((h) => h.status?.phase === 'Ready'), 'the hosts to be Ready', timeoutMs);
    const kill = opts.kill ?? true;
    const { holder } = await lease(api);
    let sameHolder = true;
    /** Kills and starts again (when killing): the seconds until the new process renewed the Lease. */
    const crash = async (): Promise<number> => {
      if (!kill) return 0;
      const killedAt = Date.now();
      await up!.kill();
      up = undefined;
      up = await start(port);
      const takeoverS = await leaseRenewedAfter(api, killedAt, Date.now(), timeoutMs);
      sameHolder &&= (await lease(api)).holder === holder;
      return takeoverS;
    };

    // -- provisioning, killed a quarter of the way ----------------------------------------
    const names = Array.from({ length: opts.vms }, (_, i) => `vm-${String(i).padStart(4, '0')}`);
    log(`creating ${opts.vms} VMs`);
    const newVm = (n: string) => vm(NS, n, { specification: 'small', group: 'general' });
    // A create the killed server never answered may or may not have landed: asked again after.
    const unanswered: string[] = [];
    const creating = inParallel(names, 16, (n) => create(api, newVm(n)).catch(() => unanswered.push(n)));
    const createdAt = Date.now();
    const built = () => sim!.stats.totals().machinesCreated;
    await waitUntil(() => built() >= opts.vms / 4, 'a quarter of the machines to be built', timeoutMs);
    const builtAtKill = built();
    const restartedAt = kill ? Date.now() : createdAt;
    const leaseTakeoverS = await crash();
    if (kill) log(`killed virtflow up with ${builtAtKill} of ${opts.vms} machines built, and started it again`);
    await creating;
    for (const n of unanswered) {
      const got = await api.call('GET', pathOf('virtualmachines', NS, n));
      if (got.status === 404) await create(api, newVm(n));
    }
    await waitUntil(async () => (await list(api, 'virtualmachines', NS)).filter((v) => v.status?.phase === 'Running').length === opts.vms, `every VM Running after the restart`, timeoutMs, POLL_MS);
    const provisionConvergeS = (Date.now() - restartedAt) / 1000;
    log(`every VM Running ${provisionConvergeS.toFixed(1)} s after ${kill ? 'the restart' : 'the first create'}`);

    // -- deletion, killed a quarter of the way -------------------------------------------
    const doomed = names.slice(0, opts.deletes);
    const gone = async () => {
      const left = new Set((await list(api, 'virtualmachines', NS)).map((v) => v.metadata.name as string));
      return doomed.filter((n) => !left.has(n)).length;
    };
    log(`deleting ${opts.deletes} VMs`);
    const deletedAt = Date.now();
    await inParallel(doomed, 16, async (n) => {
      const r = await api.call('DELETE', pathOf('virtualmachines', NS, n));
      if (r.status !== 200 && r.status !== 202) throw new Error(`cannot delete ${n}: ${r.status} ${r.text}`);
    });
    // Watched at the simulator, in this process: polling the API for the VMs that are gone
    // could see them all gone at once on a busy machine, and then nothing would be killed mid-way.
    const machinesBefore = sim.simulation.machines.size;
    const machinesDeleted = () => machinesBefore - sim!.simulation.machines.size;
    await waitUntil(() => machinesDeleted() >= opts.deletes / 4, 'a quarter of the machines to be deleted', timeoutMs);
    const goneAtKill = await gone();
    const restartedAgainAt = kill ? Date.now() : deletedAt;
    const deleteLeaseTakeoverS = await crash();
    if (kill) log(`killed virtflow up with ${goneAtKill} of ${opts.deletes} deleted VMs gone, and started it again`);
    await waitUntil(async () => (await gone()) === opts.deletes, 'every deleted VM to be gone after the restart', timeoutMs, POLL_MS);
    const deleteConvergeS = (Date.now() - restartedAgainAt) / 1000;
    log(`every deleted VM gone ${deleteConvergeS.toFixed(1)} s after ${kill ? 'the restart' : 'the first delete'}`);

    // -- what is left ---------------------------------------------------------------------
    if (opts.simulator?.misdelivery) {
      // Reports held back arrive after the newer ones; the VMs must be right after them too.
      await waitUntil(() => sim!.reporter.replaysPending === 0, 'the held-back status reports to be sent', timeoutMs);
      const running = names.length - opts.deletes;
      await waitUntil(async () => (await list(api, 'virtualmachines', NS)).filter((v) => v.status?.phase === 'Running' && v.status?.lastOperation?.state === 'Succeeded').length === running, 'the VMs left to be Running after the stale reports', timeoutMs, POLL_MS);
    }
    let world: World = await readWorld(api);
    // The accounting follows the VMs' writes within its status interval.
    await waitUntil(async () => reservationMismatches((world = await readWorld(api))) === 0, 'hosts and quotas to account for the VMs', 30_000, POLL_MS).catch(() => {});
    const uids = new Set(world.vms.map((v) => v.metadata.uid as string));
    const machines = [...sim.simulation.machines.keys()];
    const leftBehind = machines.filter((uid) => !uids.has(uid)).length + [...uids].filter((uid) => !sim!.simulation.machines.has(uid)).length;
    const duplicates = sim.stats.uids().filter((uid) => sim!.stats.uid(uid).machinesCreated > 1).length;
    return {
      builtAtKill,
      provisionConvergeS,
      leaseTakeoverS,
      goneAtKill,
      deleteConvergeS,
      deleteLeaseTakeoverS,
      duplicates,
      leftBehind,
      reservationMismatches: reservationMismatches(world),
      sameHolder,
    };
  } finally {
    await up?.stop();
    await sim?.stop();
    await close();
  }
}

/**
 * Fields of the hosts' and quotas' status that differ from the sums over the VMs placed on
 * them (allocated / used cpu, memory and storage, and the count of VMs): 0 when they agree.
 */
export function reservationMismatches(world: World): number {
  const want = expectedAccounting(world);
  let mismatches = 0;
  const compare = (got: Record<string, unknown> | undefined, sum: { cpu: number; memory: number; storage: number } | undefined, gotCount: unknown, count: number) => {
    const have = res(got);
    for (const r of ['cpu', 'memory', 'storage'] as const) if (have[r] !== (sum?.[r] ?? 0)) mismatches++;
    if (Number(gotCount ?? 0) !== count) mismatches++;
  };
  for (const h of world.hosts) {
    const w = want.hosts.get(h.metadata.name);
    compare(h.status?.allocated, w?.allocated, h.status?.virtualMachines, w?.count ?? 0);
  }
  for (const q of world.quotas) {
    const key = `${q.spec.tenant}/${q.spec.group}`;
    compare(q.status?.used, want.used.get(key), q.status?.virtualMachines, want.usedCount.get(key) ?? 0);
  }
  return mismatches;
}

// Placement benchmark: 1,000 hosts, 50 tenants with quotas, 10,000 VM requests placed in
// one batch with Binpack. Reports decisions per second and how close Binpack comes to the
// fewest hosts that could possibly hold what it placed. Prints nothing: the runner does.

import { performance } from 'node:perf_hooks';
import {
  allocatable,
  lowerBoundHosts,
  scheduleMany,
  type GroupInfo,
  type PlacementRequest,
  type Resources,
} from '../../src/scheduler/index.js';
import { group, host, quota, snapshot, vm } from '../../src/scheduler/testing/builders.js';
import { seededRandom } from '../../src/scheduler/testing/prng.js';

export interface SchedulerBenchOptions {
  hosts?: number;
  tenants?: number;
  requests?: number;
  seed?: number;
}

export interface SchedulerBenchResult {
  decisionsPerSecond: number;
  /** Per second of this process's CPU time: comparable between runs on a busy machine. */
  decisionsPerCpuSecond: number;
  binpackHostsUsed: number;
  lowerBound: number;
  placed: number;
  unschedulable: number;
  elapsedMs: number;
}

const Gi = 2 ** 30;

// Flavors with their share of requests; the mix keeps cpu and memory both binding.
const flavors: { weight: number; resources: Resources }[] = [
  { weight: 40, resources: { cpu: 2, memory: 4 * Gi, storage: 50 * Gi, gpu: 0 } },
  { weight: 30, resources: { cpu: 4, memory: 16 * Gi, storage: 100 * Gi, gpu: 0 } },
  { weight: 20, resources: { cpu: 8, memory: 32 * Gi, storage: 200 * Gi, gpu: 0 } },
  { weight: 10, resources: { cpu: 16, memory: 64 * Gi, storage: 500 * Gi, gpu: 0 } },
];

export function benchScheduler(options: SchedulerBenchOptions = {}): SchedulerBenchResult {
  const hostCount = options.hosts ?? 1000;
  const tenantCount = options.tenants ?? 50;
  const requestCount = options.requests ?? 10_000;
  const rng = seededRandom(options.seed ?? 42);

  const general: GroupInfo = group('general').overcommit({ cpu: 2 }).strategy('Binpack').build();
  const snap = snapshot().groups(general);
  const racksPerDc = 12;
  for (let i = 0; i < hostCount; i++) {
    const rack = Math.floor(i / 20);
    const dc = Math.floor(rack / racksPerDc);
    snap.hosts(
      host(`bm-${String(i).padStart(4, '0')}`)
        .cpu(64)
        .memory('512Gi')
        .storage('8Ti')
        .region(dc % 2 === 0 ? 'north' : 'south')
        .datacenter(`dc-${dc}`)
        .rack(`rack-${rack}`)
        .phase(i % 50 === 49 ? 'Maintenance' : 'Ready'),
    );
  }
  const tenants = Array.from({ length: tenantCount }, (_, i) => `tenant-${i}`);
  for (const t of tenants) {
    // Generous but finite, so quota is checked on every decision and binds for a few tenants.
    snap.quotas(quota(t, 'general').limits({ cpu: rng.int(800, 3000), memory: `${rng.int(3, 12)}Ti`, storage: '200Ti' }));
  }

  const totalWeight = flavors.reduce((s, f) => s + f.weight, 0);
  const requests: PlacementRequest[] = Array.from({ length: requestCount }, (_, i) => {
    let roll = rng.next() * totalWeight;
    const flavor = flavors.find((f) => (roll -= f.weight) < 0) ?? flavors[0]!;
    const r = vm(`ns/vm-${i}`)
      .tenant(rng.pick(tenants))
      .cpu(flavor.resources.cpu)
      .memory(flavor.resources.memory)
      .storage(flavor.resources.storage);
    // A tenth belong to three-replica apps spread across racks.
    if (i % 10 === 0) r.spread('Rack', `app-${Math.floor(i / 30)}`);
    return r.build();
  });

  const start = performance.now();
  const cpuBefore = process.cpuUsage();
  const results = scheduleMany(snap.build(), requests);
  const cpu = process.cpuUsage(cpuBefore);
  const elapsedMs = performance.now() - start;
  const cpuMs = (cpu.user + cpu.system) / 1000;

  const usedHosts = new Set<string>();
  const placedDemands: Resources[] = [];
  results.forEach((result, i) => {
    if (!result.ok) return;
    usedHosts.add(result.host);
    placedDemands.push(requests[i]!.resources);
  });
  const perHost = allocatable({ cpu: 64, memory: 512 * Gi, storage: 8 * 2 ** 40, gpu: 0 }, general);
  return {
    decisionsPerSecond: Math.round((requestCount / elapsedMs) * 1000),
    decisionsPerCpuSecond: Math.round((requestCount / cpuMs) * 1000),
    binpackHostsUsed: usedHosts.size,
    lowerBound: lowerBoundHosts(placedDemands, perHost),
    placed: placedDemands.length,
    unschedulable: requestCount - placedDemands.length,
    elapsedMs: Math.round(elapsedMs),
  };
}

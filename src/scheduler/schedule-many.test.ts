import { describe, expect, it } from 'vitest';
import type { Plugin } from './framework.js';
import { defaultPlugins } from './plugins/index.js';
import { allocatable, addInto } from './resources.js';
import { scheduleMany, type ScheduleResult } from './schedule.js';
import { group, host, quota, snapshot, vm } from './testing/builders.js';
import { seededRandom, type Random } from './testing/prng.js';
import { resourceNames, type HostPhase, type PlacementRequest, type Resources, type Snapshot } from './types.js';
import { WorkingSnapshot } from './working-snapshot.js';

const placements = (results: ScheduleResult[]) => results.map((r) => (r.ok ? r.host : r.diagnosis.message));

describe('scheduleMany', () => {
  it('A batch fills the fullest host first and moves on only when it is full.', () => {
    const snap = snapshot()
      .hosts(host('bm-1').cpu(4), host('bm-2').cpu(4))
      .groups(group('general'))
      .quotas(quota('acme', 'general'))
      .build();
    const reqs = [1, 2, 3, 4, 5].map((i) => vm(`acme/vm-${i}`).cpu(2).memory(0).storage(0).build());
    expect(placements(scheduleMany(snap, reqs))).toEqual([
      'bm-1',
      'bm-1',
      'bm-2',
      'bm-2',
      '0/2 hosts fit: 2 Insufficient cpu',
    ]);
  });

  it('A batch stops placing a tenant once its quota is used up, and goes on placing others.', () => {
    const snap = snapshot()
      .hosts(host('bm-1'))
      .quotas(quota('acme', 'general').limits({ cpu: 4 }), quota('globex', 'general'))
      .build();
    const reqs = [
      vm('acme/a').cpu(2).build(),
      vm('acme/b').cpu(2).build(),
      vm('acme/c').cpu(2).build(),
      vm('globex/d').tenant('globex').cpu(2).build(),
    ];
    expect(placements(scheduleMany(snap, reqs))).toEqual(['bm-1', 'bm-1', '0/1 hosts fit: 1 over tenant quota', 'bm-1']);
  });

  it('VMs of one spread key in one batch land in different racks.', () => {
    const snap = snapshot()
      .hosts(host('bm-1').rack('r-1'), host('bm-2').rack('r-1'), host('bm-3').rack('r-2'))
      .quotas(quota('acme', 'general'))
      .build();
    const reqs = ['a', 'b', 'c'].map((n) => vm(`acme/${n}`).spread('Rack', 'db').build());
    expect(placements(scheduleMany(snap, reqs))).toEqual(['bm-1', 'bm-3', '0/3 hosts fit: 3 host(s) would break spread']);
  });

  it('VMs of one spread key across hosts in one batch land on different hosts, even in one rack.', () => {
    const snap = snapshot()
      .hosts(host('bm-1').rack('r-1'), host('bm-2').rack('r-1'))
      .quotas(quota('acme', 'general'))
      .build();
    const reqs = ['a', 'b', 'c'].map((n) => vm(`acme/${n}`).spread('Host', 'db').build());
    expect(placements(scheduleMany(snap, reqs))).toEqual(['bm-1', 'bm-2', '0/2 hosts fit: 2 host(s) would break spread']);
  });

  it('VMs of one spread key across datacenters in one batch land in different datacenters.', () => {
    const snap = snapshot()
      .hosts(host('bm-1').datacenter('dc-1').rack('r-1'), host('bm-2').datacenter('dc-1').rack('r-2'), host('bm-3').datacenter('dc-2').rack('r-3'))
      .quotas(quota('acme', 'general'))
      .build();
    const reqs = ['a', 'b', 'c'].map((n) => vm(`acme/${n}`).spread('Datacenter', 'db').build());
    expect(placements(scheduleMany(snap, reqs))).toEqual(['bm-1', 'bm-3', '0/3 hosts fit: 3 host(s) would break spread']);
  });

  it('A batch under Spread takes turns between equally empty hosts.', () => {
    const snap = snapshot()
      .hosts(host('bm-1').cpu(8), host('bm-2').cpu(8))
      .groups(group('general').strategy('Spread'))
      .quotas(quota('acme', 'general'))
      .build();
    const reqs = [1, 2, 3, 4].map((i) => vm(`acme/vm-${i}`).cpu(2).memory(0).storage(0).build());
    expect(placements(scheduleMany(snap, reqs))).toEqual(['bm-1', 'bm-2', 'bm-1', 'bm-2']);
  });

  it('A plain snapshot is left alone, while a working snapshot passed in carries the batch.', () => {
    const snap = snapshot().hosts(host('bm-1')).quotas(quota('acme', 'general')).build();
    const before = structuredClone(snap);
    scheduleMany(snap, [vm('acme/a').cpu(8).build()]);
    expect(snap).toEqual(before);

    const working = new WorkingSnapshot(snap);
    scheduleMany(working, [vm('acme/a').cpu(8).build()]);
    expect(working.host('bm-1')?.allocated.cpu).toBe(8);
  });
});

// ---- Property: whatever the inventory and the requests, a batch never over-commits. ----

function randomSnapshot(rng: Random): Snapshot {
  const phases: HostPhase[] = ['Ready', 'Ready', 'Ready', 'Ready', 'Maintenance', 'Offline', 'Error'];
  const groups = ['general', 'dense'];
  const tenants = ['acme', 'globex', 'initech', 'umbrella'];
  const b = snapshot().groups(
    group('general').strategy(rng.pick(['Binpack', 'Spread'] as const)),
    group('dense').overcommit({ cpu: 4, memory: 1.5, storage: 2 }).strategy(rng.pick(['Binpack', 'Spread'] as const)),
  );
  const hostCount = rng.int(1, 40);
  for (let i = 0; i < hostCount; i++) {
    const cpu = rng.pick([16, 32, 64]);
    const memoryGi = rng.pick([64, 128, 256]);
    const storageGi = rng.pick([1024, 2048]);
    const gpus = rng.pick([0, 0, 0, 2, 4]);
    const h = host(`bm-${String(i).padStart(3, '0')}`)
      .group(rng.pick(groups))
      .phase(rng.pick(phases))
      .region(rng.pick(['north', 'south']))
      .datacenter(`dc-${rng.int(1, 3)}`)
      .rack(`r-${rng.int(1, 8)}`)
      .cpu(cpu)
      .memory(`${memoryGi}Gi`)
      .storage(`${storageGi}Gi`)
      .gpu(gpus)
      // Start within raw capacity, so within allocatable whatever the overcommit.
      .allocated({ cpu: rng.int(0, cpu), memory: `${rng.int(0, memoryGi)}Gi`, storage: `${rng.int(0, storageGi)}Gi`, gpu: rng.int(0, gpus) });
    if (rng.next() < 0.2) h.allowTenants(rng.pick(tenants));
    b.hosts(h);
  }
  for (const t of tenants) {
    for (const g of groups) {
      if (rng.next() < 0.15) continue; // some tenants have no quota in some groups
      const limitCpu = rng.int(8, 200);
      const limitMem = rng.int(32, 800);
      b.quotas(
        quota(t, g)
          .limits(rng.next() < 0.3 ? { cpu: limitCpu } : { cpu: limitCpu, memory: `${limitMem}Gi`, storage: '20Ti' })
          .used({ cpu: rng.int(0, limitCpu), memory: `${rng.int(0, limitMem)}Gi` }),
      );
    }
  }
  return b.build();
}

function randomRequests(rng: Random, n: number): PlacementRequest[] {
  const tenants = ['acme', 'globex', 'initech', 'umbrella'];
  return Array.from({ length: n }, (_, i) => {
    const r = vm(`ns/vm-${i}`)
      .tenant(rng.pick(tenants))
      .group(rng.pick(['general', 'dense']))
      .cpu(rng.pick([1, 2, 4, 8, 16]))
      .memory(`${rng.pick([1, 4, 16, 64])}Gi`)
      .storage(`${rng.pick([20, 100, 500])}Gi`)
      .gpu(rng.next() < 0.1 ? rng.int(1, 2) : 0);
    if (rng.next() < 0.2) r.spread(rng.pick(['Host', 'Rack', 'Datacenter'] as const), `app-${rng.int(1, 5)}`);
    if (rng.next() < 0.1) r.regions(rng.pick(['north', 'south']));
    if (rng.next() < 0.05) r.pin(`bm-${String(rng.int(0, 40)).padStart(3, '0')}`);
    if (rng.next() < 0.1) r.strategy(rng.pick(['Binpack', 'Spread'] as const));
    return r.build();
  });
}

/** Re-derives every total from the original snapshot and the decisions, not from the scheduler's own accounting. */
function violations(snap: Snapshot, reqs: PlacementRequest[], results: ScheduleResult[]): string[] {
  const found: string[] = [];
  const allocated = new Map(snap.hosts.map((h) => [h.name, { ...h.allocated }]));
  const used = new Map(snap.quotas.map((q) => [`${q.tenant}/${q.group}`, { ...q.used }]));
  // Per spread key and domain, the places its members took.
  const spreadPlaces = new Map<string, Set<string>>();
  const placeIn = (domain: string, h: { name: string; rack: string; datacenter: string }) => (domain === 'Host' ? h.name : domain === 'Rack' ? h.rack : h.datacenter);
  results.forEach((result, i) => {
    if (!result.ok) return;
    const req = reqs[i]!;
    const h = snap.hosts.find((x) => x.name === result.host)!;
    if (h.phase !== 'Ready') found.push(`${req.vm} on ${h.name} which is ${h.phase}`);
    if (req.group !== undefined && h.group !== req.group) found.push(`${req.vm} outside its group`);
    if (req.pinnedHost !== undefined && h.name !== req.pinnedHost) found.push(`${req.vm} off its pinned host`);
    if (h.allowedTenants?.length && !h.allowedTenants.includes(req.tenant)) found.push(`${req.vm} on a rack closed to it`);
    if (req.regions?.length && !req.regions.includes(h.region)) found.push(`${req.vm} outside its regions`);
    if (req.spreadKey !== undefined && req.spreadAcross !== undefined) {
      if (spreadPlaces.get(`${req.spreadKey}/${req.spreadAcross}`)?.has(placeIn(req.spreadAcross, h))) found.push(`${req.vm} breaks spread ${req.spreadKey}`);
    }
    if (req.spreadKey !== undefined) {
      for (const domain of ['Host', 'Rack', 'Datacenter']) {
        const k = `${req.spreadKey}/${domain}`;
        if (!spreadPlaces.has(k)) spreadPlaces.set(k, new Set());
        spreadPlaces.get(k)!.add(placeIn(domain, h));
      }
    }
    addInto(allocated.get(h.name)!, req.resources);
    const q = used.get(`${req.tenant}/${h.group}`);
    if (!q) found.push(`${req.vm} placed where its tenant has no quota`);
    else addInto(q, req.resources);
  });
  for (const h of snap.hosts) {
    const alloc = allocatable(h.capacity, snap.groups.find((g) => g.name === h.group));
    const got: Resources = allocated.get(h.name)!;
    for (const r of resourceNames) if (got[r] > alloc[r]) found.push(`${h.name} over allocatable ${r}`);
  }
  for (const q of snap.quotas) {
    const got = used.get(`${q.tenant}/${q.group}`)!;
    for (const r of resourceNames) {
      const limit = q.limits[r];
      if (limit !== undefined && got[r] > limit) found.push(`${q.tenant}/${q.group} over quota ${r}`);
    }
  }
  return found;
}

describe('scheduleMany property', () => {
  const seeds = Array.from({ length: 40 }, (_, i) => 1000 + i);
  it.each(seeds)(
    'With seed %i, no host ends over allocatable, no tenant over quota, and every placement passes the hard constraints.',
    (seed) => {
      const rng = seededRandom(seed);
      const snap = randomSnapshot(rng);
      const reqs = randomRequests(rng, rng.int(50, 400));
      const results = scheduleMany(snap, reqs);
      expect(results).toHaveLength(reqs.length);
      expect(violations(snap, reqs, results)).toEqual([]);
    },
  );

  it('Across the seeds, batches both place VMs and run out of room, so the property is exercised.', () => {
    let placed = 0;
    let refused = 0;
    for (const seed of seeds) {
      const rng = seededRandom(seed);
      const snap = randomSnapshot(rng);
      for (const r of scheduleMany(snap, randomRequests(rng, rng.int(50, 400)))) r.ok ? placed++ : refused++;
    }
    expect(placed).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(500);
  });

  it('The checker itself catches a batch that over-commits a host.', () => {
    const snap = snapshot().hosts(host('bm-1').cpu(4)).quotas(quota('acme', 'general').limits({ cpu: 2 })).build();
    const reqs = [vm('acme/a').cpu(3).build(), vm('acme/b').cpu(3).build()];
    const forged: ScheduleResult[] = reqs.map(() => ({ ok: true, host: 'bm-1', score: 0, explanation: {} as never }));
    expect(violations(snap, reqs, forged)).toEqual(['bm-1 over allocatable cpu', 'acme/general over quota cpu']);
  });
});

// ---- Property: the vector forms of the default plugins decide exactly as the per-host forms. ----

describe('vector forms', () => {
  // The same plugins with filterAll/scoreAll stripped: schedule() then calls filter() and
  // score() host by host, which the plugins' own unit tests pin down.
  const perHost: Plugin[] = defaultPlugins.map(({ name, filter, score }) => ({ name, filter, score }));
  const describeResult = (r: ScheduleResult) =>
    r.ok ? `${r.host} ${r.score} ${r.explanation.feasibleHosts} ${r.explanation.message}` : `${r.diagnosis.code} ${r.diagnosis.message}`;

  it.each(Array.from({ length: 30 }, (_, i) => 2000 + i))(
    'With seed %i, a batch gives the same hosts, scores and diagnoses through filterAll/scoreAll as through filter/score.',
    (seed) => {
      const rng = seededRandom(seed);
      const snap = randomSnapshot(rng);
      const reqs = randomRequests(rng, rng.int(50, 400));
      const vectored = scheduleMany(snap, reqs).map(describeResult);
      expect(scheduleMany(snap, reqs, perHost).map(describeResult)).toEqual(vectored);
    },
  );

  it('Every default plugin has a vector form, so the property above compares both paths for each.', () => {
    expect(defaultPlugins.filter((p) => (p.filter && !p.filterAll) || (p.score && !p.scoreAll)).map((p) => p.name)).toEqual([]);
  });
});

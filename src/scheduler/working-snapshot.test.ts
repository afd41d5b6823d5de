import { describe, expect, it } from 'vitest';
import { group, host, quota, snapshot, vm } from './testing/builders.js';
import { schedule } from './schedule.js';
import { WorkingSnapshot, assume } from './working-snapshot.js';

const base = () =>
  snapshot()
    .hosts(host('bm-1').rack('r-1').datacenter('dc-a').allocated({ cpu: 4 }), host('bm-2').group('gpu'))
    .quotas(quota('acme', 'general').limits({ cpu: 100 }).used({ cpu: 4 }))
    .build();

describe('WorkingSnapshot.assume', () => {
  it('An assumed VM adds to its host allocation and leaves other hosts alone.', () => {
    const w = new WorkingSnapshot(base()).assume(vm('acme/a').cpu(2).memory(10).storage(20).gpu(0).build(), 'bm-1');
    expect(w.host('bm-1')?.allocated).toEqual({ cpu: 6, memory: 10, storage: 20, gpu: 0 });
    expect(w.host('bm-2')?.allocated).toEqual({ cpu: 0, memory: 0, storage: 0, gpu: 0 });
  });

  it('An assumed VM is charged to its tenant quota in the host group.', () => {
    const w = new WorkingSnapshot(base()).assume(vm('acme/a').cpu(2).memory(10).storage(20).build(), 'bm-1');
    expect(w.quota('acme', 'general')?.used).toEqual({ cpu: 6, memory: 10, storage: 20, gpu: 0 });
  });

  it('An assumed VM on a host of a group where the tenant has no quota charges nothing.', () => {
    const w = new WorkingSnapshot(base()).assume(vm('acme/a').cpu(2).build(), 'bm-2');
    expect(w.quota('acme', 'general')?.used.cpu).toBe(4);
    expect(w.quota('acme', 'gpu')).toBeUndefined();
  });

  it('An assumed VM with a spread key records its host, rack and datacenter for that key.', () => {
    const w = new WorkingSnapshot(base()).assume(vm('acme/a').spread('Rack', 'db').build(), 'bm-1');
    expect(w.spread('db')).toEqual({ hosts: new Set(['bm-1']), racks: new Set(['r-1']), datacenters: new Set(['dc-a']) });
    expect(w.spread('web')).toBeUndefined();
  });

  it('Assuming onto a host that is not in the snapshot is an error.', () => {
    expect(() => new WorkingSnapshot(base()).assume(vm('acme/a').build(), 'bm-9')).toThrow(/cannot assume placement/);
  });

  it('The working copy never writes through to the snapshot it was made from.', () => {
    const snap = base();
    const before = structuredClone(snap);
    new WorkingSnapshot(snap).assume(vm('acme/a').spread('Rack', 'db').build(), 'bm-1');
    expect(snap).toEqual(before);
  });
});

describe('WorkingSnapshot.release', () => {
  it('A released VM gives back its host allocation and its quota usage, and a decision sees it.', () => {
    const w = new WorkingSnapshot(base()).assume(vm('acme/a').cpu(60).build(), 'bm-1');
    expect(schedule(w, vm('acme/b').cpu(8).build()).ok).toBe(false);
    w.release({ tenant: 'acme', resources: vm('acme/a').cpu(60).build().resources }, 'bm-1');
    expect(w.host('bm-1')?.allocated.cpu).toBe(4);
    expect(w.quota('acme', 'general')?.used.cpu).toBe(4);
    expect(schedule(w, vm('acme/b').cpu(8).build())).toMatchObject({ ok: true, host: 'bm-1' });
  });

  it('Releasing from a host that is not in the snapshot is an error.', () => {
    expect(() => new WorkingSnapshot(base()).release({ tenant: 'acme', resources: vm('acme/a').build().resources }, 'bm-9')).toThrow(/cannot release placement/);
  });
});

describe('WorkingSnapshot.allocatableOf', () => {
  it('Allocatable applies the group overcommit, for its own hosts and for any other host alike.', () => {
    const snap = snapshot().hosts(host('bm-1').cpu(10)).groups(group('general').overcommit({ cpu: 3 })).build();
    const w = new WorkingSnapshot(snap);
    expect(w.allocatableOf(w.host('bm-1')!).cpu).toBe(30);
    expect(w.allocatableOf(host('other').cpu(4).build()).cpu).toBe(12);
  });
});

describe('assume', () => {
  it('The pure form returns a new snapshot with the placement and leaves the old one as it was.', () => {
    const snap = base();
    const before = structuredClone(snap);
    const next = assume(snap, vm('acme/a').cpu(2).spread('Rack', 'db').build(), 'bm-1');
    expect(snap).toEqual(before);
    expect(next.hosts.find((h) => h.name === 'bm-1')?.allocated.cpu).toBe(6);
    expect(next.quotas[0]?.used.cpu).toBe(6);
    expect(next.spreadMembers).toEqual({ db: { racks: ['r-1'], datacenters: ['dc-a'] } });
  });
});

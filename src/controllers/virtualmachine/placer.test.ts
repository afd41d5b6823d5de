import { describe, expect, it } from 'vitest';
import { listersOf, placed, quota, twoRackWorld, vm } from '../testing/fixtures.js';
import { buildSnapshot, Placer } from './placer.js';

const Gi = 1024 ** 3;
const request = (vm: string, cpu: number, extra = {}) => ({
  vm,
  tenant: 'acme',
  group: 'general',
  resources: { cpu, memory: 1 * Gi, storage: 10 * Gi, gpu: 0 },
  ...extra,
});

describe('placement with an assume cache', () => {
  const world = twoRackWorld();

  it('builds a snapshot counting placed VMs against their host and the tenant quota', () => {
    const snapshot = buildSnapshot(listersOf({ ...world, vms: [placed('acme', 'a', 'bm1', 4, '8Gi')] }));
    expect(snapshot.hosts.find((h) => h.name === 'bm1')!.allocated.cpu).toBe(4);
    expect(snapshot.quotas[0]!.used.cpu).toBe(4);
    expect(snapshot.quotas[0]!.limits.cpu).toBe(12);
  });

  it('never promises the same capacity twice before the placements are written', () => {
    const placer = new Placer(listersOf(world));
    const results = Array.from({ length: 5 }, (_, i) => placer.place(`acme/v${i}`, request(`acme/v${i}`, 4)));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    const refused = results.find((r) => !r.ok);
    expect(refused && !refused.ok && refused.diagnosis.message).toContain('over tenant quota');
  });

  it('gives capacity back when the write of a decision fails', () => {
    const placer = new Placer(listersOf({ ...world, quotas: [quota('q', 'acme', 'general', { cpu: 4 })] }));
    expect(placer.place('acme/a', request('acme/a', 4)).ok).toBe(true);
    expect(placer.place('acme/b', request('acme/b', 4)).ok).toBe(false);
    placer.forget('acme/a');
    expect(placer.place('acme/b', request('acme/b', 4)).ok).toBe(true);
  });

  describe('a write that may or may not have landed', () => {
    const tight = { ...world, quotas: [quota('q', 'acme', 'general', { cpu: 4 })] };
    const unplacedAt = (rv: string) => ({ ...vm('acme', 'a'), metadata: { namespace: 'acme', name: 'a', resourceVersion: rv } });
    const placedAt = (rv: string, on: string) => ({ ...placed('acme', 'a', on, 4, '1Gi'), metadata: { namespace: 'acme', name: 'a', resourceVersion: rv } });

    it('keeps its capacity taken while nothing newer is known about the VM', () => {
      const placer = new Placer(listersOf(tight));
      const decided = placer.place('acme/a', request('acme/a', 4));
      placer.markUncertain('acme/a', '7');
      placer.observeVm('acme/a', unplacedAt('7'), unplacedAt('7')); // a resync of the same version
      expect(placer.uncertain('acme/a')).toBe(decided.ok && decided.host);
      expect(placer.place('acme/b', request('acme/b', 4)).ok).toBe(false);
    });

    it('gives the capacity back once a newer version of the VM shows no placement', () => {
      const placer = new Placer(listersOf(tight));
      placer.place('acme/a', request('acme/a', 4));
      placer.markUncertain('acme/a', '7');
      placer.observeVm('acme/a', unplacedAt('8'), unplacedAt('7'));
      expect(placer.isAssumed('acme/a')).toBeUndefined();
      expect(placer.place('acme/b', request('acme/b', 4)).ok).toBe(true);
    });

    it('counts the VM where the placement landed once the cache shows it', () => {
      const placer = new Placer(listersOf(tight));
      const decided = placer.place('acme/a', request('acme/a', 4));
      if (!decided.ok) throw new Error('expected a placement');
      placer.markUncertain('acme/a', '7');
      placer.observeVm('acme/a', placedAt('8', decided.host), unplacedAt('7'));
      expect(placer.isAssumed('acme/a')).toBeUndefined();
    });

    it('lets go of a VM deleted before its placement showed up', () => {
      const placer = new Placer(listersOf(tight));
      placer.place('acme/a', request('acme/a', 4));
      placer.observeVm('acme/a', undefined, unplacedAt('7'));
      expect(placer.place('acme/b', request('acme/b', 4)).ok).toBe(true);
    });
  });

  describe('a snapshot kept current instead of rebuilt', () => {
    const tight = { ...world, quotas: [quota('q', 'acme', 'general', { cpu: 4 })] };
    // The cache below keeps showing VM a: only a released reservation (not a snapshot
    // rebuilt from the cache) can make room for b.
    const withA = (spreadKey?: string) => {
      const a = placed('acme', 'a', 'bm1', 4, '1Gi');
      return spreadKey ? { ...a, spec: { ...a.spec, placement: { spreadAcross: 'Rack' as const, spreadKey } } } : a;
    };

    it('takes a deleted placed VM out of the snapshot, giving its host and quota back', () => {
      const a = withA();
      const placer = new Placer(listersOf({ ...tight, vms: [a] }));
      expect(placer.place('acme/b', request('acme/b', 4)).ok).toBe(false);
      placer.observeVm('acme/a', undefined, a);
      expect(placer.place('acme/b', request('acme/b', 4)).ok).toBe(true);
    });

    it('rebuilds from the cache when the deleted VM had a spread key', () => {
      const a = withA('db');
      const placer = new Placer(listersOf({ ...tight, vms: [a] }));
      expect(placer.place('acme/b', request('acme/b', 4)).ok).toBe(false);
      placer.observeVm('acme/a', undefined, a);
      // Rebuilt from a cache that still shows a: its quota is still taken.
      expect(placer.place('acme/b', request('acme/b', 4)).ok).toBe(false);
    });
  });
});

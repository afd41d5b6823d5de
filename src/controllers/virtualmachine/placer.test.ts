import { describe, expect, it } from 'vitest';
import { dc, group, host, listersOf, placed, quota, rack, tenant } from '../testing/fixtures.js';
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
  const world = {
    datacenters: [dc('hsinchu')],
    racks: [rack('r1', 'hsinchu'), rack('r2', 'hsinchu')],
    groups: [group('general')],
    hosts: [host('bm1', 'r1', 'general', 8, '64Gi'), host('bm2', 'r2', 'general', 8, '64Gi')],
    tenants: [tenant('acme')],
    quotas: [quota('q', 'acme', 'general', { cpu: 12 })],
  };

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
});

import { describe, expect, it } from 'vitest';
import { dc, group, host, listersOf, placed, quota, rack, tenant } from '../testing/fixtures.js';
import { currentHostPhase, groupTotals, hostAllocated, hostLocation, hostPhase, quotaUsage } from './accounting.js';

const Gi = 1024 ** 3;

describe('inventory accounting', () => {
  const base = {
    datacenters: [dc('hsinchu', 'tw')],
    racks: [rack('r1', 'hsinchu', { room: 'A' })],
    groups: [group('general', { overcommit: { cpu: 2, memory: 1, storage: 1 } })],
    tenants: [tenant('acme')],
  };

  it('resolves a host location from its rack and data center', () => {
    const listers = listersOf({ ...base, hosts: [host('bm1', 'r1', 'general', 32, '128Gi', { unit: 10 })] });
    expect(hostLocation(listers.hosts.get('bm1')!, listers)).toEqual({
      location: { region: 'tw', datacenter: 'hsinchu', room: 'A', rack: 'r1', unit: 10 },
      missing: [],
    });
  });

  it('names the missing rack when the host refers to one that does not exist yet', () => {
    const listers = listersOf({ ...base, hosts: [host('bm1', 'nowhere', 'general')] });
    const { missing } = hostLocation(listers.hosts.get('bm1')!, listers);
    expect(missing).toEqual(['Rack "nowhere"']);
  });

  it.each([
    ['Available', true, 'Ready'],
    ['Available', false, 'Unknown'],
    ['Maintenance', true, 'Maintenance'],
    ['Retired', true, 'Offline'],
  ] as const)('a host in state %s with location known=%s is %s', (state, known, phase) => {
    expect(hostPhase(host('x', 'r1', 'general', 1, '1Gi', { state }), known)).toBe(phase);
  });

  it.each([
    ['Maintenance', 'Available', 'Maintenance'],
    ['Retired', 'Available', 'Offline'],
    ['Active', 'Available', 'Ready'],
    ['Maintenance', 'Offline', 'Offline'],
  ] as const)('a host in a rack in state %s, itself %s, is %s', (rackState, state, phase) => {
    expect(hostPhase(host('x', 'r1', 'general', 1, '1Gi', { state }), true, rackState)).toBe(phase);
  });

  it('takes the rack state into the phase it computes from the caches', () => {
    const listers = listersOf({ ...base, racks: [rack('r1', 'hsinchu', { state: 'Maintenance' })], hosts: [host('bm1', 'r1', 'general')] });
    expect(currentHostPhase(listers.hosts.get('bm1')!, listers)).toBe('Maintenance');
  });

  it('adds up what the VMs placed on a host reserve, ignoring VMs elsewhere', () => {
    const listers = listersOf({
      ...base,
      hosts: [host('bm1', 'r1', 'general'), host('bm2', 'r1', 'general')],
      vms: [placed('acme', 'a', 'bm1', 4, '8Gi'), placed('acme', 'b', 'bm1', 2, '4Gi'), placed('acme', 'c', 'bm2', 8, '16Gi')],
    });
    const { allocated, count } = hostAllocated('bm1', listers);
    expect(count).toBe(2);
    expect(allocated.cpu).toBe(6);
    expect(allocated.memory).toBe(12 * Gi);
  });

  it('counts only ready hosts in group capacity and applies overcommit to allocatable', () => {
    const listers = listersOf({
      ...base,
      hosts: [host('bm1', 'r1', 'general', 32, '128Gi'), host('bm2', 'r1', 'general', 32, '128Gi', { state: 'Maintenance' })],
      quotas: [quota('q', 'acme', 'general', { cpu: 10 })],
    });
    const totals = groupTotals(listers.groups.get('general')!, listers);
    expect(totals.baremetals).toBe(2);
    expect(totals.capacity.cpu).toBe(32);
    expect(totals.allocatable.cpu).toBe(64);
    expect(totals.tenants).toEqual(['acme']);
  });

  it('resolves percent limits against the group allocatable and reports used and remaining', () => {
    const listers = listersOf({
      ...base,
      hosts: [host('bm1', 'r1', 'general', 50, '100Gi')],
      quotas: [quota('q', 'acme', 'general', { cpu: '40%', memory: '64Gi' })],
      vms: [placed('acme', 'a', 'bm1', 30, '70Gi')],
    });
    const usage = quotaUsage(listers.quotas.get('q')!, listers);
    expect(usage.limits).toEqual({ cpu: 40, memory: 64 * Gi });
    expect(usage.used.cpu).toBe(30);
    expect(usage.remaining).toEqual({ cpu: 10, memory: 0 });
    expect(usage.virtualMachines).toBe(1);
    expect(usage.missing).toEqual([]);
  });

  it('reports a quota whose tenant and group do not exist yet', () => {
    const listers = listersOf({ quotas: [quota('q', 'ghost', 'nogroup', { cpu: 1 })] });
    expect(quotaUsage(listers.quotas.get('q')!, listers).missing).toEqual(['BaremetalGroup "nogroup"', 'Tenant "ghost"']);
  });
});

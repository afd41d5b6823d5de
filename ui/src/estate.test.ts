import { describe, expect, it } from 'vitest';
import type { Baremetal } from '../../src/kinds/baremetal.js';
import type { TenantQuota } from '../../src/kinds/tenantquota.js';
import type { VirtualMachine } from '../../src/kinds/virtualmachine.js';
import { capacityBreakdown, falseConditions, parseReasons, quotasUnderPressure, unschedulable } from './estate.js';

const Gi = 1024 ** 3;

const vm = (name: string, phase: string, conditions: { type: string; status: string; reason?: string; message?: string }[] = []): VirtualMachine =>
  ({ apiVersion: 'virtflow.io/v1alpha1', kind: 'VirtualMachine', metadata: { name, namespace: 'acme' }, spec: { specification: 's', image: 'i' }, status: { phase, conditions } }) as unknown as VirtualMachine;

const quota = (name: string, limits: Record<string, unknown>, used: Record<string, unknown>): TenantQuota =>
  ({ apiVersion: 'virtflow.io/v1alpha1', kind: 'TenantQuota', metadata: { name }, spec: { tenant: name, group: 'g', limits }, status: { limits, used } }) as unknown as TenantQuota;

describe('parseReasons', () => {
  it.each([
    ['reads each counted reason of the scheduler\'s message', '0/6 hosts fit: 3 over tenant quota, 2 host(s) not in group, 1 host(s) in maintenance', { 'over tenant quota': 3, 'host(s) not in group': 2, 'host(s) in maintenance': 1 }],
    ['answers nothing for a message without reasons', '0/0 hosts fit', {}],
    ['answers nothing for no message at all', undefined, {}],
  ])('%s', (_name, message, want) => {
    expect(Object.fromEntries(parseReasons(message))).toEqual(want);
  });
});

describe('unschedulable', () => {
  it('sums the reasons over every Unschedulable VM and ignores the others', () => {
    const msg = (n: number) => [{ type: 'Scheduled', status: 'False', reason: 'Unschedulable', message: `0/4 hosts fit: ${n} Insufficient cpu, 1 host(s) in maintenance` }];
    const got = unschedulable([vm('a', 'Unschedulable', msg(3)), vm('b', 'Unschedulable', msg(2)), vm('c', 'Running')]);
    expect(got.vms.map((v) => v.metadata.name)).toEqual(['a', 'b']);
    expect(Object.fromEntries(got.reasons)).toEqual({ 'Insufficient cpu': 5, 'host(s) in maintenance': 2 });
  });
});

describe('falseConditions', () => {
  it('groups False conditions by kind, type and reason, with a count, leaving out stopped and Unschedulable VMs', () => {
    const waiting = [{ type: 'Ready', status: 'False', reason: 'Provisioning', message: 'waiting' }];
    const got = falseConditions([
      vm('a', 'Provisioning', waiting),
      vm('b', 'Provisioning', waiting),
      vm('c', 'Stopped', [{ type: 'Ready', status: 'False', reason: 'NotRunning' }]),
      vm('d', 'Unschedulable', [{ type: 'Ready', status: 'False', reason: 'Unschedulable' }]),
      vm('e', 'Running', [{ type: 'Ready', status: 'True', reason: 'Running' }]),
    ]);
    expect(got).toEqual([{ kind: 'VirtualMachine', type: 'Ready', reason: 'Provisioning', count: 2, examples: [{ key: 'acme/a', message: 'waiting' }, { key: 'acme/b', message: 'waiting' }] }]);
  });
});

describe('quotasUnderPressure', () => {
  it('reports resources at 90% of their limit or more, fullest first, and skips unlimited ones', () => {
    const got = quotasUnderPressure([
      quota('near', { cpu: 10, memory: '100Gi' }, { cpu: 9, memory: '10Gi' }),
      quota('over', { memory: '10Gi' }, { cpu: 50, memory: '12Gi' }),
      quota('fine', { cpu: 10 }, { cpu: 1 }),
    ]);
    expect(got.map((p) => [p.quota.metadata.name, p.resource, p.used, p.limit])).toEqual([
      ['over', 'memory', 12 * Gi, 10 * Gi],
      ['near', 'cpu', 9, 10],
    ]);
  });
});

describe('capacityBreakdown', () => {
  it('adds hosts by region and data center from their status, skipping retired ones', () => {
    const host = (name: string, region: string, dc: string, allocated: number, free: number, state = 'Available'): Baremetal =>
      ({
        metadata: { name },
        spec: { serialNumber: name, rack: 'r', capacity: { cpu: 64, memory: '1Gi', storage: '1Gi' }, state },
        status: { location: { region, datacenter: dc }, allocated: { cpu: allocated }, free: { cpu: free } },
      }) as unknown as Baremetal;
    const got = capacityBreakdown([host('a', 'tw', 'dc1', 10, 118), host('b', 'tw', 'dc2', 0, 128), host('c', 'jp', 'dc3', 1, 1, 'Retired')], [], []);
    expect(got.byRegion.get('tw')).toMatchObject({ total: { cpu: 256 }, used: { cpu: 10 } });
    expect(got.byDatacenter.get('dc2')).toMatchObject({ total: { cpu: 128 }, used: { cpu: 0 } });
    expect(got.byRegion.has('jp')).toBe(false);
    expect(got.estate.used.cpu).toBe(10);
  });
});

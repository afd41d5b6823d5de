import { describe, expect, it } from 'vitest';
import { host, quota, snapshot, vm } from '../testing/builders.js';
import { filterHost } from '../testing/run-plugin.js';
import { tenantQuota } from './tenant-quota.js';

describe('TenantQuota filter', () => {
  const noQuota = { code: 'UnschedulableAndUnresolvable', reasons: ['no tenant quota in group'] };
  const over = { code: 'Unschedulable', reasons: ['over tenant quota'] };
  const neverWithin = { code: 'UnschedulableAndUnresolvable', reasons: ['over tenant quota'] };
  const cases: { name: string; quotas: ReturnType<typeof quota>[]; h?: ReturnType<typeof host>; req?: ReturnType<typeof vm>; want: unknown }[] = [
    { name: 'A tenant with no quota in the host group cannot place there.', quotas: [], want: noQuota },
    { name: 'A quota of the tenant in another group does not count.', quotas: [quota('acme', 'gpu')], want: noQuota },
    { name: 'A quota of another tenant in the group does not count.', quotas: [quota('other', 'general')], want: noQuota },
    { name: 'A host with no group has no quota to charge, even for a pinned VM.', quotas: [quota('acme', 'general')], h: host('bm-1').group(undefined), req: vm('a/vm').group(undefined).pin('bm-1'), want: noQuota },
    { name: 'A quota without limits admits any request.', quotas: [quota('acme', 'general').used({ cpu: 1000 })], want: null },
    { name: 'A request that lands exactly on the limit passes.', quotas: [quota('acme', 'general').limits({ cpu: 10 }).used({ cpu: 8 })], want: null },
    { name: 'A request one core over the cpu limit is over quota.', quotas: [quota('acme', 'general').limits({ cpu: 10 }).used({ cpu: 9 })], want: over },
    { name: 'A request over the memory limit is over quota.', quotas: [quota('acme', 'general').limits({ memory: '8Gi' }).used({ memory: '6Gi' })], want: over },
    { name: 'A request over the storage limit is over quota.', quotas: [quota('acme', 'general').limits({ storage: '100Gi' }).used({ storage: '60Gi' })], want: over },
    { name: 'A request over the gpu limit is over quota.', quotas: [quota('acme', 'general').limits({ gpu: 2 }).used({ gpu: 2 })], req: vm('a/vm').gpu(1), want: over },
    { name: 'A limit on a resource the VM does not ask for is ignored.', quotas: [quota('acme', 'general').limits({ gpu: 0 }).used({ gpu: 0 })], want: null },
    { name: 'A request larger than the whole limit is over quota and unresolvable.', quotas: [quota('acme', 'general').limits({ cpu: 1 })], want: neverWithin },
  ];
  it.each(cases)('$name', ({ quotas, h, req, want }) => {
    const snap = snapshot().hosts(h ?? host('bm-1')).quotas(...quotas).build();
    expect(filterHost(tenantQuota, snap, (req ?? vm('a/vm')).build())).toEqual(want);
  });
});

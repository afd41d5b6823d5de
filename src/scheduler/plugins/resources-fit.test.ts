import { describe, expect, it } from 'vitest';
import { group, host, snapshot, vm } from '../testing/builders.js';
import { filterHost } from '../testing/run-plugin.js';
import { resourcesFit } from './resources-fit.js';

describe('ResourcesFit filter', () => {
  const h = () => host('bm-1').cpu(16).memory('64Gi').storage('1Ti');
  const unschedulable = (...reasons: string[]) => ({ code: 'Unschedulable', reasons });
  const unresolvable = (...reasons: string[]) => ({ code: 'UnschedulableAndUnresolvable', reasons });
  const cases = [
    { name: 'A VM that fits an empty host passes.', h: h(), req: vm('a/vm').cpu(4).memory('8Gi').storage('100Gi'), want: null },
    { name: 'A VM that fills the host exactly passes.', h: h().allocated({ cpu: 12, memory: '56Gi', storage: '924Gi' }), req: vm('a/vm').cpu(4).memory('8Gi').storage('100Gi'), want: null },
    { name: 'A VM one core short is refused for cpu and may fit later.', h: h().allocated({ cpu: 13 }), req: vm('a/vm').cpu(4), want: unschedulable('Insufficient cpu') },
    { name: 'A VM short of memory is refused for memory.', h: h().allocated({ memory: '60Gi' }), req: vm('a/vm').memory('8Gi'), want: unschedulable('Insufficient memory') },
    { name: 'A VM short of storage is refused for storage.', h: h().allocated({ storage: '1000Gi' }), req: vm('a/vm').storage('100Gi'), want: unschedulable('Insufficient storage') },
    {
      name: 'A VM short of several resources reports each of them.',
      h: h().allocated({ cpu: 16, memory: '64Gi' }),
      req: vm('a/vm').cpu(1).memory('1Gi'),
      want: unschedulable('Insufficient cpu', 'Insufficient memory'),
    },
    { name: 'A VM larger than the whole host can never fit there.', h: h(), req: vm('a/vm').cpu(32), want: unresolvable('Insufficient cpu') },
    { name: 'A resource the VM does not ask for is not checked on an over-full host.', h: h().allocated({ storage: '2Ti' }), req: vm('a/vm').storage(0), want: null },
  ];
  it.each(cases)('$name', ({ h: hb, req, want }) => {
    expect(filterHost(resourcesFit, snapshot().hosts(hb).build(), req.build())).toEqual(want);
  });

  const overcommitCases = [
    { name: 'A cpu overcommit of 2 lets 32 vCPUs onto a 16-core host.', ratios: { cpu: 2 }, req: vm('a/vm').cpu(32), want: null },
    { name: 'A cpu overcommit of 2 still refuses the 33rd vCPU.', ratios: { cpu: 2 }, req: vm('a/vm').cpu(33), want: unresolvable('Insufficient cpu') },
    { name: 'A memory overcommit of 1.5 admits 96Gi on a 64Gi host.', ratios: { memory: 1.5 }, req: vm('a/vm').memory('96Gi'), want: null },
    { name: 'A storage overcommit below 1 shrinks what is allocatable.', ratios: { storage: 0.5 }, req: vm('a/vm').storage('600Gi'), want: unresolvable('Insufficient storage') },
    { name: 'Without the group in the snapshot the host is not overcommitted.', ratios: undefined, req: vm('a/vm').cpu(17), want: unresolvable('Insufficient cpu') },
  ];
  it.each(overcommitCases)('$name', ({ ratios, req, want }) => {
    const snap = snapshot().hosts(h());
    if (ratios) snap.groups(group('general').overcommit(ratios));
    expect(filterHost(resourcesFit, snap.build(), req.build())).toEqual(want);
  });

  it('An overcommit ratio counts allocations already on the host against the larger allocatable.', () => {
    const snap = snapshot().hosts(h().allocated({ cpu: 30 })).groups(group('general').overcommit({ cpu: 2 })).build();
    expect(filterHost(resourcesFit, snap, vm('a/vm').cpu(2).build())).toBeNull();
    expect(filterHost(resourcesFit, snap, vm('a/vm').cpu(3).build())).toEqual(unschedulable('Insufficient cpu'));
  });
});

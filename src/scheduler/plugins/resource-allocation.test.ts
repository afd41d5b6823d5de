import { describe, expect, it } from 'vitest';
import { group, host, snapshot, vm } from '../testing/builders.js';
import { scoreHost } from '../testing/run-plugin.js';
import { resourceAllocation } from './resource-allocation.js';

describe('ResourceAllocation score', () => {
  // 10 cores, 10Gi, 10Gi: each unit is 10% of a resource, so fractions read off directly.
  const h = () => host('bm-1').cpu(10).memory('10Gi').storage('10Gi');
  const req = () => vm('a/vm').cpu(1).memory('1Gi').storage('1Gi');
  const cases = [
    { name: 'Binpack scores an empty host by the fraction the VM alone would use.', h: h(), strategy: 'Binpack', want: 10 },
    { name: 'Binpack scores a host half full at the fraction used after placement.', h: h().allocated({ cpu: 5, memory: '5Gi', storage: '5Gi' }), strategy: 'Binpack', want: 60 },
    { name: 'Binpack averages cpu, memory and storage.', h: h().allocated({ cpu: 9 }), strategy: 'Binpack', want: (100 + 10 + 10) / 3 },
    { name: 'Spread scores an empty host highest.', h: h(), strategy: 'Spread', want: 90 },
    { name: 'Spread scores a host half full lower.', h: h().allocated({ cpu: 5, memory: '5Gi', storage: '5Gi' }), strategy: 'Spread', want: 40 },
    { name: 'A resource with nothing allocatable is left out of the average.', h: h().storage(0), strategy: 'Binpack', want: 10 },
    { name: 'Scores never pass 100 even on an over-full host.', h: h().allocated({ cpu: 20, memory: '20Gi', storage: '20Gi' }), strategy: 'Binpack', want: 100 },
  ] as const;
  it.each(cases)('$name', ({ h: hb, strategy, want }) => {
    const snap = snapshot().hosts(hb).groups(group('general').strategy(strategy)).build();
    expect(scoreHost(resourceAllocation, snap, req().build())).toBeCloseTo(want, 9);
  });

  it('The VM strategy overrides the group strategy.', () => {
    const snap = snapshot().hosts(h()).groups(group('general').strategy('Binpack')).build();
    expect(scoreHost(resourceAllocation, snap, req().strategy('Spread').build())).toBeCloseTo(90, 9);
  });

  it('Fractions are taken of allocatable, so overcommit lowers the Binpack score.', () => {
    const snap = snapshot().hosts(h()).groups(group('general').overcommit({ cpu: 2, memory: 2, storage: 2 })).build();
    expect(scoreHost(resourceAllocation, snap, req().build())).toBeCloseTo(5, 9);
  });

  it('A host whose group is unknown is scored with Binpack, the API default.', () => {
    expect(scoreHost(resourceAllocation, snapshot().hosts(h()).build(), req().build())).toBeCloseTo(10, 9);
  });
});

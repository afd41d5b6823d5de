import { describe, expect, it } from 'vitest';
import { lowerBoundHosts } from './lower-bound.js';
import type { Resources } from './types.js';

const r = (cpu: number, memory: number, storage = 0, gpu = 0): Resources => ({ cpu, memory, storage, gpu });

describe('lowerBoundHosts', () => {
  const cases = [
    { name: 'Demand exactly filling hosts needs that many hosts.', demands: [r(32, 0), r(32, 0)], host: r(32, 64), want: 2 },
    { name: 'Any remainder needs one more host.', demands: [r(33, 0)], host: r(32, 64), want: 2 },
    { name: 'The tightest resource decides.', demands: [r(4, 100), r(4, 100)], host: r(32, 64), want: 4 },
    { name: 'No demand needs no hosts.', demands: [], host: r(32, 64), want: 0 },
    { name: 'Demand for a resource no host has can never be met.', demands: [r(1, 1, 0, 1)], host: r(32, 64), want: Infinity },
    { name: 'A resource nobody asks for is ignored even if hosts lack it.', demands: [r(1, 1)], host: r(32, 64, 0, 0), want: 1 },
  ];
  it.each(cases)('$name', ({ demands, host, want }) => {
    expect(lowerBoundHosts(demands, host)).toBe(want);
  });
});

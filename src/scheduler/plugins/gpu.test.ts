import { describe, expect, it } from 'vitest';
import { group, host, snapshot, vm } from '../testing/builders.js';
import { filterHost } from '../testing/run-plugin.js';
import { gpu } from './gpu.js';

describe('Gpu filter', () => {
  const cases = [
    { name: 'A VM without gpus passes on a host without gpus.', h: host('bm-1'), req: vm('a/vm'), want: null },
    { name: 'A VM with gpus passes on a host with enough free gpus.', h: host('bm-1').gpu(4).allocated({ gpu: 2 }), req: vm('a/vm').gpu(2), want: null },
    { name: 'A VM with gpus is refused when the gpus are in use.', h: host('bm-1').gpu(4).allocated({ gpu: 3 }), req: vm('a/vm').gpu(2), want: { code: 'Unschedulable', reasons: ['Insufficient gpu'] } },
    { name: 'A VM with gpus can never fit a host without gpus.', h: host('bm-1'), req: vm('a/vm').gpu(1), want: { code: 'UnschedulableAndUnresolvable', reasons: ['Insufficient gpu'] } },
  ];
  it.each(cases)('$name', ({ h, req, want }) => {
    expect(filterHost(gpu, snapshot().hosts(h).build(), req.build())).toEqual(want);
  });

  it('A group overcommit never multiplies gpus.', () => {
    const snap = snapshot()
      .hosts(host('bm-1').gpu(1))
      .groups(group('general').overcommit({ cpu: 4, memory: 4, storage: 4 }))
      .build();
    expect(filterHost(gpu, snap, vm('a/vm').gpu(2).build())?.reasons).toEqual(['Insufficient gpu']);
  });
});

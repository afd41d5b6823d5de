import { describe, expect, it } from 'vitest';
import type { FilterStatus } from '../framework.js';
import { host, snapshot, vm } from '../testing/builders.js';
import { filterHost } from '../testing/run-plugin.js';
import { pinnedHost } from './pinned-host.js';

describe('PinnedHost filter', () => {
  const snap = snapshot().hosts(host('bm-1'), host('bm-2')).build();
  const cases: { name: string; req: ReturnType<typeof vm>; host: string; want: FilterStatus | null }[] = [
    { name: 'A VM that is not pinned may go to any host.', req: vm('a/vm'), host: 'bm-2', want: null },
    { name: 'A VM pinned to a host passes on that host.', req: vm('a/vm').pin('bm-1'), host: 'bm-1', want: null },
    {
      name: 'A VM pinned to another host is refused as unresolvable.',
      req: vm('a/vm').pin('bm-1'),
      host: 'bm-2',
      want: { code: 'UnschedulableAndUnresolvable', reasons: ['not the pinned host'] },
    },
  ];
  it.each(cases)('$name', ({ req, host: h, want }) => {
    expect(filterHost(pinnedHost, snap, req.build(), h)).toEqual(want);
  });
});

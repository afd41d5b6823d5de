import { describe, expect, it } from 'vitest';
import type { FilterStatus } from '../framework.js';
import { host, snapshot, vm } from '../testing/builders.js';
import { filterHost } from '../testing/run-plugin.js';
import { groupMembership } from './group-membership.js';

const notInGroup: FilterStatus = { code: 'UnschedulableAndUnresolvable', reasons: ['host(s) not in group'] };

describe('GroupMembership filter', () => {
  const cases = [
    { name: 'A host in the requested group passes.', h: host('bm-1').group('general'), req: vm('a/vm'), want: null },
    { name: 'A host in another group is refused.', h: host('bm-1').group('gpu'), req: vm('a/vm'), want: notInGroup },
    { name: 'A host with no group is refused for a VM that names a group.', h: host('bm-1').group(undefined), req: vm('a/vm'), want: notInGroup },
    { name: 'A pinned VM without a group passes on any host.', h: host('bm-1').group('gpu'), req: vm('a/vm').group(undefined).pin('bm-1'), want: null },
    { name: 'A pinned VM that names a group still needs the host to be in it.', h: host('bm-1').group('gpu'), req: vm('a/vm').pin('bm-1'), want: notInGroup },
    { name: 'A VM with neither a group nor a pinned host fits nowhere.', h: host('bm-1'), req: vm('a/vm').group(undefined), want: notInGroup },
  ];
  it.each(cases)('$name', ({ h, req, want }) => {
    expect(filterHost(groupMembership, snapshot().hosts(h).build(), req.build())).toEqual(want);
  });
});

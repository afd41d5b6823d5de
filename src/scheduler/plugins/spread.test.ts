import { describe, expect, it } from 'vitest';
import { host, snapshot, vm } from '../testing/builders.js';
import { filterHost } from '../testing/run-plugin.js';
import { spread } from './spread.js';

describe('Spread filter', () => {
  const h = host('bm-1').datacenter('dc-a').rack('r-1');
  const broken = { code: 'Unschedulable', reasons: ['host(s) would break spread'] };
  const cases = [
    { name: 'A VM with a spreadKey but no spreadAcross ignores other members.', req: vm('a/vm').spreadKey('db'), members: { racks: ['r-1'] }, want: null },
    { name: 'A VM with spreadAcross but no spreadKey has no peers to avoid.', req: vm('a/vm').spreadAcross('Rack'), members: { racks: ['r-1'] }, want: null },
    { name: 'The first VM of a spread key may go anywhere.', req: vm('a/vm').spread('Rack', 'db'), members: undefined, want: null },
    { name: 'A rack already used by the key is refused when spreading across racks.', req: vm('a/vm').spread('Rack', 'db'), members: { racks: ['r-1'], datacenters: ['dc-a'] }, want: broken },
    { name: 'Another rack in the same datacenter passes when spreading across racks.', req: vm('a/vm').spread('Rack', 'db'), members: { racks: ['r-2'], datacenters: ['dc-a'] }, want: null },
    { name: 'A datacenter already used by the key is refused when spreading across datacenters.', req: vm('a/vm').spread('Datacenter', 'db'), members: { racks: ['r-2'], datacenters: ['dc-a'] }, want: broken },
    { name: 'Another datacenter passes when spreading across datacenters.', req: vm('a/vm').spread('Datacenter', 'db'), members: { racks: ['r-1'], datacenters: ['dc-b'] }, want: null },
    { name: 'A VM being moved may stay in the rack where it is the only member.', req: vm('a/vm').spread('Rack', 'db').spreadOwn({ rack: 'r-1' }), members: { racks: ['r-1'], datacenters: ['dc-a'] }, want: null },
    { name: 'A VM being moved still avoids a rack where it is not the only member.', req: vm('a/vm').spread('Rack', 'db').spreadOwn({ rack: 'r-2' }), members: { racks: ['r-1', 'r-2'], datacenters: ['dc-a'] }, want: broken },
    { name: 'A VM being moved alone in its rack but not its datacenter avoids the datacenter when spreading across datacenters.', req: vm('a/vm').spread('Datacenter', 'db').spreadOwn({ rack: 'r-1' }), members: { racks: ['r-1'], datacenters: ['dc-a'] }, want: broken },
    { name: 'Members of another spread key are not avoided.', req: vm('a/vm').spread('Rack', 'web'), members: { racks: ['r-1'] }, want: null },
  ];
  it.each(cases)('$name', ({ req, members, want }) => {
    const snap = snapshot().hosts(h);
    if (members) snap.spreadMembers('db', members);
    expect(filterHost(spread, snap.build(), req.build())).toEqual(want);
  });
});

import { describe, expect, it } from 'vitest';
import { host, snapshot, vm } from '../testing/builders.js';
import { filterHost } from '../testing/run-plugin.js';
import { topology } from './topology.js';

describe('Topology filter', () => {
  const h = host('bm-1').region('tw-north').datacenter('tpe-1').rack('r-07');
  const unresolvable = (...reasons: string[]) => ({ code: 'UnschedulableAndUnresolvable', reasons });
  const cases = [
    { name: 'A VM with no placement lists may go anywhere.', req: vm('a/vm'), want: null },
    { name: 'Empty placement lists mean anywhere.', req: vm('a/vm').regions().datacenters().racks(), want: null },
    { name: 'A host inside every requested list passes.', req: vm('a/vm').regions('tw-north').datacenters('tpe-1', 'tpe-2').racks('r-07'), want: null },
    { name: 'A host in another region is refused.', req: vm('a/vm').regions('tw-south'), want: unresolvable('host(s) outside requested regions') },
    { name: 'A host in another datacenter is refused.', req: vm('a/vm').datacenters('khh-1'), want: unresolvable('host(s) outside requested datacenters') },
    { name: 'A host in another rack is refused.', req: vm('a/vm').racks('r-01'), want: unresolvable('host(s) outside requested racks') },
    {
      name: 'A host outside several lists reports each list it misses.',
      req: vm('a/vm').regions('tw-north').datacenters('khh-1').racks('r-01'),
      want: unresolvable('host(s) outside requested datacenters', 'host(s) outside requested racks'),
    },
  ];
  it.each(cases)('$name', ({ req, want }) => {
    expect(filterHost(topology, snapshot().hosts(h).build(), req.build())).toEqual(want);
  });
});

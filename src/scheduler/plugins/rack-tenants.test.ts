import { describe, expect, it } from 'vitest';
import { host, snapshot, vm } from '../testing/builders.js';
import { filterHost } from '../testing/run-plugin.js';
import { rackTenants } from './rack-tenants.js';

describe('RackTenants filter', () => {
  const refused = { code: 'UnschedulableAndUnresolvable', reasons: ['host(s) not allowed for tenant'] };
  const cases = [
    { name: 'A host whose rack lists no tenants is open to every tenant.', h: host('bm-1'), want: null },
    { name: 'A host whose rack has an empty tenant list is open to every tenant.', h: host('bm-1').allowTenants(), want: null },
    { name: 'A host whose rack lists the tenant passes.', h: host('bm-1').allowTenants('other', 'acme'), want: null },
    { name: 'A host whose rack lists only other tenants is refused.', h: host('bm-1').allowTenants('other'), want: refused },
  ];
  it.each(cases)('$name', ({ h, want }) => {
    expect(filterHost(rackTenants, snapshot().hosts(h).build(), vm('acme/vm').tenant('acme').build())).toEqual(want);
  });
});

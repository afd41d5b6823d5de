import { describe, expect, it } from 'vitest';
import type { HostPhase } from '../types.js';
import { host, snapshot, vm } from '../testing/builders.js';
import { filterHost } from '../testing/run-plugin.js';
import { hostPhase } from './host-phase.js';

describe('HostPhase filter', () => {
  const cases: { name: string; phase: HostPhase; want: string | null }[] = [
    { name: 'A Ready host passes.', phase: 'Ready', want: null },
    { name: 'A host in Maintenance is refused as in maintenance.', phase: 'Maintenance', want: 'host(s) in maintenance' },
    { name: 'An Offline host is refused as offline.', phase: 'Offline', want: 'host(s) offline' },
    { name: 'A host in Error is refused as not ready.', phase: 'Error', want: 'host(s) not ready' },
    { name: 'A host in Unknown phase is refused as not ready.', phase: 'Unknown', want: 'host(s) not ready' },
    { name: 'A phase this build does not know is refused as not ready.', phase: 'Provisioning' as HostPhase, want: 'host(s) not ready' },
  ];
  it.each(cases)('$name', ({ phase, want }) => {
    const got = filterHost(hostPhase, snapshot().hosts(host('bm-1').phase(phase)).build(), vm('a/vm').build());
    expect(got).toEqual(want === null ? null : { code: 'UnschedulableAndUnresolvable', reasons: [want] });
  });
});

import { describe, expect, it } from 'vitest';
import { ReasonCounter, formatReasons, unschedulableMessage } from './diagnosis.js';
import { unresolvable, unschedulable } from './framework.js';

describe('unschedulableMessage', () => {
  const cases = [
    {
      name: 'Reasons are listed by count, highest first.',
      counts: [['Insufficient cpu', 3], ['over tenant quota', 5], ['host(s) in maintenance', 4]] as const,
      total: 12,
      want: '0/12 hosts fit: 5 over tenant quota, 4 host(s) in maintenance, 3 Insufficient cpu',
    },
    {
      name: 'Reasons with the same count are listed in code-point order.',
      counts: [['host(s) offline', 2], ['Insufficient memory', 2], ['Insufficient cpu', 2]] as const,
      total: 6,
      want: '0/6 hosts fit: 2 Insufficient cpu, 2 Insufficient memory, 2 host(s) offline',
    },
    { name: 'An empty inventory says only that nothing fits.', counts: [] as const, total: 0, want: '0/0 hosts fit' },
  ];
  it.each(cases)('$name', ({ counts, total, want }) => {
    expect(unschedulableMessage(total, new Map(counts))).toBe(want);
  });
});

describe('ReasonCounter', () => {
  it('A host counts once for every reason of the status that stopped it.', () => {
    const counter = new ReasonCounter();
    counter.add(unschedulable('Insufficient cpu', 'Insufficient memory'));
    counter.add(unschedulable('Insufficient cpu'));
    expect(formatReasons(counter.counts)).toBe('2 Insufficient cpu, 1 Insufficient memory');
    expect(counter.filteredHosts).toBe(2);
  });

  const codeCases = [
    { name: 'When every host is unresolvable the decision is unresolvable.', statuses: [unresolvable('a'), unresolvable('b')], want: 'UnschedulableAndUnresolvable' },
    { name: 'One resolvable host makes the decision worth retrying.', statuses: [unresolvable('a'), unschedulable('b')], want: 'Unschedulable' },
    { name: 'Any filter error makes the decision an error.', statuses: [unschedulable('a'), { code: 'Error' as const, reasons: ['cannot read'] }], want: 'Error' },
    { name: 'No hosts at all is a plain unschedulable.', statuses: [], want: 'Unschedulable' },
  ];
  it.each(codeCases)('$name', ({ statuses, want }) => {
    const counter = new ReasonCounter();
    for (const s of statuses) counter.add(s);
    expect(counter.code).toBe(want);
  });
});

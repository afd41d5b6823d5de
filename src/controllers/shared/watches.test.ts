import { describe, expect, it } from 'vitest';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import type { InformerEvent } from '../../runtime/informer.js';
import { placed, vm } from '../testing/fixtures.js';
import { placementChanged } from './watches.js';

const updated = (previous: VirtualMachine, object: VirtualMachine): InformerEvent<VirtualMachine> => ({ type: 'updated', previous, object });
const withStatus = (v: VirtualMachine, status: Partial<NonNullable<VirtualMachine['status']>>): VirtualMachine => ({ ...v, status: { ...v.status, ...status } });
const moving = (v: VirtualMachine, target: string): VirtualMachine => withStatus(v, { migration: { state: 'Running', target: { baremetal: target } } });

describe('placementChanged', () => {
  const onA = placed('t', 'vm-1', 'bm-a', 2, '4Gi');
  const cases: { name: string; event: InformerEvent<VirtualMachine>; want: boolean }[] = [
    { name: 'A VM added counts.', event: { type: 'added', object: vm('t', 'vm-1') }, want: true },
    { name: 'A VM removed counts.', event: { type: 'deleted', object: onA }, want: true },
    { name: 'A VM placed on a host counts.', event: updated(vm('t', 'vm-1'), onA), want: true },
    { name: 'A VM whose host changed counts.', event: updated(onA, withStatus(onA, { placement: { baremetal: 'bm-b' } })), want: true },
    { name: 'A VM whose reserved resources changed counts.', event: updated(onA, placed('t', 'vm-1', 'bm-a', 4, '4Gi')), want: true },
    { name: 'A move that starts, reserving its target host, counts.', event: updated(onA, moving(onA, 'bm-b')), want: true },
    { name: 'A lifecycle change (phase, power) does not count.', event: updated(onA, withStatus(onA, { phase: 'Running' })), want: false },
    { name: 'A periodic resync does not count.', event: { type: 'resync', object: onA }, want: false },
  ];
  it.each(cases)('$name', ({ event, want }) => {
    expect(placementChanged(event)).toBe(want);
  });
});

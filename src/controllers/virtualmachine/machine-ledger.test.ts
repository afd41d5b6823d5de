// When the VM controller may decide from a VM's status reports instead of observing its
// machine: a table of what is known, what the status says, and whether that is an answer.
import { describe, expect, it } from 'vitest';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import type { Operation, OperationRef } from '../../providers/external-client.js';
import { MachineLedger } from './machine-ledger.js';

const resyncMs = 30_000;
const activeTrustMs = 5_000;
const vm = (lastOperation?: Partial<Operation>, extra: Partial<NonNullable<VirtualMachine['status']>> = {}, generation = 1): VirtualMachine =>
  ({ metadata: { name: 'web', namespace: 'acme', generation }, spec: {}, status: { ...(lastOperation ? { lastOperation } : {}), ...extra } }) as VirtualMachine;
const op = (type: Operation['type'], state: Operation['state'], id: string): Operation => ({ type, state, id });
const ref = (type: Operation['type'], operationId: string, state: Operation['state'] = 'Running'): OperationRef => ({ type, operationId, state });
const noMachine = { exists: false, upToDate: false, addresses: [] };

interface Case {
  name: string;
  learn: (l: MachineLedger) => void;
  status: VirtualMachine;
  advanceMs?: number;
  /** undefined: observe. */
  want: { exists: boolean; upToDate?: boolean; state?: Operation['state'] } | undefined;
}

const cases: Case[] = [
  { name: 'nothing known: observe', learn: () => {}, status: vm(), want: undefined },
  { name: 'placed, nothing sent: no machine', learn: (l) => l.unbuilt('k'), status: vm(), want: { exists: false } },
  {
    name: 'a create sent, its report not come: still running',
    learn: (l) => l.requested('k', vm(), ref('Create', 'c1'), noMachine, 1),
    status: vm(),
    want: { exists: false, state: 'Running' },
  },
  {
    name: 'a create reported Succeeded: built, at the generation it carried',
    learn: (l) => l.requested('k', vm(), ref('Create', 'c1'), noMachine, 1),
    status: vm(op('Create', 'Succeeded', 'c1'), { powerState: 'On' }),
    want: { exists: true, upToDate: true, state: 'Succeeded' },
  },
  {
    name: 'a create reported Failed: observe',
    learn: (l) => l.requested('k', vm(), ref('Create', 'c1'), noMachine, 1),
    status: vm(op('Create', 'Failed', 'c1')),
    want: undefined,
  },
  {
    name: 'the report of an operation it did not ask for: observe',
    learn: (l) => l.requested('k', vm(), ref('Create', 'c1'), noMachine, 1),
    status: vm(op('Power', 'Succeeded', 'p9')),
    want: undefined,
  },
  {
    name: 'a delete reported Succeeded: no machine',
    learn: (l) => l.requested('k', vm(op('Create', 'Succeeded', 'c1')), ref('Delete', 'd1'), { exists: true, upToDate: true, generation: 1, addresses: [] }),
    status: vm(op('Delete', 'Succeeded', 'd1')),
    want: { exists: false, state: 'Succeeded' },
  },
  {
    name: 'a request answered with the operation the status already shows: observe',
    learn: (l) => l.requested('k', vm(op('Create', 'Running', 'c1')), ref('Create', 'c1'), noMachine, 1),
    status: vm(op('Create', 'Succeeded', 'c1')),
    want: undefined,
  },
  {
    name: 'a request answered as finished: observe',
    learn: (l) => l.requested('k', vm(), ref('Create', 'c1', 'Succeeded'), noMachine, 1),
    status: vm(op('Create', 'Succeeded', 'c1')),
    want: undefined,
  },
  {
    name: 'an update observed running: its success is observed, not guessed',
    learn: (l) => l.observed('k', vm(undefined, {}, 2), { exists: true, upToDate: false, generation: 1, addresses: [], lastOperation: op('Update', 'Running', 'u1') }),
    status: vm(op('Update', 'Succeeded', 'u1'), {}, 2),
    want: undefined,
  },
  {
    name: 'the spec moved on after a report: built, not up to date',
    learn: (l) => l.requested('k', vm(), ref('Create', 'c1'), noMachine, 1),
    status: vm(op('Create', 'Succeeded', 'c1'), {}, 2),
    want: { exists: true, upToDate: false, state: 'Succeeded' },
  },
  {
    name: 'an operation still reported running after the check time (a report lost or sent again late): observe',
    learn: (l) => l.requested('k', vm(), ref('Create', 'c1'), noMachine, 1),
    status: vm(op('Create', 'Running', 'c1')),
    advanceMs: activeTrustMs,
    want: undefined,
  },
  {
    name: 'a request whose report has not come within the check time: observe',
    learn: (l) => l.requested('k', vm(), ref('Create', 'c1'), noMachine, 1),
    status: vm(),
    advanceMs: activeTrustMs,
    want: undefined,
  },
  {
    name: 'a finished operation after the check time, within the resync period: still known',
    learn: (l) => l.requested('k', vm(), ref('Create', 'c1'), noMachine, 1),
    status: vm(op('Create', 'Succeeded', 'c1')),
    advanceMs: activeTrustMs,
    want: { exists: true, state: 'Succeeded' },
  },
  {
    name: 'the resync period gone by since the last report: observe',
    learn: (l) => {
      l.requested('k', vm(), ref('Create', 'c1'), noMachine, 1);
      l.noteReport('k', vm(op('Create', 'Succeeded', 'c1')));
    },
    status: vm(op('Create', 'Succeeded', 'c1')),
    advanceMs: resyncMs,
    want: undefined,
  },
  {
    name: 'a report that took the resync period to arrive: known as of its arrival',
    learn: (l) => l.requested('k', vm(), ref('Create', 'c1'), noMachine, 1),
    status: vm(op('Create', 'Succeeded', 'c1'), { powerState: 'On' }),
    advanceMs: resyncMs,
    want: { exists: true, state: 'Succeeded' },
  },
  {
    name: 'a Running report after the operation check: the operation is believed running again for as long',
    learn: (l) => l.requested('k', vm(), ref('Create', 'c1', 'Pending'), noMachine, 1),
    status: vm(op('Create', 'Running', 'c1')),
    advanceMs: activeTrustMs,
    want: { exists: false, state: 'Running' },
  },
  {
    name: 'a create still shown Running past the operation check: observe',
    learn: (l) => l.requested('k', vm(), ref('Create', 'c1'), noMachine, 1),
    status: vm(op('Create', 'Running', 'c1')),
    advanceMs: activeTrustMs,
    want: undefined,
  },
];

describe('MachineLedger, reports out of order', () => {
  const ledger = () => {
    const l = new MachineLedger({ resyncMs, activeTrustMs, now: () => 0 });
    l.requested('k', vm(op('Create', 'Succeeded', 'c0')), ref('Power', 'p1'), { exists: true, upToDate: true, generation: 1, addresses: [] });
    return l;
  };

  it('observes when a report shows the operation less far along than one already seen', () => {
    const l = ledger();
    expect(l.observation('k', vm(op('Power', 'Succeeded', 'p1')))?.lastOperation?.state).toBe('Succeeded');
    expect(l.observation('k', vm(op('Power', 'Running', 'p1')))).toBeUndefined();
  });

  it('observes when the watch delivered the Succeeded report that no reconcile saw, and a Running one came again after it', () => {
    const l = ledger();
    l.noteReport('k', vm(op('Power', 'Succeeded', 'p1')));
    expect(l.observation('k', vm(op('Power', 'Running', 'p1')))).toBeUndefined();
  });

  it('observes when the operation before comes back after the new one has reported', () => {
    const l = ledger();
    expect(l.observation('k', vm(op('Create', 'Succeeded', 'c0')))?.lastOperation).toEqual({ type: 'Power', id: 'p1', state: 'Running' });
    expect(l.observation('k', vm(op('Power', 'Running', 'p1')))?.lastOperation?.state).toBe('Running');
    expect(l.observation('k', vm(op('Create', 'Succeeded', 'c0')))).toBeUndefined();
  });
});

describe('MachineLedger', () => {
  it.each(cases)('$name', ({ learn, status, advanceMs, want }) => {
    let now = 1_000;
    const ledger = new MachineLedger({ resyncMs, activeTrustMs, now: () => now });
    learn(ledger);
    now += advanceMs ?? 0;
    const got = ledger.observation('k', status);
    expect(got && { exists: got.exists, ...(want?.upToDate !== undefined ? { upToDate: got.upToDate } : {}), ...(want?.state ? { state: got.lastOperation?.state } : {}) }).toEqual(want);
  });

  it('forgets a VM', () => {
    const ledger = new MachineLedger({ resyncMs, activeTrustMs, now: () => 0 });
    ledger.unbuilt('k');
    ledger.forget('k');
    expect(ledger.observation('k', vm())).toBeUndefined();
  });
});

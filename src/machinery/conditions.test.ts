import { describe, expect, it } from 'vitest';
import {
  type Condition,
  formatConditionTime,
  getCondition,
  isConditionFalse,
  isConditionTrue,
  removeCondition,
  setCondition,
} from './conditions.js';

const T0 = '2024-05-01T10:00:00Z';
const T1 = new Date('2024-05-01T11:30:00.123Z');

const ready = (status: Condition['status'], extra: Partial<Condition> = {}): Condition => ({
  type: 'Ready',
  status,
  lastTransitionTime: T0,
  reason: 'Provisioned',
  message: 'the machine is running',
  ...extra,
});

describe('setCondition', () => {
  const cases: { name: string; before: Condition[] | undefined; update: Parameters<typeof setCondition>[1]; want: Condition[] }[] = [
    {
      name: 'a new condition is appended with the current time',
      before: undefined,
      update: { type: 'Ready', status: 'False', reason: 'Pending', message: 'waiting' },
      want: [{ type: 'Ready', status: 'False', lastTransitionTime: '2024-05-01T11:30:00Z', reason: 'Pending', message: 'waiting' }],
    },
    {
      name: 'an unchanged status keeps the last transition time while reason and message change',
      before: [ready('True')],
      update: { type: 'Ready', status: 'True', reason: 'Resized', message: 'now 4 cpus', observedGeneration: 3 },
      want: [ready('True', { reason: 'Resized', message: 'now 4 cpus', observedGeneration: 3 })],
    },
    {
      name: 'a changed status moves the last transition time to now',
      before: [ready('True')],
      update: { type: 'Ready', status: 'False', reason: 'HostDown', message: 'host offline' },
      want: [ready('False', { reason: 'HostDown', message: 'host offline', lastTransitionTime: '2024-05-01T11:30:00Z' })],
    },
    {
      name: 'a changed status takes a transition time the caller supplies',
      before: [ready('True')],
      update: { type: 'Ready', status: 'Unknown', reason: 'Lost', message: '', lastTransitionTime: '2024-05-01T11:00:00Z' },
      want: [ready('Unknown', { reason: 'Lost', message: '', lastTransitionTime: '2024-05-01T11:00:00Z' })],
    },
    {
      name: 'other conditions keep their place and content',
      before: [{ ...ready('True'), type: 'Synced' }, ready('True')],
      update: { type: 'Ready', status: 'False', reason: 'HostDown', message: 'x' },
      want: [{ ...ready('True'), type: 'Synced' }, ready('False', { reason: 'HostDown', message: 'x', lastTransitionTime: '2024-05-01T11:30:00Z' })],
    },
  ];
  it.each(cases)('$name', ({ before, update, want }) => {
    const snapshot = structuredClone(before);
    expect(setCondition(before, update, T1)).toEqual(want);
    expect(before).toEqual(snapshot);
  });

  it('returns the same array when nothing changed, so callers can skip a status write', () => {
    const before = [ready('True')];
    const after = setCondition(before, { type: 'Ready', status: 'True', reason: 'Provisioned', message: 'the machine is running' }, T1);
    expect(after).toBe(before);
  });

  it('returns a new array when something changed', () => {
    const before = [ready('True')];
    expect(setCondition(before, { type: 'Ready', status: 'True', reason: 'Provisioned', message: 'new' }, T1)).not.toBe(before);
  });
});

describe('condition queries', () => {
  const list = [ready('True'), { ...ready('False'), type: 'Synced' }];
  const cases: { name: string; run: () => unknown; want: unknown }[] = [
    { name: 'getCondition finds a condition by type', run: () => getCondition(list, 'Synced')?.status, want: 'False' },
    { name: 'getCondition answers undefined for a missing type', run: () => getCondition(list, 'Nope'), want: undefined },
    { name: 'getCondition tolerates an absent list', run: () => getCondition(undefined, 'Ready'), want: undefined },
    { name: 'isConditionTrue is true for a True condition', run: () => isConditionTrue(list, 'Ready'), want: true },
    { name: 'isConditionTrue is false for a False condition', run: () => isConditionTrue(list, 'Synced'), want: false },
    { name: 'isConditionTrue is false for a missing condition', run: () => isConditionTrue(list, 'Nope'), want: false },
    { name: 'isConditionFalse is true only for a False condition', run: () => [isConditionFalse(list, 'Synced'), isConditionFalse(list, 'Nope')], want: [true, false] },
    { name: 'removeCondition drops the condition of that type', run: () => removeCondition(list, 'Ready').map((c) => c.type), want: ['Synced'] },
    { name: 'formatConditionTime drops fractional seconds', run: () => formatConditionTime(T1), want: '2024-05-01T11:30:00Z' },
  ];
  it.each(cases)('$name', ({ run, want }) => {
    expect(run()).toEqual(want);
  });

  it('removeCondition returns the same array when the type is absent', () => {
    expect(removeCondition(list, 'Nope')).toBe(list);
  });

  it('formatConditionTime refuses an invalid date', () => {
    expect(() => formatConditionTime('not a date')).toThrow('invalid condition time');
  });
});

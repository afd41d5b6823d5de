import { describe, expect, it } from 'vitest';
import { planGroup, resolveIntOrPercent, type GroupGoal, type Member } from './rollout.js';

const node = (name: string, version: string, opts: Partial<Member> = {}): Member => ({
  name,
  version,
  createdAt: Number(name.replace(/\D/g, '')),
  ready: true,
  failed: false,
  removing: false,
  ...opts,
});
const goal = (g: Partial<GroupGoal> = {}): GroupGoal => ({ replicas: 3, version: 'v2', maxSurge: 1, maxUnavailable: 0, deletePolicy: 'Newest', ...g });

describe('planGroup', () => {
  it.each([
    { reason: 'An empty group creates every replica at once.', members: [], goal: goal(), want: { create: 3, remove: [] } },
    {
      reason: 'A group at its size and version does nothing.',
      members: [node('n1', 'v2'), node('n2', 'v2'), node('n3', 'v2')],
      goal: goal(),
      want: { create: 0, remove: [] },
    },
    {
      reason: 'Scaling down removes the newest first under deletePolicy Newest.',
      members: [node('n1', 'v2'), node('n2', 'v2'), node('n3', 'v2')],
      goal: goal({ replicas: 1 }),
      want: { create: 0, remove: ['n3', 'n2'] },
    },
    {
      reason: 'Scaling down removes the oldest first under deletePolicy Oldest.',
      members: [node('n1', 'v2'), node('n2', 'v2'), node('n3', 'v2')],
      goal: goal({ replicas: 2, deletePolicy: 'Oldest' }),
      want: { create: 0, remove: ['n1'] },
    },
    {
      reason: 'Scaling down takes a node that is not Ready before a Ready one.',
      members: [node('n1', 'v2'), node('n2', 'v2', { ready: false }), node('n3', 'v2')],
      goal: goal({ replicas: 2 }),
      want: { create: 0, remove: ['n2'] },
    },
    {
      reason: 'Nodes already leaving are not counted, so their replacements are created.',
      members: [node('n1', 'v2'), node('n2', 'v2', { removing: true })],
      goal: goal({ replicas: 2 }),
      want: { create: 1, remove: [] },
    },
    {
      reason: 'A failed node is removed and replaced.',
      members: [node('n1', 'v2'), node('n2', 'v2', { failed: true, ready: false })],
      goal: goal({ replicas: 2 }),
      want: { create: 1, remove: ['n2'] },
    },
    {
      reason: 'An upgrade with maxSurge 1 and maxUnavailable 0 first adds one new node and removes none.',
      members: [node('n1', 'v1'), node('n2', 'v1'), node('n3', 'v1')],
      goal: goal(),
      want: { create: 1, remove: [] },
    },
    {
      reason: 'While the new node is not Ready, nothing else moves.',
      members: [node('n1', 'v1'), node('n2', 'v1'), node('n3', 'v1'), node('n4', 'v2', { ready: false })],
      goal: goal(),
      want: { create: 0, remove: [] },
    },
    {
      reason: 'Once the new node is Ready, the oldest outdated one is drained.',
      members: [node('n1', 'v1'), node('n2', 'v1'), node('n3', 'v1'), node('n4', 'v2')],
      goal: goal(),
      want: { create: 0, remove: ['n1'] },
    },
    {
      reason: 'maxSurge 2 adds two new nodes at once.',
      members: [node('n1', 'v1'), node('n2', 'v1'), node('n3', 'v1')],
      goal: goal({ maxSurge: 2 }),
      want: { create: 2, remove: [] },
    },
    {
      reason: 'maxUnavailable 1 with no surge drains one outdated node before anything is added.',
      members: [node('n1', 'v1'), node('n2', 'v1'), node('n3', 'v1')],
      goal: goal({ maxSurge: 0, maxUnavailable: 1 }),
      want: { create: 0, remove: ['n1'] },
    },
    {
      reason: 'Both zero would never move, so one node may be unavailable, as for Deployments.',
      members: [node('n1', 'v1'), node('n2', 'v1')],
      goal: goal({ replicas: 2, maxSurge: 0, maxUnavailable: 0 }),
      want: { create: 0, remove: ['n1'] },
    },
    {
      reason: 'An outdated node that is not Ready goes at once: it costs no availability.',
      members: [node('n1', 'v1', { ready: false }), node('n2', 'v1'), node('n3', 'v1')],
      goal: goal(),
      want: { create: 1, remove: ['n1'] },
    },
  ])('$reason', ({ members, goal, want }) => {
    expect(planGroup(members, goal)).toEqual(want);
  });
});

describe('resolveIntOrPercent', () => {
  it.each([
    { reason: 'A count is taken as it is.', value: 2, want: 2 },
    { reason: 'Absent takes the fallback.', value: undefined, want: 7 },
    { reason: 'A percent rounds up for a surge.', value: '25%', up: true, want: 2 },
    { reason: 'A percent rounds down for unavailability.', value: '25%', up: false, want: 1 },
  ])('$reason', ({ value, up, want }) => {
    expect(resolveIntOrPercent(value, 5, 7, up ?? true)).toBe(want);
  });
});

import { describe, expect, it } from 'vitest';
import type { K8sCluster } from '../../kinds/k8scluster.js';
import type { K8sNodePool } from '../../kinds/k8snodepool.js';
import type { Member } from './rollout.js';
import {
  clusterUpgradable,
  controlPlaneTarget,
  durationMs,
  followerTarget,
  nextUpgrade,
  poolUpgradable,
  targetOf,
  upgradingCondition,
  type UpgradeStatus,
} from './upgrade.js';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const node = (name: string, version: string, opts: Partial<Member> = {}): Member => ({
  name, version, createdAt: NOW - 1000, ready: true, failed: false, removing: false, ...opts,
});
const cluster = (spec: string, status: { version?: string; upgrade?: UpgradeStatus } = {}): K8sCluster =>
  ({ metadata: { name: 'c', namespace: 'n' }, spec: { version: spec, upgrade: { healthTimeout: '60s' } }, status }) as K8sCluster;
const progressing: UpgradeStatus = { from: 'v1.30.2', to: 'v1.31.0', state: 'Progressing', startedAt: '2026-01-01T00:00:00Z', step: 'control plane' };
const cp = (members: Member[]) => ({ name: 'control plane', members, replicas: members.filter((m) => !m.removing).length || 1, target: (u?: UpgradeStatus) => (u?.state === 'RollingBack' ? u.from! : 'v1.31.0') });

describe('nextUpgrade', () => {
  it('does not start while the cluster is being built', () => {
    expect(nextUpgrade({ subject: clusterUpgradable(cluster('v1.31.0')), now: NOW, groups: [] })).toEqual({ upgrade: undefined });
  });

  it('starts when spec.version moves past the version the control plane runs, with an Event', () => {
    const step = nextUpgrade({ subject: clusterUpgradable(cluster('v1.31.0', { version: 'v1.30.2' })), now: NOW, groups: [] });
    expect(step.upgrade).toMatchObject({ from: 'v1.30.2', to: 'v1.31.0', state: 'Progressing', startedAt: '2026-01-01T00:10:00Z' });
    expect(step.event?.[1]).toBe('UpgradeStarted');
  });

  it('rolls back when a new node fails to join', () => {
    const c = cluster('v1.31.0', { version: 'v1.30.2', upgrade: progressing });
    const step = nextUpgrade({ subject: clusterUpgradable(c), now: NOW, groups: [cp([node('a', 'v1.30.2'), node('b', 'v1.31.0', { ready: false, failed: true })])] });
    expect(step.upgrade).toMatchObject({ state: 'RollingBack', message: 'node b (v1.31.0) failed to join' });
    expect(step.event?.slice(0, 2)).toEqual(['Warning', 'UpgradeRollingBack']);
  });

  it('rolls back when a new node is not Ready within healthTimeout', () => {
    const c = cluster('v1.31.0', { version: 'v1.30.2', upgrade: progressing });
    const late = node('b', 'v1.31.0', { ready: false, createdAt: NOW - 61_000 });
    expect(nextUpgrade({ subject: clusterUpgradable(c), now: NOW, groups: [cp([node('a', 'v1.30.2'), late])] }).upgrade?.state).toBe('RollingBack');
    const young = node('b', 'v1.31.0', { ready: false, createdAt: NOW - 59_000 });
    expect(nextUpgrade({ subject: clusterUpgradable(c), now: NOW, groups: [cp([node('a', 'v1.30.2'), young])] }).upgrade?.state).toBe('Progressing');
  });

  it('succeeds once every group runs the new version, Ready', () => {
    const c = cluster('v1.31.0', { version: 'v1.31.0', upgrade: progressing });
    const step = nextUpgrade({ subject: clusterUpgradable(c), now: NOW, groups: [cp([node('a', 'v1.31.0')])] });
    expect(step.upgrade?.state).toBe('Succeeded');
    expect(step.event?.[1]).toBe('UpgradeSucceeded');
  });

  it('ends RolledBack once every group is back, and does not try the same version again', () => {
    const back: UpgradeStatus = { ...progressing, state: 'RollingBack', message: 'x' };
    const c = cluster('v1.31.0', { version: 'v1.30.2', upgrade: back });
    const step = nextUpgrade({ subject: clusterUpgradable(c), now: NOW, groups: [cp([node('a', 'v1.30.2')])] });
    expect(step.upgrade?.state).toBe('RolledBack');
    const after = cluster('v1.31.0', { version: 'v1.30.2', upgrade: step.upgrade });
    expect(nextUpgrade({ subject: clusterUpgradable(after), now: NOW, groups: [] })).toEqual({ upgrade: step.upgrade });
    expect(controlPlaneTarget(after, step.upgrade)).toBe('v1.30.2');
  });

  it('keeps the pools at the old version until the control plane is done', () => {
    const c = cluster('v1.31.0', { version: 'v1.30.2', upgrade: progressing });
    expect(followerTarget(c, progressing, [node('a', 'v1.31.0'), node('b', 'v1.30.2')], 2)).toBe('v1.30.2');
    expect(followerTarget(c, progressing, [node('a', 'v1.31.0'), node('b', 'v1.31.0')], 2)).toBe('v1.31.0');
  });

  it('reads durations as kubectl writes them', () => {
    expect([durationMs('90s'), durationMs('10m'), durationMs('1h'), durationMs(undefined)]).toEqual([90_000, 600_000, 3_600_000, 600_000]);
  });
});

describe('a pool with a version of its own', () => {
  const pool = (version: string, status: { version?: string; upgrade?: UpgradeStatus } = {}) =>
    ({ metadata: { name: 'web', namespace: 'n' }, spec: { cluster: 'c', specification: 's', version, strategy: { maxSurge: 2 } }, status }) as K8sNodePool;
  const web = (members: Member[], version: string) => ({ name: 'pool web', members, replicas: 2, target: (u?: UpgradeStatus) => targetOf(version, u) });
  const owner = cluster('v1.31.0', { version: 'v1.31.0' });

  it('starts from the version its nodes run, saying how it rolls', () => {
    const step = nextUpgrade({ subject: poolUpgradable(pool('v1.31.0', { version: 'v1.30.2' }), 'v1.31.0', owner), now: NOW, groups: [web([node('a', 'v1.30.2'), node('b', 'v1.30.2')], 'v1.31.0')] });
    expect(step.upgrade).toMatchObject({ from: 'v1.30.2', to: 'v1.31.0', state: 'Progressing', step: 'pool web' });
    expect(step.event).toEqual(['Normal', 'UpgradeStarted', 'Upgrading from v1.30.2 to v1.31.0: pool web by itself, maxSurge 2 and maxUnavailable 0.']);
  });

  it('rolls back within the cluster\'s healthTimeout, aiming at the old version until every node is back', () => {
    const u: UpgradeStatus = { ...progressing, to: 'v1.31.0' };
    const p = pool('v1.31.0', { upgrade: u });
    const late = node('c', 'v1.31.0', { ready: false, createdAt: NOW - 61_000 });
    const step = nextUpgrade({ subject: poolUpgradable(p, 'v1.31.0', owner), now: NOW, groups: [web([node('a', 'v1.30.2'), node('b', 'v1.30.2'), late], 'v1.31.0')] });
    expect(step.upgrade).toMatchObject({ state: 'RollingBack', message: 'node c (v1.31.0) was not Ready within 60s' });
    expect(targetOf('v1.31.0', step.upgrade)).toBe('v1.30.2');
    const back = nextUpgrade({ subject: poolUpgradable(pool('v1.31.0', { upgrade: step.upgrade }), 'v1.31.0', owner), now: NOW, groups: [web([node('a', 'v1.30.2'), node('b', 'v1.30.2')], 'v1.31.0')] });
    expect(back.upgrade?.state).toBe('RolledBack');
    expect(back.event?.slice(0, 2)).toEqual(['Warning', 'UpgradeRolledBack']);
  });

  it('a new version while one is in flight starts over from where that one started', () => {
    const p = pool('v1.31.1', { upgrade: { ...progressing, to: 'v1.31.0' } });
    const step = nextUpgrade({ subject: poolUpgradable(p, 'v1.31.1', owner), now: NOW, groups: [web([node('a', 'v1.31.0'), node('b', 'v1.30.2')], 'v1.31.1')] });
    expect(step.upgrade).toMatchObject({ from: 'v1.30.2', to: 'v1.31.1', state: 'Progressing' });
  });
});

describe('upgradingCondition', () => {
  it('is True while an upgrade is in flight, False once it ended, and absent before the first', () => {
    expect(upgradingCondition(progressing, undefined)).toEqual([{ type: 'Upgrading', status: 'True', reason: 'Progressing', message: 'v1.30.2 -> v1.31.0: control plane' }]);
    expect(upgradingCondition({ ...progressing, state: 'RolledBack', step: 'done', message: 'm' }, undefined)[0]).toMatchObject({ status: 'False', reason: 'RolledBack', message: 'v1.30.2 -> v1.31.0: done; m' });
    expect(upgradingCondition(undefined, [])).toEqual([]);
    expect(upgradingCondition(undefined, [{ type: 'Upgrading' }])[0]).toMatchObject({ status: 'False', reason: 'NoUpgrade' });
  });
});

import { describe, expect, it } from 'vitest';
import type { K8sCluster } from '../../kinds/k8scluster.js';
import type { Member } from './rollout.js';
import { controlPlaneTarget, durationMs, followerTarget, nextUpgrade, type UpgradeStatus } from './upgrade.js';

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
    expect(nextUpgrade({ cluster: cluster('v1.31.0'), now: NOW, groups: [], controlPlaneVersion: undefined })).toEqual({ upgrade: undefined });
  });

  it('starts when spec.version moves past the version the control plane runs, with an Event', () => {
    const step = nextUpgrade({ cluster: cluster('v1.31.0', { version: 'v1.30.2' }), now: NOW, groups: [], controlPlaneVersion: 'v1.30.2' });
    expect(step.upgrade).toMatchObject({ from: 'v1.30.2', to: 'v1.31.0', state: 'Progressing', startedAt: '2026-01-01T00:10:00Z' });
    expect(step.event?.[1]).toBe('UpgradeStarted');
  });

  it('rolls back when a new node fails to join', () => {
    const c = cluster('v1.31.0', { version: 'v1.30.2', upgrade: progressing });
    const step = nextUpgrade({ cluster: c, now: NOW, controlPlaneVersion: 'v1.30.2', groups: [cp([node('a', 'v1.30.2'), node('b', 'v1.31.0', { ready: false, failed: true })])] });
    expect(step.upgrade).toMatchObject({ state: 'RollingBack', message: 'node b (v1.31.0) failed to join' });
    expect(step.event?.slice(0, 2)).toEqual(['Warning', 'UpgradeRollingBack']);
  });

  it('rolls back when a new node is not Ready within healthTimeout', () => {
    const c = cluster('v1.31.0', { version: 'v1.30.2', upgrade: progressing });
    const late = node('b', 'v1.31.0', { ready: false, createdAt: NOW - 61_000 });
    expect(nextUpgrade({ cluster: c, now: NOW, controlPlaneVersion: 'v1.30.2', groups: [cp([node('a', 'v1.30.2'), late])] }).upgrade?.state).toBe('RollingBack');
    const young = node('b', 'v1.31.0', { ready: false, createdAt: NOW - 59_000 });
    expect(nextUpgrade({ cluster: c, now: NOW, controlPlaneVersion: 'v1.30.2', groups: [cp([node('a', 'v1.30.2'), young])] }).upgrade?.state).toBe('Progressing');
  });

  it('succeeds once every group runs the new version, Ready', () => {
    const c = cluster('v1.31.0', { version: 'v1.31.0', upgrade: progressing });
    const step = nextUpgrade({ cluster: c, now: NOW, controlPlaneVersion: 'v1.31.0', groups: [cp([node('a', 'v1.31.0')])] });
    expect(step.upgrade?.state).toBe('Succeeded');
    expect(step.event?.[1]).toBe('UpgradeSucceeded');
  });

  it('ends RolledBack once every group is back, and does not try the same version again', () => {
    const back: UpgradeStatus = { ...progressing, state: 'RollingBack', message: 'x' };
    const c = cluster('v1.31.0', { version: 'v1.30.2', upgrade: back });
    const step = nextUpgrade({ cluster: c, now: NOW, controlPlaneVersion: 'v1.30.2', groups: [cp([node('a', 'v1.30.2')])] });
    expect(step.upgrade?.state).toBe('RolledBack');
    const after = cluster('v1.31.0', { version: 'v1.30.2', upgrade: step.upgrade });
    expect(nextUpgrade({ cluster: after, now: NOW, controlPlaneVersion: 'v1.30.2', groups: [] })).toEqual({ upgrade: step.upgrade });
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

// The rolling upgrade of a cluster as a pure state machine over status.upgrade: when one
// starts, which version each group of nodes aims at, and when it succeeds or rolls back.
// The control plane goes first; the pools that follow the cluster's version go once every
// control-plane node runs the new one. A replaced node that fails, or is not Ready within
// spec.upgrade.healthTimeout, turns the rollout around: every group aims at the old version
// again (the same rolling replacement, backwards), and the upgrade ends RolledBack.
import type { K8sCluster, K8sClusterStatus } from '../../kinds/k8scluster.js';
import type { Member } from './rollout.js';

export type UpgradeStatus = NonNullable<K8sClusterStatus['upgrade']>;

export const upgradeReasons = {
  started: 'UpgradeStarted',
  succeeded: 'UpgradeSucceeded',
  rollingBack: 'UpgradeRollingBack',
  rolledBack: 'UpgradeRolledBack',
} as const;

/** 90s, 10m, 1h -> ms; default 10 minutes. */
export function durationMs(text: string | undefined): number {
  const m = /^(\d+)(s|m|h)$/.exec(text ?? '');
  if (!m) return 10 * 60_000;
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
}

/** Is the upgrade to the cluster's spec.version over and turned back (no new attempt until the version changes). */
function turnedBack(cluster: K8sCluster): UpgradeStatus | undefined {
  const u = cluster.status?.upgrade;
  return u && u.to === cluster.spec.version && (u.state === 'RollingBack' || u.state === 'RolledBack' || u.state === 'Failed') ? u : undefined;
}

/** The version the control plane aims at now. */
export function controlPlaneTarget(cluster: K8sCluster, upgrade: UpgradeStatus | undefined): string {
  if (upgrade && upgrade.to === cluster.spec.version && (upgrade.state === 'RollingBack' || upgrade.state === 'RolledBack') && upgrade.from) return upgrade.from;
  return cluster.spec.version;
}

/** The version a pool that follows the cluster (no spec.version of its own) aims at now. */
export function followerTarget(cluster: K8sCluster, upgrade: UpgradeStatus | undefined, controlPlane: Member[], replicas: number): string {
  if (!upgrade || upgrade.to !== cluster.spec.version || !upgrade.from) return cluster.status?.version ?? cluster.spec.version;
  if (upgrade.state === 'RollingBack' || upgrade.state === 'RolledBack') return upgrade.from;
  if (upgrade.state === 'Progressing') return groupAt(controlPlane, upgrade.to, replicas) ? upgrade.to : upgrade.from;
  return cluster.spec.version;
}

/** Every member runs `version`, is Ready, and there are `replicas` of them, none leaving. */
export function groupAt(members: Member[], version: string, replicas: number): boolean {
  const active = members.filter((m) => !m.removing);
  return members.every((m) => !m.removing) && active.length === replicas && active.every((m) => m.version === version && m.ready);
}

export interface UpgradeInput {
  cluster: K8sCluster;
  now: number;
  /** Every group that takes part: the control plane and the pools following the cluster. */
  groups: { name: string; members: Member[]; replicas: number; target: (u: UpgradeStatus | undefined) => string }[];
  /** The version every control-plane node runs, if they agree. */
  controlPlaneVersion: string | undefined;
}

export interface UpgradeStep {
  upgrade: UpgradeStatus | undefined;
  /** An Event to record: [type, reason, message]. */
  event?: ['Normal' | 'Warning', string, string];
}

/** The next status.upgrade. */
export function nextUpgrade(input: UpgradeInput): UpgradeStep {
  const { cluster, now } = input;
  const u = cluster.status?.upgrade;
  const running = cluster.status?.version;
  const to = cluster.spec.version;
  const stamp = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
  if (!u || u.to !== to) {
    // A new upgrade starts only from a cluster that has run a version (a build is not one).
    if (!running || running === to || turnedBack(cluster)) return { upgrade: u };
    return {
      upgrade: { from: running, to, state: 'Progressing', startedAt: stamp, step: 'control plane' },
      event: ['Normal', upgradeReasons.started, `Upgrading from ${running} to ${to}: control plane first, one node at a time, then the node pools.`],
    };
  }
  if (u.state === 'Progressing') {
    const timeout = durationMs(cluster.spec.upgrade?.healthTimeout);
    for (const g of input.groups) {
      for (const m of g.members) {
        if (m.removing || m.version !== to || m.ready) continue;
        const late = now - m.createdAt > timeout;
        if (m.failed || late) {
          const why = m.failed ? `node ${m.name} (${to}) failed to join` : `node ${m.name} (${to}) was not Ready within ${cluster.spec.upgrade?.healthTimeout ?? '10m'}`;
          return {
            upgrade: { ...u, state: 'RollingBack', step: `rolling back to ${u.from}`, message: why },
            event: ['Warning', upgradeReasons.rollingBack, `Upgrade to ${to} stopped: ${why}; rolling back to ${u.from}.`],
          };
        }
      }
    }
    if (input.groups.every((g) => groupAt(g.members, g.target(u), g.replicas) && g.target(u) === to)) {
      return { upgrade: { ...u, state: 'Succeeded', step: 'done' }, event: ['Normal', upgradeReasons.succeeded, `Upgraded from ${u.from} to ${to}.`] };
    }
    return { upgrade: { ...u, step: describeStep(input, u) } };
  }
  if (u.state === 'RollingBack' && input.groups.every((g) => groupAt(g.members, g.target(u), g.replicas))) {
    return {
      upgrade: { ...u, state: 'RolledBack', step: 'done' },
      event: ['Warning', upgradeReasons.rolledBack, `Rolled back to ${u.from}: ${u.message ?? 'the upgrade failed'}. Set spec.version to another version to try again.`],
    };
  }
  return { upgrade: u.state === 'RollingBack' ? { ...u, step: describeStep(input, u) } : u };
}

function describeStep(input: UpgradeInput, u: UpgradeStatus): string {
  for (const g of input.groups) {
    const target = g.target(u);
    if (groupAt(g.members, target, g.replicas)) continue;
    const done = g.members.filter((m) => !m.removing && m.version === target && m.ready).length;
    const joining = g.members.filter((m) => !m.removing && m.version === target && !m.ready).map((m) => m.name);
    const leaving = g.members.filter((m) => m.removing).map((m) => m.name);
    const parts = [`${g.name} ${done}/${g.replicas} at ${target}`];
    if (joining.length) parts.push(`joining ${joining.join(', ')}`);
    if (leaving.length) parts.push(`draining ${leaving.join(', ')}`);
    return parts.join('; ');
  }
  return 'finishing';
}

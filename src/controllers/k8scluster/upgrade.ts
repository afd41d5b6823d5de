// The rolling upgrade of a cluster, or of one node pool that has its own version, as a pure
// state machine over status.upgrade: when one starts, which version each group of nodes aims
// at, and when it succeeds or rolls back. In a cluster the control plane goes first; the
// pools that follow the cluster's version go once every control-plane node runs the new
// one. A replaced node that fails, or is not Ready within spec.upgrade.healthTimeout, turns
// the rollout around: every group aims at the old version again (the same rolling
// replacement, backwards), and the upgrade ends RolledBack.
import type { K8sCluster, K8sClusterStatus } from '../../kinds/k8scluster.js';
import type { K8sNodePool } from '../../kinds/k8snodepool.js';
import type { Member } from './rollout.js';
import type { Cond } from '../shared/context.js';

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

/** What is upgraded: a cluster (its control plane and following pools), or a pool with its own version. */
export interface Upgradable {
  /** spec.version. */
  wanted: string;
  /** The version every node runs now (status.version); absent while they differ. */
  running: string | undefined;
  upgrade: UpgradeStatus | undefined;
  /** spec.upgrade.healthTimeout of the cluster. */
  healthTimeout: string | undefined;
  /** How the rollout goes, for the UpgradeStarted Event. */
  order: string;
}

export function clusterUpgradable(cluster: K8sCluster): Upgradable {
  return {
    wanted: cluster.spec.version,
    running: cluster.status?.version,
    upgrade: cluster.status?.upgrade,
    healthTimeout: cluster.spec.upgrade?.healthTimeout,
    order: 'control plane first, one node at a time, then the node pools',
  };
}

/** A pool with a version of its own (`version`, its spec.version) rolls by itself, with the cluster's healthTimeout. */
export function poolUpgradable(pool: K8sNodePool, version: string, cluster: K8sCluster): Upgradable {
  return {
    wanted: version,
    running: pool.status?.version,
    upgrade: pool.status?.upgrade,
    healthTimeout: cluster.spec.upgrade?.healthTimeout,
    order: `pool ${pool.metadata.name} by itself, maxSurge ${pool.spec.strategy?.maxSurge ?? 1} and maxUnavailable ${pool.spec.strategy?.maxUnavailable ?? 0}`,
  };
}

export const inFlight = (u: UpgradeStatus | undefined): boolean => u?.state === 'Progressing' || u?.state === 'RollingBack';

/** Is the upgrade to `wanted` over and turned back (no new attempt until the version changes). */
function turnedBack(wanted: string, u: UpgradeStatus | undefined): boolean {
  return !!u && u.to === wanted && (u.state === 'RollingBack' || u.state === 'RolledBack' || u.state === 'Failed');
}

/** The version the nodes of an upgradable thing aim at now: the old one while rolling back. */
export function targetOf(wanted: string, upgrade: UpgradeStatus | undefined): string {
  if (upgrade && upgrade.to === wanted && (upgrade.state === 'RollingBack' || upgrade.state === 'RolledBack') && upgrade.from) return upgrade.from;
  return wanted;
}

/** The version the control plane aims at now. */
export function controlPlaneTarget(cluster: K8sCluster, upgrade: UpgradeStatus | undefined): string {
  return targetOf(cluster.spec.version, upgrade);
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
  subject: Upgradable;
  now: number;
  /** Every group that takes part: the control plane and the pools following the cluster, or one pool. */
  groups: { name: string; members: Member[]; replicas: number; target: (u: UpgradeStatus | undefined) => string }[];
}

export interface UpgradeStep {
  upgrade: UpgradeStatus | undefined;
  /** An Event to record: [type, reason, message]. */
  event?: ['Normal' | 'Warning', string, string];
}

/** The next status.upgrade. */
export function nextUpgrade(input: UpgradeInput): UpgradeStep {
  const { subject, now } = input;
  const u = subject.upgrade;
  const to = subject.wanted;
  const stamp = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
  if (!u || u.to !== to) {
    // A new upgrade starts only from nodes that have run a version (a build is not one); one
    // that replaces an upgrade still in flight starts from where that one started.
    const from = subject.running ?? (inFlight(u) ? u!.from : undefined);
    if (!from || from === to || turnedBack(to, u)) return { upgrade: u };
    return {
      upgrade: { from, to, state: 'Progressing', startedAt: stamp, step: input.groups[0]?.name ?? 'starting' },
      event: ['Normal', upgradeReasons.started, `Upgrading from ${from} to ${to}: ${subject.order}.`],
    };
  }
  if (u.state === 'Progressing') {
    const timeout = durationMs(subject.healthTimeout);
    for (const g of input.groups) {
      for (const m of g.members) {
        if (m.removing || m.version !== to || m.ready) continue;
        const late = now - m.createdAt > timeout;
        if (m.failed || late) {
          const why = m.failed ? `node ${m.name} (${to}) failed to join` : `node ${m.name} (${to}) was not Ready within ${subject.healthTimeout ?? '10m'}`;
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

/**
 * The Upgrading condition that status.upgrade tells; none before the first upgrade, and
 * False (NoUpgrade) once a pool that had its own upgrade follows its cluster again.
 */
export function upgradingCondition(u: UpgradeStatus | undefined, current: readonly { type: string }[] | undefined): Cond[] {
  if (!u) {
    if (!current?.some((c) => c.type === 'Upgrading')) return [];
    return [{ type: 'Upgrading', status: 'False', reason: 'NoUpgrade', message: 'No upgrade of its own: the nodes follow the cluster\'s version.' }];
  }
  return [
    {
      type: 'Upgrading',
      status: inFlight(u) ? 'True' : 'False',
      reason: u.state!,
      message: u.message ? `${u.from} -> ${u.to}: ${u.step}; ${u.message}` : `${u.from} -> ${u.to}: ${u.step}`,
    },
  ];
}

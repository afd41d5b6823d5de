// What a group of nodes (the control plane, or one node pool) should do next, as a pure
// function: create how many VMs, and which to drain and remove. One rule covers building,
// scaling and rolling upgrades, as a Deployment's does: nodes at the target version are
// kept up to `replicas`; nodes at another version are replaced, at most `maxSurge` above
// `replicas` and never more than `maxUnavailable` Ready nodes below it.

export interface Member {
  name: string;
  version: string;
  /** creationTimestamp in ms: deletePolicy orders by it. */
  createdAt: number;
  /** The K8s Cluster Service reports the node Ready. */
  ready: boolean;
  /** The node cannot join (the service reports it Failed): it is replaced. */
  failed: boolean;
  /** Already chosen for removal (draining, or its VM being deleted). */
  removing: boolean;
}

export interface GroupPlan {
  create: number;
  remove: string[];
}

export interface GroupGoal {
  replicas: number;
  version: string;
  maxSurge: number;
  maxUnavailable: number;
  deletePolicy: 'Oldest' | 'Newest';
}

/** A count or a percent of `total` (maxSurge rounds up, maxUnavailable down, as Deployments do). */
export function resolveIntOrPercent(value: string | number | undefined, total: number, fallback: number, roundUp: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  if (!m) return Number.isFinite(Number(value)) ? Number(value) : fallback;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function planGroup(members: Member[], goal: GroupGoal): GroupPlan {
  // Both zero would never move: as for Deployments, one node may then be unavailable.
  const maxUnavailable = goal.maxSurge === 0 && goal.maxUnavailable === 0 ? 1 : goal.maxUnavailable;
  const active = members.filter((m) => !m.removing);
  const failed = active.filter((m) => m.failed);
  const healthy = active.filter((m) => !m.failed);
  const current = healthy.filter((m) => m.version === goal.version);
  const outdated = healthy.filter((m) => m.version !== goal.version);
  const remove = failed.map((m) => m.name);
  if (outdated.length === 0) {
    if (current.length > goal.replicas) remove.push(...pickForRemoval(current, current.length - goal.replicas, goal.deletePolicy));
    return { create: Math.max(0, goal.replicas - current.length), remove };
  }
  const create = Math.max(0, Math.min(goal.replicas - current.length, goal.replicas + goal.maxSurge - healthy.length));
  const readyNow = healthy.filter((m) => m.ready).length;
  let mayTakeReady = readyNow - (goal.replicas - maxUnavailable);
  // Outdated nodes that are not Ready cost no availability: they go first.
  for (const m of outdated.filter((m) => !m.ready)) remove.push(m.name);
  for (const m of pickForRemoval(outdated.filter((m) => m.ready), outdated.length, 'Oldest')) {
    if (mayTakeReady <= 0) break;
    // Never below the replicas at the target version that are Ready, plus what may be missing.
    remove.push(m);
    mayTakeReady--;
  }
  // Excess current nodes (scaled down during a rollout) go as well.
  const excess = current.length - goal.replicas;
  if (excess > 0) remove.push(...pickForRemoval(current, excess, goal.deletePolicy));
  return { create, remove };
}

/** Not-Ready nodes first, then by deletePolicy. */
function pickForRemoval(members: Member[], n: number, policy: 'Oldest' | 'Newest'): string[] {
  const sorted = [...members].sort(
    (a, b) => Number(a.ready) - Number(b.ready) || (policy === 'Oldest' ? a.createdAt - b.createdAt : b.createdAt - a.createdAt) || a.name.localeCompare(b.name),
  );
  return sorted.slice(0, n).map((m) => m.name);
}

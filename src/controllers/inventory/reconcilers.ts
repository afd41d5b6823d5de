// Status of the inventory kinds: data centers, racks, bare-metal hosts and their groups.
import type { Baremetal } from '../../kinds/baremetal.js';
import type { Rack } from '../../kinds/rack.js';
import { beyondRack, hostUnitProblems, rackHeight, unitOverlaps, unitRange } from '../../kinds/rack-units.js';
import type { Reconciler } from '../../runtime/reconciler.js';
import { keyString } from '../../runtime/keys.js';
import { ready, referencesCondition, type ControllerContext, type Cond } from '../shared/context.js';
import { Kinds } from '../shared/resources-of-kinds.js';
import { subtractFloor0, toAmounts } from '../shared/resources.js';
import { statusReconciler } from '../shared/status-reconciler.js';
import { currentHostPhase, groupTotals, hostAllocatable, hostAllocated, hostCapacity, hostLocation } from '../shared/accounting.js';
import { freeCapacityLabels } from './free-capacity.js';

export const TOPOLOGY_LABELS = {
  region: 'topology.virtflow.io/region',
  datacenter: 'topology.virtflow.io/datacenter',
  rack: 'topology.virtflow.io/rack',
} as const;

export function datacenterReconciler(ctx: ControllerContext): Reconciler {
  return statusReconciler(ctx, Kinds.Datacenter, () => ctx.listers.datacenters, (dc) => {
    const racks = ctx.listers.racks.byIndex('byDatacenter', dc.metadata.name!);
    const baremetals = racks.reduce((n, r) => n + ctx.listers.hosts.byIndex('byRack', r.metadata.name!).length, 0);
    return {
      fields: { racks: racks.length, baremetals },
      conditions: [ready(true, 'Observed', `${racks.length} rack(s), ${baremetals} bare-metal host(s).`)],
    };
  });
}

export function rackReconciler(ctx: ControllerContext): Reconciler {
  return statusReconciler(ctx, Kinds.Rack, () => ctx.listers.racks, (rack: Rack) => {
    const missing = ctx.listers.datacenters.get(rack.spec.datacenter) ? [] : [`Datacenter "${rack.spec.datacenter}"`];
    const hosts = ctx.listers.hosts.byIndex('byRack', rack.metadata.name!);
    const usedUnits = hosts.reduce((n, h) => n + (h.spec.unit !== undefined ? (h.spec.heightUnits ?? 1) : 0), 0);
    const overlaps = unitOverlaps(hosts);
    const height = rackHeight(rack);
    const beyond = hosts.flatMap((h) => {
      const range = unitRange(h);
      const problem = range && beyondRack(range, rack);
      return problem ? [problem] : [];
    });
    const problems = [...overlaps, ...beyond];
    return {
      fields: { usedUnits, baremetals: hosts.length },
      conditions: [
        referencesCondition(missing),
        problems.length === 0
          ? { type: 'UnitsConsistent', status: 'True', reason: 'NoOverlap', message: `${usedUnits} of ${height} units used.` }
          : { type: 'UnitsConsistent', status: 'False', reason: 'UnitsOverlap', message: problems.join('; ') },
        ready(missing.length === 0 && problems.length === 0, missing.length ? 'MissingReferences' : problems.length ? 'UnitsOverlap' : 'Observed', missing.length ? `Waiting for ${missing.join(', ')}.` : problems.length ? problems.join('; ') : 'The rack is consistent.'),
      ],
    };
  });
}

export function baremetalReconciler(ctx: ControllerContext): Reconciler {
  const observe = statusReconciler(ctx, Kinds.Baremetal, () => ctx.listers.hosts, (host: Baremetal) => {
    const { location, missing } = hostLocation(host, ctx.listers);
    if (host.spec.group && !ctx.listers.groups.get(host.spec.group)) missing.push(`BaremetalGroup "${host.spec.group}"`);
    const phase = currentHostPhase(host, ctx.listers);
    const { allocated, count } = hostAllocated(host.metadata.name!, ctx.listers);
    const free = subtractFloor0(hostAllocatable(host, ctx.listers), allocated);
    const physicalFree = subtractFloor0(hostCapacity(host), allocated);
    return {
      fields: { phase, location, allocated: toAmounts(allocated), free: toAmounts(free), physicalFree: toAmounts(physicalFree), virtualMachines: count },
      conditions: [
        referencesCondition(missing),
        unitsCondition(host, ctx),
        ready(phase === 'Ready', phase === 'Ready' ? 'Available' : `Host${phase}`, phase === 'Ready' ? 'The host takes virtual machines.' : `The host is ${phase} and takes no new virtual machines.`),
      ],
    };
  });
  return {
    async reconcile(rc, key) {
      const host = ctx.listers.hosts.get(keyString(key));
      // A status write after a label patch would carry the version the patch replaced and
      // fail with 409: the patch's own event brings the host back for its status.
      if (host && !host.metadata.deletionTimestamp && (await syncHostLabels(ctx, host))) return {};
      return observe.reconcile(rc, key);
    },
  };
}

/** Whether the host's units lie inside its rack and clear of the rack's other hosts. */
function unitsCondition(host: Baremetal, ctx: ControllerContext): Cond {
  const rack = ctx.listers.racks.get(host.spec.rack);
  if (unitRange(host) === undefined) return { type: 'UnitsConsistent', status: 'True', reason: 'NoUnit', message: 'The host has no rack unit set.' };
  if (!rack) return { type: 'UnitsConsistent', status: 'Unknown', reason: 'RackMissing', message: `Waiting for Rack "${host.spec.rack}" to check the host's units.` };
  const problems = hostUnitProblems(host, rack, ctx.listers.hosts.byIndex('byRack', host.spec.rack));
  return problems.length === 0
    ? { type: 'UnitsConsistent', status: 'True', reason: 'NoOverlap', message: `Units ${host.spec.unit}-${unitRange(host)!.to} of rack ${host.spec.rack}.` }
    : { type: 'UnitsConsistent', status: 'False', reason: 'UnitsOverlap', message: problems.join('; ') };
}

/**
 * The topology labels make hosts selectable by region, data center and rack; the free-capacity
 * labels by what can still be placed on them (free-capacity.ts). True if patched.
 */
async function syncHostLabels(ctx: ControllerContext, host: Baremetal): Promise<boolean> {
  const { location } = hostLocation(host, ctx.listers);
  const free = subtractFloor0(hostAllocatable(host, ctx.listers), hostAllocated(host.metadata.name!, ctx.listers).allocated);
  const wanted: Record<string, string | null> = {
    [TOPOLOGY_LABELS.region]: location.region ?? null,
    [TOPOLOGY_LABELS.datacenter]: location.datacenter ?? null,
    [TOPOLOGY_LABELS.rack]: location.rack ?? null,
    ...freeCapacityLabels(free),
  };
  const labels = host.metadata.labels ?? {};
  const patch: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(wanted)) {
    if ((labels[k] ?? null) !== v) patch[k] = v;
  }
  if (Object.keys(patch).length === 0) return false;
  await ctx.client.patch(Kinds.Baremetal, { name: host.metadata.name! }, 'merge', { metadata: { labels: patch } });
  return true;
}

export function baremetalGroupReconciler(ctx: ControllerContext): Reconciler {
  return statusReconciler(ctx, Kinds.BaremetalGroup, () => ctx.listers.groups, (group) => {
    const totals = groupTotals(group, ctx.listers);
    return {
      fields: {
        baremetals: totals.baremetals,
        capacity: toAmounts(totals.capacity),
        allocatable: toAmounts(totals.allocatable),
        allocated: toAmounts(totals.allocated),
        tenants: totals.tenants,
      },
      conditions: [ready(true, 'Observed', `${totals.baremetals} host(s); ${totals.allocated.cpu} of ${totals.allocatable.cpu} allocatable cores reserved.`)],
    };
  });
}

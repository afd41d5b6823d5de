// What the overview and inventory show, aggregated in memory from the informers' caches:
// capacity, allocation and free per region, data center, group and tenant; VMs by phase;
// and what is failing now. Pure functions over plain objects (no DOM), so the 10,000-VM
// estate is one pass per kind.
import type { Baremetal } from '../../src/kinds/baremetal.js';
import type { BaremetalGroup } from '../../src/kinds/baremetalgroup.js';
import type { ExternalController } from '../../src/kinds/externalcontroller.js';
import type { TenantQuota } from '../../src/kinds/tenantquota.js';
import type { VirtualMachine } from '../../src/kinds/virtualmachine.js';
import type { KubeObject } from '../../src/machinery/object.js';
import { fromAmounts, zero, addResources } from '../../src/controllers/shared/resources.js';
import type { Resources } from '../../src/scheduler/types.js';
import { conditionsOf } from './resources.js';

export type { Resources };
export const resourceKeys = ['cpu', 'memory', 'storage', 'gpu'] as const;
export type ResourceKey = (typeof resourceKeys)[number];

/** Quantities as the API wrote them; a malformed one counts as nothing rather than breaking a page. */
export function amounts(value: unknown): Resources {
  try {
    return fromAmounts(value as Record<string, unknown> | undefined);
  } catch {
    return zero();
  }
}

export interface Usage {
  /** What can be placed (capacity x overcommit), or a quota's limit. */
  total: Resources;
  /** Reserved by VMs. */
  used: Resources;
}

function addInto(map: Map<string, Usage>, key: string, total: Resources, used: Resources): void {
  const u = map.get(key) ?? { total: zero(), used: zero() };
  u.total = addResources(u.total, total);
  u.used = addResources(u.used, used);
  map.set(key, u);
}

/** A host's allocatable (allocated + free, as its status says) and allocated. */
export function hostUsage(host: Baremetal): Usage {
  const used = amounts(host.status?.allocated);
  const free = amounts(host.status?.free);
  // Before the controller's first status, the capacity is the best figure there is.
  const total = host.status?.free ? addResources(used, free) : amounts(host.spec.capacity);
  return { total, used };
}

export interface CapacityBreakdown {
  byRegion: Map<string, Usage>;
  byDatacenter: Map<string, Usage>;
  byGroup: Map<string, Usage>;
  /** Per tenant: its quota limits and their use, summed over groups. */
  byTenant: Map<string, Usage>;
  estate: Usage;
}

export function capacityBreakdown(hosts: Iterable<Baremetal>, groups: Iterable<BaremetalGroup>, quotas: Iterable<TenantQuota>): CapacityBreakdown {
  const byRegion = new Map<string, Usage>();
  const byDatacenter = new Map<string, Usage>();
  const byGroup = new Map<string, Usage>();
  const byTenant = new Map<string, Usage>();
  let estate: Usage = { total: zero(), used: zero() };
  for (const host of hosts) {
    if (host.spec.state === 'Retired') continue;
    const u = hostUsage(host);
    const loc = host.status?.location ?? {};
    addInto(byRegion, loc.region ?? '?', u.total, u.used);
    addInto(byDatacenter, loc.datacenter ?? '?', u.total, u.used);
    estate = { total: addResources(estate.total, u.total), used: addResources(estate.used, u.used) };
  }
  for (const group of groups) {
    addInto(byGroup, group.metadata.name!, amounts(group.status?.allocatable), amounts(group.status?.allocated));
  }
  for (const quota of quotas) {
    addInto(byTenant, quota.spec.tenant, amounts(quota.status?.limits), amounts(quota.status?.used));
  }
  return { byRegion, byDatacenter, byGroup, byTenant, estate };
}

export const vmPhases = ['Pending', 'Scheduling', 'Unschedulable', 'Provisioning', 'Starting', 'Running', 'Stopping', 'Stopped', 'Restarting', 'Terminating', 'Failed'] as const;

export function vmsByPhase(vms: Iterable<VirtualMachine>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const vm of vms) {
    const phase = vm.status?.phase ?? 'Pending';
    counts.set(phase, (counts.get(phase) ?? 0) + 1);
  }
  return counts;
}

/**
 * The scheduler's reasons in an Unschedulable message ("0/6 hosts fit: 3 Insufficient cpu,
 * 2 host(s) in maintenance"), as reason -> hosts.
 */
export function parseReasons(message: string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  const colon = message?.indexOf(': ') ?? -1;
  if (!message || colon < 0) return counts;
  for (const part of message.slice(colon + 2).split(', ')) {
    const m = /^(\d+) (.+)$/.exec(part.trim());
    if (m) counts.set(m[2]!, (counts.get(m[2]!) ?? 0) + Number(m[1]));
  }
  return counts;
}

export interface UnschedulableSummary {
  vms: VirtualMachine[];
  /** reason -> hosts, summed over the VMs. */
  reasons: Map<string, number>;
}

export function unschedulable(vms: Iterable<VirtualMachine>): UnschedulableSummary {
  const out: VirtualMachine[] = [];
  const reasons = new Map<string, number>();
  for (const vm of vms) {
    if (vm.status?.phase !== 'Unschedulable') continue;
    out.push(vm);
    const scheduled = conditionsOf(vm).find((c) => c.type === 'Scheduled');
    for (const [r, n] of parseReasons(scheduled?.message)) reasons.set(r, (reasons.get(r) ?? 0) + n);
  }
  return { vms: out, reasons };
}

export interface FalseCondition {
  kind: string;
  type: string;
  reason: string;
  /** How many objects have it, and a few of them to name. */
  count: number;
  examples: { key: string; message?: string }[];
}

/**
 * Conditions with status False, grouped by kind, type and reason so that thousands of VMs
 * waiting for the same thing read as one line. VMs that are Unschedulable are reported
 * on their own, and a VM that is stopped on purpose is not failing.
 */
export function falseConditions(objects: Iterable<KubeObject>): FalseCondition[] {
  const groups = new Map<string, FalseCondition>();
  for (const obj of objects) {
    const phase = (obj.status as { phase?: string } | undefined)?.phase;
    if (obj.kind === 'VirtualMachine' && (phase === 'Unschedulable' || phase === 'Stopped')) continue;
    for (const c of conditionsOf(obj)) {
      if (c.status !== 'False') continue;
      const id = `${obj.kind}\u0000${c.type}\u0000${c.reason ?? ''}`;
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { kind: obj.kind, type: c.type, reason: c.reason ?? '', count: 0, examples: [] }));
      g.count++;
      if (g.examples.length < 3) g.examples.push({ key: obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name!, message: c.message });
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind));
}

export function unreachableControllers(controllers: Iterable<ExternalController>): ExternalController[] {
  return [...controllers].filter((xc) => xc.status?.reachable === false);
}

export interface QuotaPressure {
  quota: TenantQuota;
  resource: ResourceKey;
  used: number;
  limit: number;
  fraction: number;
}

/** Quotas at or above `threshold` of a limit on some resource, fullest first. */
export function quotasUnderPressure(quotas: Iterable<TenantQuota>, threshold = 0.9): QuotaPressure[] {
  const out: QuotaPressure[] = [];
  for (const quota of quotas) {
    const limits = amounts(quota.status?.limits);
    const used = amounts(quota.status?.used);
    const stated = (quota.status?.limits ?? {}) as Record<string, unknown>;
    for (const r of resourceKeys) {
      if (stated[r] === undefined) continue;
      const fraction = limits[r] > 0 ? used[r] / limits[r] : used[r] > 0 ? Infinity : 0;
      if (fraction >= threshold && (limits[r] > 0 || used[r] > 0)) out.push({ quota, resource: r, used: used[r], limit: limits[r], fraction });
    }
  }
  return out.sort((a, b) => b.fraction - a.fraction);
}

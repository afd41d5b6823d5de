// Derived inventory state: where a host is, whether it can take VMs, what is allocated on it,
// group totals and quota usage. Everything is recomputed from the caches (VMs' placements are
// the only record of a reservation), so the figures can never drift from the VMs themselves.
import type { Baremetal } from '../../kinds/baremetal.js';
import { migrationTarget } from '../drain/reservation.js';
import type { BaremetalGroup } from '../../kinds/baremetalgroup.js';
import type { TenantQuota } from '../../kinds/tenantquota.js';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import type { Resources } from '../../scheduler/types.js';
import type { Listers } from './listers.js';
import {
  addResources,
  allocatableOf,
  fromAmounts,
  overcommitOf,
  resolveLimit,
  subtractFloor0,
  zero,
} from './resources.js';
import { tenantNamespace } from '../../kinds/tenant.js';

export type HostPhase = 'Ready' | 'Maintenance' | 'Offline' | 'Error' | 'Unknown';

export interface HostLocation {
  region?: string;
  building?: string;
  phase?: string;
  datacenter?: string;
  room?: string;
  rack?: string;
  unit?: number;
}

/** Where a host is, from its rack and the rack's data center; names what is missing. */
export function hostLocation(host: Baremetal, listers: Listers): { location: HostLocation; missing: string[] } {
  const missing: string[] = [];
  const location: HostLocation = { rack: host.spec.rack };
  if (host.spec.unit !== undefined) location.unit = host.spec.unit;
  const rack = listers.racks.get(host.spec.rack);
  if (!rack) {
    missing.push(`Rack "${host.spec.rack}"`);
    return { location, missing };
  }
  location.datacenter = rack.spec.datacenter;
  if (rack.spec.room) location.room = rack.spec.room;
  const dc = listers.datacenters.get(rack.spec.datacenter);
  if (!dc) {
    missing.push(`Datacenter "${rack.spec.datacenter}"`);
    return { location, missing };
  }
  location.region = dc.spec.region;
  if (dc.spec.building) location.building = dc.spec.building;
  if (dc.spec.phase) location.phase = dc.spec.phase;
  return { location, missing };
}

/**
 * The operator's intent, as a phase: only an Available host whose location is known, in a
 * rack that is Active, is Ready. A rack in maintenance (or retired) takes its hosts with it.
 */
export function hostPhase(host: Baremetal, locationKnown: boolean, rackState?: string): HostPhase {
  switch (host.spec.state ?? 'Available') {
    case 'Available':
      if (rackState === 'Maintenance') return 'Maintenance';
      if (rackState === 'Retired') return 'Offline';
      return locationKnown ? 'Ready' : 'Unknown';
    case 'Maintenance':
      return 'Maintenance';
    case 'Offline':
    case 'Retired':
      return 'Offline';
    default:
      return 'Unknown';
  }
}

// Parsed amounts per cached object. Informer caches replace an object on every change and
// never modify one, so an amounts object parsed once stays right for as long as it lives;
// without this, every group and quota figure re-parsed the quantity strings of every VM.
const parsed = new WeakMap<object, Readonly<Resources>>();
const noResources: Readonly<Resources> = Object.freeze(zero());

function parsedAmounts(amounts: object | undefined): Readonly<Resources> {
  if (!amounts) return noResources;
  let r = parsed.get(amounts);
  if (!r) {
    r = Object.freeze(fromAmounts(amounts as Record<string, unknown>));
    parsed.set(amounts, r);
  }
  return r;
}

const reservations = new WeakMap<object, { flavor: object | undefined; reserved: Readonly<Resources> }>();

/**
 * What a placed VM reserves. status.resources is written when it is placed, but a status
 * can be written by others (an external controller, an administrator): it is never trusted
 * below what the VM's specification (flavor) asks, whose amounts cannot change while a VM
 * uses it. So a status set to zero still counts the flavor's cores on the host and quota.
 */
export function reservedBy(vm: VirtualMachine, listers: Pick<Listers, 'specifications'>): Readonly<Resources> {
  const flavor = listers.specifications.get(vm.spec.specification)?.spec;
  const cached = reservations.get(vm);
  if (cached && cached.flavor === flavor) return cached.reserved;
  const written = parsedAmounts(vm.status?.resources);
  const asked = parsedAmounts(flavor);
  const reserved = Object.freeze({
    cpu: Math.max(written.cpu, asked.cpu),
    memory: Math.max(written.memory, asked.memory),
    storage: Math.max(written.storage, asked.storage),
    gpu: Math.max(written.gpu, asked.gpu),
  });
  reservations.set(vm, { flavor, reserved });
  return reserved;
}

/** The reservation a VM's status should show, when what it shows is less (tampered or stale). */
export function understatedReservation(vm: VirtualMachine, listers: Pick<Listers, 'specifications'>): Readonly<Resources> | undefined {
  const written = parsedAmounts(vm.status?.resources);
  const reserved = reservedBy(vm, listers);
  const understated = (['cpu', 'memory', 'storage', 'gpu'] as const).some((r) => written[r] < reserved[r]);
  return understated ? reserved : undefined;
}

/** A host's raw capacity, as numbers. */
export function hostCapacity(host: Baremetal): Readonly<Resources> {
  return parsedAmounts(host.spec.capacity);
}

export function vmsOnHost(host: string, listers: Listers): VirtualMachine[] {
  return listers.vms.byIndex('byHost', host);
}

export function hostAllocated(host: string, listers: Listers): { allocated: Resources; count: number } {
  let allocated = zero();
  const vms = vmsOnHost(host, listers);
  for (const vm of vms) allocated = addResources(allocated, reservedBy(vm, listers));
  return { allocated, count: vms.length };
}

export function hostAllocatable(host: Baremetal, listers: Listers): Resources {
  const group = host.spec.group ? listers.groups.get(host.spec.group) : undefined;
  return allocatableOf(hostCapacity(host), overcommitOf(group?.spec));
}

/**
 * A host's phase, recomputed rather than read from its (maybe stale) status. The location
 * is known when its rack and the rack's data center exist (hostLocation's "nothing
 * missing"), checked without building the location: group and quota figures ask this for
 * every host of a group.
 */
export function currentHostPhase(host: Baremetal, listers: Listers): HostPhase {
  const rack = listers.racks.get(host.spec.rack);
  const locationKnown = rack !== undefined && listers.datacenters.get(rack.spec.datacenter) !== undefined;
  return hostPhase(host, locationKnown, rack?.spec.state);
}

export interface GroupTotals {
  baremetals: number;
  capacity: Resources;
  allocatable: Resources;
  allocated: Resources;
  tenants: string[];
}

/** A group's capacity (its Ready hosts) and allocatable (x overcommit): what percent quotas
 *  resolve against. Reads only hosts, so it stays cheap however many VMs there are. */
export function groupCapacity(group: BaremetalGroup, listers: Listers): { baremetals: number; capacity: Resources; allocatable: Resources } {
  // Summed in place: every quota's status asks for its group's figures, over every host.
  const capacity = zero();
  const hosts = listers.hosts.byIndex('byGroup', group.metadata.name!);
  for (const host of hosts) {
    if (currentHostPhase(host, listers) !== 'Ready') continue;
    const c = hostCapacity(host);
    capacity.cpu += c.cpu;
    capacity.memory += c.memory;
    capacity.storage += c.storage;
    capacity.gpu += c.gpu;
  }
  return { baremetals: hosts.length, capacity, allocatable: allocatableOf(capacity, overcommitOf(group.spec)) };
}

/** A group's totals over its Ready hosts (capacity) and all its hosts (allocated). */
export function groupTotals(group: BaremetalGroup, listers: Listers): GroupTotals {
  const { baremetals, capacity, allocatable } = groupCapacity(group, listers);
  let allocated = zero();
  for (const host of listers.hosts.byIndex('byGroup', group.metadata.name!)) {
    allocated = addResources(allocated, hostAllocated(host.metadata.name!, listers).allocated);
  }
  const tenants = [...new Set(listers.quotas.byIndex('byGroup', group.metadata.name!).map((q) => q.spec.tenant))].sort();
  return { baremetals, capacity, allocatable, allocated, tenants };
}

/** The tenant owning a VM: the tenant whose namespace it lives in. */
export function tenantOfNamespace(namespace: string, listers: Listers): string | undefined {
  return listers.tenants.byIndex('byNamespace', namespace)[0]?.metadata.name;
}

/** The group a placed VM counts against: its host's group. */
export function accountingGroup(vm: VirtualMachine, listers: Listers): string | undefined {
  const host = vm.status?.placement?.baremetal;
  if (!host) return undefined;
  return listers.hosts.get(host)?.spec.group ?? vm.spec.group;
}

export interface QuotaUsage {
  limits: Partial<Resources>;
  used: Resources;
  remaining: Partial<Resources>;
  virtualMachines: number;
  missing: string[];
}

export function tenantNamespaceOf(tenantName: string, listers: Listers): string | undefined {
  const tenant = listers.tenants.get(tenantName);
  if (!tenant) return undefined;
  return tenantNamespace(tenant);
}

/** Limits resolved against the group's allocatable, and what the tenant's VMs use there. */
export function quotaUsage(quota: TenantQuota, listers: Listers): QuotaUsage {
  const missing: string[] = [];
  const group = listers.groups.get(quota.spec.group);
  if (!group) missing.push(`BaremetalGroup "${quota.spec.group}"`);
  const namespace = tenantNamespaceOf(quota.spec.tenant, listers);
  if (namespace === undefined) missing.push(`Tenant "${quota.spec.tenant}"`);
  const allocatable = group ? groupCapacity(group, listers).allocatable : zero();
  const limits: Partial<Resources> = {};
  for (const r of ['cpu', 'memory', 'storage'] as const) {
    const value = resolveLimit((quota.spec.limits as Record<string, unknown>)[r], r, allocatable);
    if (value !== undefined) limits[r] = value;
  }
  let used = zero();
  let count = 0;
  if (namespace !== undefined) {
    for (const vm of listers.vms.list(namespace)) {
      const target = migrationTarget(vm);
      // A VM being moved counts twice while its move's target is in the quota's group.
      if (target && listers.hosts.get(target)?.spec.group === quota.spec.group) used = addResources(used, reservedBy(vm, listers));
      if (accountingGroup(vm, listers) !== quota.spec.group) continue;
      used = addResources(used, reservedBy(vm, listers));
      count++;
    }
  }
  const remaining: Partial<Resources> = {};
  for (const [r, limit] of Object.entries(limits) as [keyof Resources, number][]) {
    remaining[r] = subtractFloor0({ ...zero(), [r]: limit }, { ...zero(), [r]: used[r] })[r];
  }
  return { limits, used, remaining, virtualMachines: count, missing };
}

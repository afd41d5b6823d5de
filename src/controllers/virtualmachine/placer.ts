// Placement decisions with an assume cache, as kube-scheduler makes them: a decision and its
// reservation in the working snapshot happen in one synchronous step, so no two VMs can be
// promised the same capacity or quota in this process, whatever the number of workers. The
// reservation becomes durable when the VM's status.placement is written; until the informer
// shows that write, the assumption stays in the snapshot.
// The snapshot is built from the caches once and then kept current: a decision assumes its
// placement into it, and a placed VM that goes away (or an assumption given back) is
// released from it. It is rebuilt only when what it is built from changes in a way a delta
// cannot express: an inventory spec, a VM's reserved resources, a spread key's members.
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import { schedule, WorkingSnapshot, type ScheduleResult } from '../../scheduler/index.js';
import type { GroupInfo, HostInfo, PlacementRequest, QuotaInfo, Resources, Snapshot, SpreadUsage } from '../../scheduler/types.js';
import {
  accountingGroup,
  groupCapacity,
  hostCapacity,
  hostLocation,
  hostPhase,
  reservedBy,
  tenantNamespaceOf,
  tenantOfNamespace,
} from '../shared/accounting.js';
import type { Listers } from '../shared/listers.js';
import { migrationTarget } from '../drain/reservation.js';
import { addResources, overcommitOf, resolveLimit, zero } from '../shared/resources.js';
import { tenantNamespace } from '../../kinds/tenant.js';

interface Assumption {
  host: string;
  request: PlacementRequest;
  /**
   * Set when the write of the decision failed without saying whether it landed (a timeout,
   * a dropped connection): the VM's resourceVersion the write was made from. The capacity
   * stays taken until the VM shows the placement, or shows a newer version without it.
   */
  uncertainFrom?: string;
}

/** The key a VM's move (drain) is placed and assumed under, beside the VM's own. */
export const migrationKey = (key: string): string => `${key}#migrate`;

export class Placer {
  private working?: WorkingSnapshot;
  private readonly assumed = new Map<string, Assumption>();

  constructor(private readonly listers: Listers) {}

  /** Something the snapshot is built from changed: rebuild before the next decision. */
  invalidate(): void {
    this.working = undefined;
  }

  /**
   * Called for every VM event. A VM whose placement the cache now shows no longer needs its
   * assumption (the rebuilt snapshot counts it); any other change in placed VMs invalidates.
   */
  observeVm(key: string, vm: VirtualMachine | undefined, previous: VirtualMachine | undefined): void {
    const placedNow = vm?.status?.placement?.baremetal;
    const placedBefore = previous?.status?.placement?.baremetal;
    this.observeMigration(key, vm, previous);
    const assumption = this.assumed.get(key);
    if (assumption && placedNow === assumption.host) {
      this.assumed.delete(key);
      return;
    }
    // A VM gone before its placement showed up: its assumption goes with it.
    if (vm === undefined && assumption) {
      this.assumed.delete(key);
      return this.release(assumption.request.tenant, assumption.request.resources, assumption.host, assumption.request.spreadKey);
    }
    // A newer version without the placement: the uncertain write did not land (it carried
    // the older version as a precondition, so it never can).
    if (assumption?.uncertainFrom !== undefined && vm && vm.metadata.resourceVersion !== assumption.uncertainFrom) {
      this.assumed.delete(key);
      this.invalidate();
      return;
    }
    if (vm === undefined && placedBefore && previous) {
      // A placed VM deleted: its capacity and quota come back.
      return this.release(
        tenantOfNamespace(previous.metadata.namespace ?? '', this.listers),
        reservedBy(previous, this.listers),
        placedBefore,
        previous.spec.placement?.spreadKey,
        accountingGroup(previous, this.listers),
      );
    }
    if (placedNow !== placedBefore) this.invalidate();
    else if (
      placedNow &&
      vm &&
      previous &&
      (JSON.stringify(vm.status?.resources) !== JSON.stringify(previous.status?.resources) ||
        vm.spec.placement?.spreadKey !== previous.spec.placement?.spreadKey)
    ) {
      this.invalidate();
    }
  }

  /**
   * The second reservation of a VM being moved (drain) is assumed under migrationKey(key)
   * until the cache shows it as status.migration.target; a move that starts or ends changes
   * what is reserved where.
   */
  private observeMigration(key: string, vm: VirtualMachine | undefined, previous: VirtualMachine | undefined): void {
    const mkey = migrationKey(key);
    const assumption = this.assumed.get(mkey);
    const targetNow = migrationTarget(vm);
    if (assumption && targetNow === assumption.host) {
      this.assumed.delete(mkey);
      return;
    }
    if (vm === undefined && this.assumed.delete(mkey)) return this.invalidate();
    if (targetNow !== migrationTarget(previous)) this.invalidate();
  }

  /** The write of a decision failed: give the capacity back. */
  forget(key: string): void {
    const assumption = this.assumed.get(key);
    if (!assumption) return;
    this.assumed.delete(key);
    this.release(assumption.request.tenant, assumption.request.resources, assumption.host, assumption.request.spreadKey);
  }

  /**
   * Takes a reservation out of the working snapshot. A spread member cannot be taken out
   * (the snapshot keeps no count per rack), nor a reservation charged to a quota in another
   * group than its host's: those rebuild the snapshot instead.
   */
  private release(tenant: string | undefined, resources: Resources, hostName: string, spreadKey?: string, quotaGroup?: string): void {
    const working = this.working;
    if (!working) return;
    const host = working.host(hostName);
    if (!host || tenant === undefined || spreadKey || (quotaGroup !== undefined && quotaGroup !== host.group)) return this.invalidate();
    working.release({ tenant, resources }, hostName);
  }

  /**
   * The write of a decision failed in a way that does not say whether it landed: keep the
   * capacity taken rather than promise it twice (see Assumption.uncertainFrom).
   */
  markUncertain(key: string, fromResourceVersion: string): void {
    const assumption = this.assumed.get(key);
    if (assumption) assumption.uncertainFrom = fromResourceVersion;
  }

  /**
   * Keys decided onto `host` whose write the cache does not show yet (a move's under
   * migrationKey): a drain must not call the host empty while one may still land there.
   */
  assumedOn(host: string): string[] {
    return [...this.assumed].filter(([, a]) => a.host === host).map(([key]) => key);
  }

  isAssumed(key: string): string | undefined {
    return this.assumed.get(key)?.host;
  }

  /** The host of an assumption whose write may or may not have landed. */
  uncertain(key: string): string | undefined {
    const assumption = this.assumed.get(key);
    return assumption?.uncertainFrom !== undefined ? assumption.host : undefined;
  }

  place(key: string, request: PlacementRequest): ScheduleResult {
    const working = this.snapshot();
    const result = schedule(working, request);
    if (result.ok) {
      working.assume(request, result.host);
      this.assumed.set(key, { host: result.host, request });
    }
    return result;
  }

  private snapshot(): WorkingSnapshot {
    if (this.working) return this.working;
    const built = new WorkingSnapshot(buildSnapshot(this.listers, [...this.assumed.entries()]));
    this.working = built;
    return built;
  }
}

/** The scheduler's view of the inventory: every number resolved, assumptions included. */
export function buildSnapshot(listers: Listers, assumptions: [string, Assumption][] = []): Snapshot {
  const allocated = new Map<string, Resources>();
  const spread: Record<string, { hosts: Set<string>; racks: Set<string>; datacenters: Set<string> }> = {};
  const usedByTenantGroup = new Map<string, Resources>();
  const hostRecord = new Map<string, { rack: string; datacenter: string }>();

  const hosts: HostInfo[] = [];
  for (const host of listers.hosts.list()) {
    const name = host.metadata.name!;
    const { location, missing } = hostLocation(host, listers);
    const rack = listers.racks.get(host.spec.rack);
    hostRecord.set(name, { rack: host.spec.rack, datacenter: location.datacenter ?? '' });
    hosts.push({
      name,
      group: host.spec.group,
      phase: hostPhase(host, missing.length === 0, rack?.spec.state),
      region: location.region ?? '',
      datacenter: location.datacenter ?? '',
      rack: host.spec.rack,
      capacity: hostCapacity(host),
      allocated: zero(),
      allowedTenants: rack?.spec.allowedTenants,
    });
  }
  const tenantByNamespace = new Map<string, string>();
  for (const tenant of listers.tenants.list()) {
    tenantByNamespace.set(tenantNamespace(tenant), tenant.metadata.name!);
  }
  const count = (hostName: string, tenant: string | undefined, group: string | undefined, r: Resources, spreadKey?: string) => {
    allocated.set(hostName, addResources(allocated.get(hostName) ?? zero(), r));
    if (tenant && group) {
      const k = `${tenant}\u0000${group}`;
      usedByTenantGroup.set(k, addResources(usedByTenantGroup.get(k) ?? zero(), r));
    }
    if (spreadKey) {
      const where = hostRecord.get(hostName);
      const entry = (spread[spreadKey] ??= { hosts: new Set(), racks: new Set(), datacenters: new Set() });
      entry.hosts.add(hostName);
      if (where) {
        entry.racks.add(where.rack);
        entry.datacenters.add(where.datacenter);
      }
    }
  };
  const assumedKeys = new Set(assumptions.map(([k]) => k));
  for (const vm of listers.vms.list()) {
    const host = vm.status?.placement?.baremetal;
    const key = `${vm.metadata.namespace}/${vm.metadata.name}`;
    if (!host || assumedKeys.has(key)) continue;
    count(host, tenantByNamespace.get(vm.metadata.namespace ?? ''), accountingGroup(vm, listers), reservedBy(vm, listers), vm.spec.placement?.spreadKey);
    const target = migrationTarget(vm);
    if (target && !assumedKeys.has(migrationKey(key))) {
      count(target, tenantByNamespace.get(vm.metadata.namespace ?? ''), listers.hosts.get(target)?.spec.group ?? vm.spec.group, reservedBy(vm, listers), vm.spec.placement?.spreadKey);
    }
  }
  for (const [, a] of assumptions) {
    const group = listers.hosts.get(a.host)?.spec.group ?? a.request.group;
    count(a.host, a.request.tenant, group, a.request.resources, a.request.spreadKey);
  }
  for (let i = 0; i < hosts.length; i++) {
    const host = hosts[i]!;
    hosts[i] = { ...host, allocated: allocated.get(host.name) ?? zero() };
  }

  const groups: GroupInfo[] = listers.groups.list().map((g) => ({
    name: g.metadata.name!,
    overcommit: overcommitOf(g.spec),
    strategy: g.spec?.strategy ?? 'Binpack',
  }));
  const quotas: QuotaInfo[] = [];
  const allocatableByGroup = new Map<string, Resources>();
  for (const quota of listers.quotas.list()) {
    const group = listers.groups.get(quota.spec.group);
    if (!group || tenantNamespaceOf(quota.spec.tenant, listers) === undefined) continue;
    let allocatable = allocatableByGroup.get(quota.spec.group);
    if (!allocatable) {
      allocatable = groupCapacity(group, listers).allocatable;
      allocatableByGroup.set(quota.spec.group, allocatable);
    }
    const limits: Partial<Resources> = {};
    for (const r of ['cpu', 'memory', 'storage'] as const) {
      const v = resolveLimit((quota.spec.limits as Record<string, unknown>)[r], r, allocatable);
      if (v !== undefined) limits[r] = v;
    }
    quotas.push({
      tenant: quota.spec.tenant,
      group: quota.spec.group,
      limits,
      used: usedByTenantGroup.get(`${quota.spec.tenant}\u0000${quota.spec.group}`) ?? zero(),
    });
  }
  const spreadMembers: Record<string, SpreadUsage> = {};
  for (const [k, v] of Object.entries(spread)) spreadMembers[k] = { hosts: [...v.hosts], racks: [...v.racks], datacenters: [...v.datacenters] };
  return { hosts, groups, quotas, spreadMembers };
}

/** What the scheduler is asked for a VM: its flavor's resources, its tenant and constraints. */
export function placementRequest(key: string, vm: VirtualMachine, resources: PlacementRequest['resources'], tenant: string): PlacementRequest {
  return {
    vm: key,
    tenant,
    group: vm.spec.group,
    pinnedHost: vm.spec.baremetal,
    resources,
    strategy: vm.spec.placement?.strategy,
    regions: vm.spec.placement?.regions as string[] | undefined,
    datacenters: vm.spec.placement?.datacenters,
    racks: vm.spec.placement?.racks,
    spreadAcross: vm.spec.placement?.spreadAcross,
    spreadKey: vm.spec.placement?.spreadKey,
  };
}

// A private, mutable copy of a Snapshot. A batch schedules against it and records each
// decision with assume(), which costs O(1): the copy is made once per batch, never per
// decision. The caller's Snapshot is never touched.

import type { ClusterView, SpreadSets } from './framework.js';
import { addResources, allocatable } from './resources.js';
import type {
  GroupInfo,
  HostInfo,
  PlacementRequest,
  QuotaInfo,
  Resources,
  Snapshot,
  SpreadUsage,
} from './types.js';

interface WorkingHost extends HostInfo {
  readonly allocated: Resources;
  readonly allocatable: Readonly<Resources>;
}

interface WorkingQuota extends QuotaInfo {
  readonly used: Resources;
}

interface WorkingSpread {
  readonly racks: Set<string>;
  readonly datacenters: Set<string>;
}

export class WorkingSnapshot implements ClusterView {
  readonly #hosts: WorkingHost[];
  readonly #hostsByName = new Map<string, WorkingHost>();
  readonly #groups = new Map<string, GroupInfo>();
  // tenant -> group -> quota: two lookups and no key string built per host and decision.
  readonly #quotas = new Map<string, Map<string, WorkingQuota>>();
  readonly #spread = new Map<string, WorkingSpread>();

  constructor(snapshot: Snapshot) {
    for (const g of snapshot.groups) this.#groups.set(g.name, g);
    // Every working host gets the same shape, field by field, so that the filters' property
    // reads stay monomorphic: spreading caller objects of varying shapes made the benchmark
    // several times slower.
    this.#hosts = snapshot.hosts.map((h) => ({
      name: h.name,
      group: h.group,
      phase: h.phase,
      region: h.region,
      datacenter: h.datacenter,
      rack: h.rack,
      capacity: { cpu: h.capacity.cpu, memory: h.capacity.memory, storage: h.capacity.storage, gpu: h.capacity.gpu },
      allocated: { cpu: h.allocated.cpu, memory: h.allocated.memory, storage: h.allocated.storage, gpu: h.allocated.gpu },
      allowedTenants: h.allowedTenants,
      allocatable: allocatable(h.capacity, h.group === undefined ? undefined : this.#groups.get(h.group)),
    }));
    for (const h of this.#hosts) this.#hostsByName.set(h.name, h);
    for (const q of snapshot.quotas) {
      let byGroup = this.#quotas.get(q.tenant);
      if (!byGroup) this.#quotas.set(q.tenant, (byGroup = new Map()));
      byGroup.set(q.group, { ...q, used: { ...q.used } });
    }
    for (const [key, usage] of Object.entries(snapshot.spreadMembers ?? {})) {
      this.#spread.set(key, { racks: new Set(usage.racks), datacenters: new Set(usage.datacenters) });
    }
  }

  get hosts(): readonly HostInfo[] {
    return this.#hosts;
  }

  host(name: string): HostInfo | undefined {
    return this.#hostsByName.get(name);
  }

  groupOf(host: HostInfo): GroupInfo | undefined {
    return host.group === undefined ? undefined : this.#groups.get(host.group);
  }

  allocatableOf(host: HostInfo): Readonly<Resources> {
    // Hosts handed out by this view carry it; any other host is computed on the spot.
    return (host as Partial<WorkingHost>).allocatable ?? allocatable(host.capacity, this.groupOf(host));
  }

  quota(tenant: string, group: string): QuotaInfo | undefined {
    return this.#quotas.get(tenant)?.get(group);
  }

  spread(key: string): SpreadSets | undefined {
    return this.#spread.get(key);
  }

  /**
   * Records that the request now runs on the host: the host's allocation, the tenant's
   * quota usage in the host's group and the spread key's racks and datacenters grow.
   * It does not re-check the filters; schedule() decides, assume() only accounts.
   */
  assume(req: PlacementRequest, hostName: string): this {
    const host = this.#hostsByName.get(hostName);
    if (!host) throw new Error('cannot assume placement: the host is not in the snapshot');
    addResources(host.allocated, req.resources);
    if (host.group !== undefined) {
      const quota = this.#quotas.get(req.tenant)?.get(host.group);
      if (quota) addResources(quota.used, req.resources);
    }
    if (req.spreadKey !== undefined) {
      let members = this.#spread.get(req.spreadKey);
      if (!members) this.#spread.set(req.spreadKey, (members = { racks: new Set(), datacenters: new Set() }));
      // Both are recorded: a later VM with the same key may spread across the other level.
      members.racks.add(host.rack);
      members.datacenters.add(host.datacenter);
    }
    return this;
  }

  /** A plain, independent Snapshot of the current state. */
  toSnapshot(): Snapshot {
    const spreadMembers: Record<string, SpreadUsage> = {};
    for (const [key, s] of this.#spread) {
      spreadMembers[key] = { racks: [...s.racks], datacenters: [...s.datacenters] };
    }
    return {
      hosts: this.#hosts.map(({ allocatable: _cached, ...h }) => ({ ...h, allocated: { ...h.allocated } })),
      groups: [...this.#groups.values()],
      quotas: [...this.#quotas.values()].flatMap((byGroup) =>
        [...byGroup.values()].map((q) => ({ ...q, used: { ...q.used } })),
      ),
      spreadMembers,
    };
  }
}

/** The pure form of WorkingSnapshot.assume: a new Snapshot with the placement recorded. */
export function assume(snapshot: Snapshot, req: PlacementRequest, hostName: string): Snapshot {
  return new WorkingSnapshot(snapshot).assume(req, hostName).toSnapshot();
}

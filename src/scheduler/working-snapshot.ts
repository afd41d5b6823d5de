// A private, mutable copy of a Snapshot. A batch schedules against it and records each
// decision with assume(), which costs O(1): the copy is made once per batch, never per
// decision, and a long-lived copy (the VM controller's) is kept current the same way, by
// assume() and release(), instead of being rebuilt. The caller's Snapshot is never touched.
// Besides the host objects, it keeps the per-host figures the filters and scorers read on
// every decision as typed arrays (HostVectors).

import type { ClusterView, HostVectors, SpreadSets } from './framework.js';
import { addInto, allocatable, subtractFrom } from './resources.js';
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
  readonly hosts: Set<string>;
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
  readonly #vectors: HostVectors;
  readonly #indexByName = new Map<string, number>();
  /** Scratch space of one decision (candidates and their scores): schedule() is synchronous. */
  readonly scratch: { readonly candidates: Int32Array; readonly scores: Float64Array };

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
    this.#vectors = this.#buildVectors();
    this.scratch = { candidates: new Int32Array(this.#hosts.length), scores: new Float64Array(this.#hosts.length) };
    for (const q of snapshot.quotas) {
      let byGroup = this.#quotas.get(q.tenant);
      if (!byGroup) this.#quotas.set(q.tenant, (byGroup = new Map()));
      byGroup.set(q.group, { ...q, used: { ...q.used } });
    }
    for (const [key, usage] of Object.entries(snapshot.spreadMembers ?? {})) {
      this.#spread.set(key, { hosts: new Set(usage.hosts ?? []), racks: new Set(usage.racks), datacenters: new Set(usage.datacenters) });
    }
  }

  #buildVectors(): HostVectors {
    const n = this.#hosts.length;
    const f64 = () => new Float64Array(n);
    const v = {
      allocatableCpu: f64(),
      allocatableMemory: f64(),
      allocatableStorage: f64(),
      gpuCapacity: f64(),
      allocatedCpu: f64(),
      allocatedMemory: f64(),
      allocatedStorage: f64(),
      allocatedGpu: f64(),
      group: new Int32Array(n),
      groupNames: [] as string[],
      groups: [] as (GroupInfo | undefined)[],
      nameRank: new Int32Array(n),
      phase: new Uint8Array(n),
      hostPhases: [] as HostInfo['phase'][],
      restricted: new Uint8Array(n),
      restrictedCount: 0,
      groupSize: new Int32Array(0),
    };
    const groupIds = new Map<string, number>();
    this.#hosts.forEach((h, i) => {
      this.#indexByName.set(h.name, i);
      v.allocatableCpu[i] = h.allocatable.cpu;
      v.allocatableMemory[i] = h.allocatable.memory;
      v.allocatableStorage[i] = h.allocatable.storage;
      v.gpuCapacity[i] = h.capacity.gpu;
      v.allocatedCpu[i] = h.allocated.cpu;
      v.allocatedMemory[i] = h.allocated.memory;
      v.allocatedStorage[i] = h.allocated.storage;
      v.allocatedGpu[i] = h.allocated.gpu;
      let g = -1;
      if (h.group !== undefined) {
        g = groupIds.get(h.group) ?? -1;
        if (g < 0) {
          g = v.groupNames.length;
          groupIds.set(h.group, g);
          v.groupNames.push(h.group);
          v.groups.push(this.#groups.get(h.group));
        }
      }
      v.group[i] = g;
      let p = v.hostPhases.indexOf(h.phase);
      if (p < 0) p = v.hostPhases.push(h.phase) - 1;
      v.phase[i] = p;
      v.restricted[i] = h.allowedTenants !== undefined && h.allowedTenants.length > 0 ? 1 : 0;
      v.restrictedCount += v.restricted[i]!;
    });
    v.groupSize = new Int32Array(v.groupNames.length);
    for (const g of v.group) if (g >= 0) v.groupSize[g]!++;
    const byName = this.#hosts.map((_, i) => i).sort((a, b) => (this.#hosts[a]!.name < this.#hosts[b]!.name ? -1 : 1));
    byName.forEach((i, rank) => (v.nameRank[i] = rank));
    return v;
  }

  get hosts(): readonly HostInfo[] {
    return this.#hosts;
  }

  get vectors(): HostVectors {
    return this.#vectors;
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
   * quota usage in the host's group and the spread key's hosts, racks and datacenters grow.
   * It does not re-check the filters; schedule() decides, assume() only accounts.
   */
  assume(req: PlacementRequest, hostName: string): this {
    const host = this.#hostsByName.get(hostName);
    if (!host) throw new Error('cannot assume placement: the host is not in the snapshot');
    this.#charge(host, req, 1);
    if (req.spreadKey !== undefined) {
      let members = this.#spread.get(req.spreadKey);
      if (!members) this.#spread.set(req.spreadKey, (members = { hosts: new Set(), racks: new Set(), datacenters: new Set() }));
      // Every level is recorded: a later VM with the same key may spread across another.
      members.hosts.add(host.name);
      members.racks.add(host.rack);
      members.datacenters.add(host.datacenter);
    }
    return this;
  }

  /**
   * The opposite of assume() for resources: the request no longer runs on the host (its VM
   * is gone, or its placement was never written). Spread membership is not taken back: the
   * snapshot keeps no count of the members per rack, so a caller releasing a VM with a
   * spread key builds a new snapshot instead.
   */
  release(req: Pick<PlacementRequest, 'tenant' | 'resources'>, hostName: string): this {
    const host = this.#hostsByName.get(hostName);
    if (!host) throw new Error('cannot release placement: the host is not in the snapshot');
    this.#charge(host, req, -1);
    return this;
  }

  #charge(host: WorkingHost, req: Pick<PlacementRequest, 'tenant' | 'resources'>, sign: 1 | -1): void {
    const r = req.resources;
    if (sign > 0) addInto(host.allocated, r);
    else subtractFrom(host.allocated, r);
    const v = this.#vectors;
    const i = this.#indexByName.get(host.name)!;
    v.allocatedCpu[i] = host.allocated.cpu;
    v.allocatedMemory[i] = host.allocated.memory;
    v.allocatedStorage[i] = host.allocated.storage;
    v.allocatedGpu[i] = host.allocated.gpu;
    if (host.group === undefined) return;
    const quota = this.#quotas.get(req.tenant)?.get(host.group);
    if (!quota) return;
    if (sign > 0) addInto(quota.used, r);
    else subtractFrom(quota.used, r);
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

// The scheduler's input is a plain snapshot with every quantity already resolved to a
// number: the caller (the VirtualMachine controller) converts Kubernetes quantities and
// percent quotas once, so that the hot path here only compares numbers.

/** cpu in whole cores; memory and storage in bytes; gpu in devices. */
export interface Resources {
  cpu: number;
  memory: number;
  storage: number;
  gpu: number;
}

export const resourceNames = ['cpu', 'memory', 'storage', 'gpu'] as const;
export type ResourceName = (typeof resourceNames)[number];

/** The resources an overcommit ratio applies to; gpus are never shared between VMs. */
export const overcommittable = ['cpu', 'memory', 'storage'] as const;
export type OvercommitRatios = Record<(typeof overcommittable)[number], number>;

export type HostPhase = 'Ready' | 'Maintenance' | 'Offline' | 'Error' | 'Unknown';

export type Strategy = 'Binpack' | 'Spread';

export type SpreadAcross = 'Host' | 'Rack' | 'Datacenter';

export interface HostInfo {
  readonly name: string;
  /** The BaremetalGroup; a host without one can only be used by pinning. */
  readonly group?: string;
  readonly phase: HostPhase;
  readonly region: string;
  readonly datacenter: string;
  readonly rack: string;
  readonly capacity: Readonly<Resources>;
  readonly allocated: Readonly<Resources>;
  /** From the host's rack; empty or absent means every tenant. */
  readonly allowedTenants?: readonly string[];
}

export interface GroupInfo {
  readonly name: string;
  readonly overcommit: Readonly<OvercommitRatios>;
  readonly strategy: Strategy;
}

/** A missing limit means that resource is not limited by this quota. */
export type QuotaLimits = Readonly<Partial<Resources>>;

/** One TenantQuota, with percent limits already resolved against the group's allocatable. */
export interface QuotaInfo {
  readonly tenant: string;
  readonly group: string;
  readonly limits: QuotaLimits;
  readonly used: Readonly<Resources>;
}

export interface PlacementRequest {
  /** namespace/name of the VirtualMachine; carried for explanations, never in a reason. */
  readonly vm: string;
  readonly tenant: string;
  /** Required unless pinnedHost is set. */
  readonly group?: string;
  readonly pinnedHost?: string;
  readonly resources: Readonly<Resources>;
  /** Overrides the group's strategy for this VM. */
  readonly strategy?: Strategy;
  readonly regions?: readonly string[];
  readonly datacenters?: readonly string[];
  readonly racks?: readonly string[];
  readonly spreadAcross?: SpreadAcross;
  readonly spreadKey?: string;
  /**
   * A VM being moved (drain) counts among its spreadKey's members where it runs now; where it
   * is the only member (this host, rack, datacenter) it may stay, since it leaves once moved.
   */
  readonly spreadOwn?: { readonly host?: string; readonly rack?: string; readonly datacenter?: string };
}

/** Where the other VMs sharing one spreadKey already run. */
export interface SpreadUsage {
  /** Absent in snapshots that predate host spread: no host is taken. */
  readonly hosts?: readonly string[];
  readonly racks: readonly string[];
  readonly datacenters: readonly string[];
}

export interface Snapshot {
  readonly hosts: readonly HostInfo[];
  readonly groups: readonly GroupInfo[];
  readonly quotas: readonly QuotaInfo[];
  /** Keyed by spreadKey; absent keys have no members yet. */
  readonly spreadMembers?: Readonly<Record<string, SpreadUsage>>;
}

/** BaremetalGroup defaults from API.md, used when a host's group is not in the snapshot. */
export const defaultOvercommit: Readonly<OvercommitRatios> = { cpu: 1, memory: 1, storage: 1 };
export const defaultStrategy: Strategy = 'Binpack';

export function zeroResources(): Resources {
  return { cpu: 0, memory: 0, storage: 0, gpu: 0 };
}

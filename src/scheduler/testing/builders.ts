// Fluent fixtures for scheduler tests and the benchmark, after kube-scheduler's wrappers:
// host('bm-1').cpu(64).memory('256Gi').rack('r1').build(). Defaults describe an ordinary
// Ready host in group "general" so each case states only what it is about.

import type {
  GroupInfo,
  HostInfo,
  HostPhase,
  OvercommitRatios,
  PlacementRequest,
  QuotaInfo,
  Resources,
  Snapshot,
  SpreadAcross,
  SpreadUsage,
  Strategy,
} from '../types.js';
import { bytes } from './quantity.js';

type Amounts = Partial<Record<keyof Resources, string | number>>;

function resources(amounts: Amounts, base: Resources = { cpu: 0, memory: 0, storage: 0, gpu: 0 }): Resources {
  return {
    cpu: amounts.cpu === undefined ? base.cpu : Number(amounts.cpu),
    memory: amounts.memory === undefined ? base.memory : bytes(amounts.memory),
    storage: amounts.storage === undefined ? base.storage : bytes(amounts.storage),
    gpu: amounts.gpu === undefined ? base.gpu : Number(amounts.gpu),
  };
}

class HostBuilder {
  #h: {
    name: string;
    group?: string;
    phase: HostPhase;
    region: string;
    datacenter: string;
    rack: string;
    capacity: Resources;
    allocated: Resources;
    allowedTenants?: string[];
  };

  constructor(name: string) {
    this.#h = {
      name,
      group: 'general',
      phase: 'Ready',
      region: 'region-1',
      datacenter: 'dc-1',
      rack: 'rack-1',
      capacity: resources({ cpu: 64, memory: '256Gi', storage: '4Ti', gpu: 0 }),
      allocated: resources({}),
    };
  }

  cpu(cores: number): this {
    this.#h.capacity.cpu = cores;
    return this;
  }
  memory(q: string | number): this {
    this.#h.capacity.memory = bytes(q);
    return this;
  }
  storage(q: string | number): this {
    this.#h.capacity.storage = bytes(q);
    return this;
  }
  gpu(devices: number): this {
    this.#h.capacity.gpu = devices;
    return this;
  }
  allocated(amounts: Amounts): this {
    this.#h.allocated = resources(amounts, this.#h.allocated);
    return this;
  }
  group(name: string | undefined): this {
    this.#h.group = name;
    return this;
  }
  phase(phase: HostPhase): this {
    this.#h.phase = phase;
    return this;
  }
  region(name: string): this {
    this.#h.region = name;
    return this;
  }
  datacenter(name: string): this {
    this.#h.datacenter = name;
    return this;
  }
  rack(name: string): this {
    this.#h.rack = name;
    return this;
  }
  allowTenants(...tenants: string[]): this {
    this.#h.allowedTenants = tenants;
    return this;
  }
  build(): HostInfo {
    const h = this.#h;
    return {
      ...h,
      capacity: { ...h.capacity },
      allocated: { ...h.allocated },
      ...(h.allowedTenants ? { allowedTenants: [...h.allowedTenants] } : {}),
    };
  }
}

export function host(name: string): HostBuilder {
  return new HostBuilder(name);
}

class GroupBuilder {
  #g: { name: string; overcommit: OvercommitRatios; strategy: Strategy };
  constructor(name: string) {
    this.#g = { name, overcommit: { cpu: 1, memory: 1, storage: 1 }, strategy: 'Binpack' };
  }
  overcommit(ratios: Partial<OvercommitRatios>): this {
    this.#g.overcommit = { ...this.#g.overcommit, ...ratios };
    return this;
  }
  strategy(s: Strategy): this {
    this.#g.strategy = s;
    return this;
  }
  build(): GroupInfo {
    return { ...this.#g, overcommit: { ...this.#g.overcommit } };
  }
}

export function group(name: string): GroupBuilder {
  return new GroupBuilder(name);
}

class QuotaBuilder {
  #q: { tenant: string; group: string; limits: Partial<Resources>; used: Resources };
  constructor(tenant: string, groupName: string) {
    this.#q = { tenant, group: groupName, limits: {}, used: resources({}) };
  }
  /** Limits not given stay unlimited. */
  limits(amounts: Amounts): this {
    const all = resources(amounts);
    for (const r of Object.keys(amounts) as (keyof Resources)[]) this.#q.limits[r] = all[r];
    return this;
  }
  used(amounts: Amounts): this {
    this.#q.used = resources(amounts, this.#q.used);
    return this;
  }
  build(): QuotaInfo {
    return { ...this.#q, limits: { ...this.#q.limits }, used: { ...this.#q.used } };
  }
}

/** A quota with no limits until limits() says otherwise. */
export function quota(tenant: string, groupName: string): QuotaBuilder {
  return new QuotaBuilder(tenant, groupName);
}

class RequestBuilder {
  #r: {
    vm: string;
    tenant: string;
    group?: string;
    pinnedHost?: string;
    resources: Resources;
    strategy?: Strategy;
    regions?: string[];
    datacenters?: string[];
    racks?: string[];
    spreadAcross?: SpreadAcross;
    spreadKey?: string;
    spreadOwn?: { rack?: string; datacenter?: string };
  };
  constructor(vm: string) {
    this.#r = {
      vm,
      tenant: 'acme',
      group: 'general',
      resources: resources({ cpu: 2, memory: '4Gi', storage: '50Gi', gpu: 0 }),
    };
  }
  tenant(name: string): this {
    this.#r.tenant = name;
    return this;
  }
  group(name: string | undefined): this {
    this.#r.group = name;
    return this;
  }
  pin(hostName: string): this {
    this.#r.pinnedHost = hostName;
    return this;
  }
  cpu(cores: number): this {
    this.#r.resources.cpu = cores;
    return this;
  }
  memory(q: string | number): this {
    this.#r.resources.memory = bytes(q);
    return this;
  }
  storage(q: string | number): this {
    this.#r.resources.storage = bytes(q);
    return this;
  }
  gpu(devices: number): this {
    this.#r.resources.gpu = devices;
    return this;
  }
  strategy(s: Strategy): this {
    this.#r.strategy = s;
    return this;
  }
  regions(...names: string[]): this {
    this.#r.regions = names;
    return this;
  }
  datacenters(...names: string[]): this {
    this.#r.datacenters = names;
    return this;
  }
  racks(...names: string[]): this {
    this.#r.racks = names;
    return this;
  }
  /** spreadAcross alone, with no key: a spread with no peers. */
  spreadAcross(across: SpreadAcross): this {
    this.#r.spreadAcross = across;
    return this;
  }
  /** spreadKey alone, with no spreadAcross: membership without a constraint. */
  spreadKey(key: string): this {
    this.#r.spreadKey = key;
    return this;
  }
  spread(across: SpreadAcross, key: string): this {
    this.#r.spreadAcross = across;
    this.#r.spreadKey = key;
    return this;
  }
  /** A VM being moved, the only member of its key at these places. */
  spreadOwn(own: { rack?: string; datacenter?: string }): this {
    this.#r.spreadOwn = own;
    return this;
  }
  build(): PlacementRequest {
    return { ...this.#r, resources: { ...this.#r.resources } };
  }
}

/** A 2-core, 4Gi, 50Gi VM of tenant "acme" in group "general". */
export function vm(key: string): RequestBuilder {
  return new RequestBuilder(key);
}

type Buildable<T> = T | { build(): T };

function built<T>(item: Buildable<T>): T {
  return typeof item === 'object' && item !== null && 'build' in item && typeof item.build === 'function'
    ? (item.build() as T)
    : (item as T);
}

class SnapshotBuilder {
  #hosts: HostInfo[] = [];
  #groups: GroupInfo[] = [];
  #quotas: QuotaInfo[] = [];
  #spread: Record<string, SpreadUsage> = {};

  hosts(...items: Buildable<HostInfo>[]): this {
    this.#hosts.push(...items.map((i) => built(i)));
    return this;
  }
  groups(...items: Buildable<GroupInfo>[]): this {
    this.#groups.push(...items.map((i) => built(i)));
    return this;
  }
  quotas(...items: Buildable<QuotaInfo>[]): this {
    this.#quotas.push(...items.map((i) => built(i)));
    return this;
  }
  spreadMembers(key: string, usage: Partial<SpreadUsage>): this {
    this.#spread[key] = { racks: usage.racks ?? [], datacenters: usage.datacenters ?? [] };
    return this;
  }
  build(): Snapshot {
    return { hosts: this.#hosts, groups: this.#groups, quotas: this.#quotas, spreadMembers: this.#spread };
  }
}

export function snapshot(): SnapshotBuilder {
  return new SnapshotBuilder();
}

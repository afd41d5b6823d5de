// Shared by the placement and controller integration tests: the objects they create through
// the real API server, short waits on what the API reports, and an accounting of hosts,
// groups and quotas recomputed here from the VMs' placements and the flavors' sizes, with
// no code from src/controllers, so the controllers' own figures can be checked against it.
import { Registry } from 'prom-client';
import { expect } from 'vitest';
import { loadKubeConfig, startControllers, type RunningControllers } from '../../src/cli/controllers.js';
import type { ControllerSetupOptions } from '../../src/controllers/setup.js';
import type { TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

export const API = 'virtflow.io/v1alpha1';
/** What the helpers below need of a server: its authenticated calls. */
export type Api = Pick<TestServer, 'call'>;
const base = `/apis/${API}`;

// ---------------------------------------------------------------------------------------
// Paths and calls

export function pathOf(plural: string, namespace?: string, name?: string): string {
  const core = plural === 'namespaces' || plural === 'events' || plural === 'leases';
  const prefix = plural === 'leases' ? '/apis/coordination.k8s.io/v1' : core ? '/api/v1' : base;
  const ns = namespace ? `/namespaces/${namespace}` : '';
  return `${prefix}${ns}/${plural}${name ? `/${name}` : ''}`;
}

const pluralOf: Record<string, string> = {
  Namespace: 'namespaces',
  Datacenter: 'datacenters',
  Rack: 'racks',
  BaremetalGroup: 'baremetalgroups',
  Baremetal: 'baremetals',
  Tenant: 'tenants',
  TenantQuota: 'tenantquotas',
  VirtualMachineSpecification: 'virtualmachinespecifications',
  VirtualMachineImage: 'virtualmachineimages',
  VirtualMachine: 'virtualmachines',
  ExternalController: 'externalcontrollers',
};

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  spec?: any;
  status?: any;
}

/** Creates an object; fails the test unless the server answers 201. */
export async function create(vf: Api, obj: Obj): Promise<any> {
  const plural = pluralOf[obj.kind];
  if (!plural) throw new Error(`no plural known for ${obj.kind}`);
  const res = await vf.call('POST', pathOf(plural, obj.metadata.namespace), obj);
  if (res.status !== 201) throw new Error(`cannot create ${obj.kind} ${obj.metadata.name}: ${res.status} ${res.text}`);
  return res.body;
}

export async function createAll(vf: Api, objs: Obj[]): Promise<void> {
  for (const obj of objs) await create(vf, obj);
}

export async function list(vf: Api, plural: string, namespace?: string): Promise<any[]> {
  const res = await vf.call('GET', pathOf(plural, namespace));
  if (res.status !== 200) throw new Error(`cannot list ${plural}: ${res.status} ${res.text}`);
  return res.body.items;
}

export async function get(vf: Api, plural: string, name: string, namespace?: string): Promise<any> {
  const res = await vf.call('GET', pathOf(plural, namespace, name));
  if (res.status !== 200) throw new Error(`cannot get ${plural} ${name}: ${res.status} ${res.text}`);
  return res.body;
}

export async function mergePatch(vf: Api, plural: string, name: string, patch: unknown, namespace?: string): Promise<any> {
  const res = await vf.call('PATCH', pathOf(plural, namespace, name), patch, { 'content-type': 'application/merge-patch+json' });
  if (res.status !== 200) throw new Error(`cannot patch ${plural} ${name}: ${res.status} ${res.text}`);
  return res.body;
}

export async function remove(vf: Api, plural: string, name: string, namespace?: string): Promise<void> {
  const res = await vf.call('DELETE', pathOf(plural, namespace, name));
  if (res.status !== 200 && res.status !== 202) throw new Error(`cannot delete ${plural} ${name}: ${res.status} ${res.text}`);
}

/** Runs `work` over `items` with at most `width` in flight. */
export async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

// ---------------------------------------------------------------------------------------
// Objects

export const namespace = (name: string): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
export const datacenter = (name: string, region: string): Obj => ({ apiVersion: API, kind: 'Datacenter', metadata: { name }, spec: { region } });
export const rack = (name: string, dc: string, extra: Record<string, unknown> = {}): Obj => ({
  apiVersion: API,
  kind: 'Rack',
  metadata: { name },
  spec: { datacenter: dc, ...extra },
});
export const group = (name: string, extra: Record<string, unknown> = {}): Obj => ({ apiVersion: API, kind: 'BaremetalGroup', metadata: { name }, spec: { ...extra } });
export const baremetal = (
  name: string,
  rackName: string,
  groupName: string,
  capacity: { cpu: number; memory: string; storage: string; gpu?: number },
  extra: Record<string, unknown> = {},
): Obj => ({
  apiVersion: API,
  kind: 'Baremetal',
  metadata: { name },
  spec: { serialNumber: `SN-${name}`, rack: rackName, group: groupName, capacity, ...extra },
});
export const tenant = (name: string, extra: Record<string, unknown> = {}): Obj => ({ apiVersion: API, kind: 'Tenant', metadata: { name }, spec: { ...extra } });
export const quota = (name: string, tenantName: string, groupName: string, limits: Record<string, unknown>): Obj => ({
  apiVersion: API,
  kind: 'TenantQuota',
  metadata: { name },
  // The schema requires every limit; the ones a test does not care about are the whole group.
  spec: { tenant: tenantName, group: groupName, limits: { cpu: '100%', memory: '100%', storage: '100%', ...limits } },
});
export const flavor = (name: string, cpu: number, memory: string, storage: string): Obj => ({
  apiVersion: API,
  kind: 'VirtualMachineSpecification',
  metadata: { name },
  spec: { cpu, memory, storage },
});
export const image = (name: string): Obj => ({
  apiVersion: API,
  kind: 'VirtualMachineImage',
  metadata: { name },
  spec: { os: { family: 'ubuntu', version: '24.04' }, source: { url: 'https://images.example/ubuntu.img' }, format: 'qcow2' },
});
export const vm = (ns: string, name: string, spec: Record<string, unknown>): Obj => ({
  apiVersion: API,
  kind: 'VirtualMachine',
  metadata: { name, namespace: ns },
  spec: { image: 'ubuntu', ...spec },
});

// ---------------------------------------------------------------------------------------
// Controllers in this process

export type ControllerOptions = Partial<Omit<ControllerSetupOptions, 'kubeConfig'>>;

/**
 * The real controllers against the test server. No leader election unless asked for, quiet
 * logs, and a VM resync long enough that a test relying on a watch to wake a waiting VM
 * fails when the watch is missing instead of being rescued by the periodic retry.
 */
export function runControllers(vf: TestServer, opts: ControllerOptions = {}): RunningControllers & { registry: Registry } {
  const registry = opts.registry ?? new Registry();
  const running = startControllers({
    kubeConfig: loadKubeConfig(vf.kubeconfig),
    leaderElection: false,
    resyncMs: 120_000,
    logLevel: process.env.VIRTFLOW_LOG_LEVEL ?? 'silent',
    ...opts,
    registry,
  });
  running.done.catch(() => {});
  return { ...running, registry };
}

/** Reconciles a controller has finished, by result, from its metrics registry. */
export async function reconcileCount(registry: Registry, controller: string): Promise<number> {
  const metric = await registry.getSingleMetric('controller_runtime_reconcile_total')?.get();
  return (metric?.values ?? []).filter((v) => v.labels.controller === controller).reduce((n, v) => n + v.value, 0);
}

// ---------------------------------------------------------------------------------------
// Quantities and the independent accounting

const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };
const decimal: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, '': 1 };

/** "16Gi" -> bytes, 4 -> 4. Only the suffixes these tests use. */
export function qty(value: string | number | undefined): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)([KMGTP]i|[kMGTP]?)$/.exec(value);
  if (!m) throw new Error(`not a quantity these tests read: ${value}`);
  return Number(m[1]) * (binary[m[2]!] ?? decimal[m[2]!]!);
}

export interface Res {
  cpu: number;
  memory: number;
  storage: number;
  gpu: number;
}

export const res = (a: Record<string, unknown> | undefined): Res => ({
  cpu: qty(a?.cpu as string),
  memory: qty(a?.memory as string),
  storage: qty(a?.storage as string),
  gpu: qty(a?.gpu as string),
});
const add = (a: Res, b: Res): Res => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory, storage: a.storage + b.storage, gpu: a.gpu + b.gpu });
const none = (): Res => ({ cpu: 0, memory: 0, storage: 0, gpu: 0 });

export interface World {
  hosts: any[];
  groups: any[];
  quotas: any[];
  tenants: any[];
  flavors: any[];
  vms: any[];
}

export async function readWorld(vf: Api): Promise<World> {
  const [hosts, groups, quotas, tenants, flavors, vms] = await Promise.all([
    list(vf, 'baremetals'),
    list(vf, 'baremetalgroups'),
    list(vf, 'tenantquotas'),
    list(vf, 'tenants'),
    list(vf, 'virtualmachinespecifications'),
    list(vf, 'virtualmachines'),
  ]);
  return { hosts, groups, quotas, tenants, flavors, vms };
}

export interface Expected {
  /** Per host: what its VMs take, and capacity x overcommit (floored). */
  hosts: Map<string, { allocated: Res; allocatable: Res; count: number; group: string | undefined }>;
  /** Per tenant and group ("tenant/group"): what its VMs take. */
  used: Map<string, Res>;
  usedCount: Map<string, number>;
}

/** Recomputes every reservation from the VMs' placements and their flavors' sizes. */
export function expectedAccounting(w: World): Expected {
  const flavors = new Map(w.flavors.map((f) => [f.metadata.name, res(f.spec)]));
  const groups = new Map(w.groups.map((g) => [g.metadata.name, g]));
  const tenantOfNs = new Map(w.tenants.map((t) => [t.spec?.namespace || t.metadata.name, t.metadata.name]));
  const hosts: Expected['hosts'] = new Map();
  for (const h of w.hosts) {
    const over = groups.get(h.spec.group)?.spec?.overcommit ?? {};
    const cap = res(h.spec.capacity);
    hosts.set(h.metadata.name, {
      allocated: none(),
      allocatable: {
        cpu: Math.floor(cap.cpu * (over.cpu ?? 1)),
        memory: Math.floor(cap.memory * (over.memory ?? 1)),
        storage: Math.floor(cap.storage * (over.storage ?? 1)),
        gpu: cap.gpu,
      },
      count: 0,
      group: h.spec.group,
    });
  }
  const used = new Map<string, Res>();
  const usedCount = new Map<string, number>();
  for (const v of w.vms) {
    const at = v.status?.placement?.baremetal;
    if (!at) continue;
    const size = flavors.get(v.spec.specification);
    if (!size) throw new Error(`VM ${v.metadata.name} uses unknown flavor ${v.spec.specification}`);
    const h = hosts.get(at);
    if (!h) throw new Error(`VM ${v.metadata.name} is placed on unknown host ${at}`);
    h.allocated = add(h.allocated, size);
    h.count++;
    const k = `${tenantOfNs.get(v.metadata.namespace)}/${h.group}`;
    used.set(k, add(used.get(k) ?? none(), size));
    usedCount.set(k, (usedCount.get(k) ?? 0) + 1);
  }
  return { hosts, used, usedCount };
}

/** Every host within allocatable and every tenant within its quota's absolute limits. */
export function overbookings(w: World, limits: Record<string, Partial<Res>>): string[] {
  const e = expectedAccounting(w);
  const problems: string[] = [];
  for (const [name, h] of e.hosts) {
    for (const r of ['cpu', 'memory', 'storage', 'gpu'] as const) {
      if (h.allocated[r] > h.allocatable[r]) problems.push(`host ${name}: ${r} ${h.allocated[r]} > ${h.allocatable[r]}`);
    }
  }
  for (const [key, limit] of Object.entries(limits)) {
    const u = e.used.get(key) ?? none();
    for (const [r, l] of Object.entries(limit) as [keyof Res, number][]) {
      if (u[r] > l) problems.push(`quota ${key}: ${r} ${u[r]} > ${l}`);
    }
  }
  return problems;
}

/** The status of every host and group, and the used/remaining of every quota, match the VMs. */
export function expectStatusesMatch(w: World): void {
  const e = expectedAccounting(w);
  for (const h of w.hosts) {
    const want = e.hosts.get(h.metadata.name)!;
    const got = h.status ?? {};
    const free = (r: keyof Res) => Math.max(0, want.allocatable[r] - want.allocated[r]);
    expect({ host: h.metadata.name, allocated: res(got.allocated), free: res(got.free), vms: got.virtualMachines }).toEqual({
      host: h.metadata.name,
      allocated: want.allocated,
      free: { cpu: free('cpu'), memory: free('memory'), storage: free('storage'), gpu: free('gpu') },
      vms: want.count,
    });
  }
  for (const g of w.groups) {
    let allocated = none();
    for (const h of e.hosts.values()) if (h.group === g.metadata.name) allocated = add(allocated, h.allocated);
    expect({ group: g.metadata.name, allocated: res(g.status?.allocated) }).toEqual({ group: g.metadata.name, allocated });
  }
  for (const q of w.quotas) {
    const key = `${q.spec.tenant}/${q.spec.group}`;
    const used = e.used.get(key) ?? none();
    const limits = q.status?.limits ?? {};
    const remaining: Record<string, number> = {};
    for (const r of ['cpu', 'memory', 'storage'] as const) {
      if (limits[r] !== undefined) remaining[r] = Math.max(0, qty(limits[r]) - used[r]);
    }
    expect({
      quota: q.metadata.name,
      used: { cpu: qty(q.status?.used?.cpu), memory: qty(q.status?.used?.memory), storage: qty(q.status?.used?.storage) },
      remaining: Object.fromEntries(Object.entries(q.status?.remaining ?? {}).map(([k, v]) => [k, qty(v as string)])),
      virtualMachines: q.status?.virtualMachines,
    }).toEqual({
      quota: q.metadata.name,
      used: { cpu: used.cpu, memory: used.memory, storage: used.storage },
      remaining,
      virtualMachines: e.usedCount.get(key) ?? 0,
    });
  }
}

/** Waits until the controllers' figures agree with the VMs (they follow the VMs' writes). */
export async function waitForStatusesToMatch(vf: Api, timeoutMs = 20_000): Promise<World> {
  let world: World | undefined;
  await waitUntil(
    async () => {
      world = await readWorld(vf);
      try {
        expectStatusesMatch(world);
        return true;
      } catch {
        return false;
      }
    },
    'host, group and quota status to match the placed VMs',
    timeoutMs,
  ).catch(() => {});
  // Once more outside the wait, so a mismatch fails with the diff rather than a timeout.
  world = await readWorld(vf);
  expectStatusesMatch(world);
  return world;
}

export const placedOn = (v: any): string | undefined => v.status?.placement?.baremetal;
export const scheduledCondition = (v: any) => (v.status?.conditions ?? []).find((c: any) => c.type === 'Scheduled');

/** Events of a namespace by the name of the object they are about. */
export async function eventsByObject(vf: Api, ns: string): Promise<Map<string, any[]>> {
  const out = new Map<string, any[]>();
  for (const e of await list(vf, 'events', ns)) {
    const name = e.involvedObject?.name as string;
    out.set(name, [...(out.get(name) ?? []), e]);
  }
  return out;
}

export { waitUntil };

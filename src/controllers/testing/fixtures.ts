// Small builders of VirtFlow objects for controller tests.
import type { Baremetal } from '../../kinds/baremetal.js';
import type { BaremetalGroup } from '../../kinds/baremetalgroup.js';
import type { Datacenter } from '../../kinds/datacenter.js';
import type { ExternalController } from '../../kinds/externalcontroller.js';
import type { Rack } from '../../kinds/rack.js';
import type { Tenant } from '../../kinds/tenant.js';
import type { TenantQuota } from '../../kinds/tenantquota.js';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import type { VirtualMachineImage } from '../../kinds/virtualmachineimage.js';
import type { VirtualMachineSpecification } from '../../kinds/virtualmachinespecification.js';
import { indexes, memoryLister, type Listers } from '../shared/listers.js';

const api = 'virtflow.io/v1alpha1';

export const dc = (name: string, region = 'tw'): Datacenter => ({ apiVersion: api, kind: 'Datacenter', metadata: { name }, spec: { region } });
export const rack = (name: string, datacenter: string, extra: Partial<Rack['spec']> = {}): Rack => ({
  apiVersion: api,
  kind: 'Rack',
  metadata: { name },
  spec: { datacenter, ...extra },
});
export const group = (name: string, extra: Partial<BaremetalGroup['spec']> = {}): BaremetalGroup => ({
  apiVersion: api,
  kind: 'BaremetalGroup',
  metadata: { name },
  spec: { ...extra },
});
export const host = (name: string, rackName: string, groupName: string | undefined, cpu = 32, memory = '128Gi', extra: Partial<Baremetal['spec']> = {}): Baremetal => ({
  apiVersion: api,
  kind: 'Baremetal',
  metadata: { name },
  spec: { serialNumber: `SN-${name}`, rack: rackName, group: groupName, capacity: { cpu, memory, storage: '2Ti' }, ...extra },
});
export const tenant = (name: string, extra: Partial<Tenant['spec']> = {}): Tenant => ({ apiVersion: api, kind: 'Tenant', metadata: { name }, spec: { ...extra } });
export const quota = (name: string, tenantName: string, groupName: string, limits: Partial<TenantQuota['spec']['limits']>): TenantQuota => ({
  apiVersion: api,
  kind: 'TenantQuota',
  metadata: { name },
  spec: { tenant: tenantName, group: groupName, limits: limits as TenantQuota['spec']['limits'] },
});
export const flavor = (name: string, cpu: number, memory: string): VirtualMachineSpecification => ({
  apiVersion: api,
  kind: 'VirtualMachineSpecification',
  metadata: { name },
  spec: { cpu, memory, storage: '100Gi' },
});
export const image = (name: string): VirtualMachineImage => ({
  apiVersion: api,
  kind: 'VirtualMachineImage',
  metadata: { name },
  spec: { os: { family: name }, source: { url: `https://images.example/${name}.qcow2` }, format: 'qcow2' },
});
/** An ExternalController of service VirtualMachine serving every region. */
export const externalController = (name: string): ExternalController => ({
  apiVersion: api,
  kind: 'ExternalController',
  metadata: { name },
  spec: { service: 'VirtualMachine', endpoint: `https://${name}.example` },
});
export const vm = (namespace: string, name: string, spec: Partial<VirtualMachine['spec']> = {}, status?: VirtualMachine['status']): VirtualMachine => ({
  apiVersion: api,
  kind: 'VirtualMachine',
  metadata: { namespace, name },
  spec: { specification: 'small', image: 'ubuntu', group: 'general', ...spec },
  ...(status ? { status } : {}),
});
export const placed = (namespace: string, name: string, hostName: string, cpu: number, memory: string, spec: Partial<VirtualMachine['spec']> = {}) =>
  vm(namespace, name, spec, { placement: { baremetal: hostName }, resources: { cpu, memory, storage: '100Gi', gpu: 0 } });

export interface World {
  datacenters?: Datacenter[];
  racks?: Rack[];
  groups?: BaremetalGroup[];
  hosts?: Baremetal[];
  tenants?: Tenant[];
  quotas?: TenantQuota[];
  specifications?: VirtualMachineSpecification[];
  images?: VirtualMachineImage[];
  externalControllers?: ExternalController[];
  vms?: VirtualMachine[];
}

export function listersOf(world: World): Listers {
  return {
    datacenters: memoryLister(world.datacenters ?? []),
    racks: memoryLister(world.racks ?? [], indexes.racks),
    groups: memoryLister(world.groups ?? []),
    hosts: memoryLister(world.hosts ?? [], indexes.hosts),
    tenants: memoryLister(world.tenants ?? [], indexes.tenants),
    quotas: memoryLister(world.quotas ?? [], indexes.quotas),
    specifications: memoryLister(world.specifications ?? []),
    images: memoryLister(world.images ?? []),
    vms: memoryLister(world.vms ?? [], indexes.vms),
    clusters: memoryLister([], indexes.clusters),
    nodePools: memoryLister([], indexes.nodePools),
    externalControllers: memoryLister(world.externalControllers ?? []),
    zones: memoryLister([], indexes.zones),
    serviceMeshes: memoryLister([]),
    maintainers: memoryLister([]),
    maintainerGroups: memoryLister([], indexes.maintainerGroups),
    assignments: memoryLister([], indexes.assignments),
  };
}

/** Two 8-cpu hosts on two racks of one data center and group, and tenant acme with a 12-cpu quota there. */
export function twoRackWorld() {
  return {
    datacenters: [dc('hsinchu')],
    racks: [rack('r1', 'hsinchu'), rack('r2', 'hsinchu')],
    groups: [group('general')],
    hosts: [host('bm1', 'r1', 'general', 8, '64Gi'), host('bm2', 'r2', 'general', 8, '64Gi')],
    tenants: [tenant('acme')],
    quotas: [quota('q', 'acme', 'general', { cpu: 12 })],
  };
}

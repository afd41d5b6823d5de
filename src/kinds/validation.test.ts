import { describe, expect, it } from 'vitest';
import { compileValidator } from '../crd/validator.js';
import type { KubeObject } from '../machinery/object.js';
import { allKinds, apiVersion, kindDefinition, openApiSchemaFor } from './index.js';

const validators = new Map(allKinds.map((def) => [def.kind, compileValidator(openApiSchemaFor(def))]));

function object(kind: string, spec: unknown, extra: Record<string, unknown> = {}): KubeObject {
  const namespaced = kindDefinition(kind)!.scope === 'Namespaced';
  return {
    apiVersion,
    kind,
    metadata: namespaced ? { name: 'sample', namespace: 'acme' } : { name: 'sample' },
    ...(spec === undefined ? {} : { spec }),
    ...extra,
  };
}

function validate(obj: KubeObject) {
  return validators.get(obj.kind)!.validate(obj, { fieldValidation: 'Strict' });
}

const host = { serialNumber: 'SN-1', rack: 'r1', capacity: { cpu: 64, memory: '512Gi', storage: '8Ti' } };
const quota = { tenant: 'acme', group: 'general', limits: { cpu: '40%', memory: '256Gi', storage: '4Ti' } };
const vm = { specification: 'c4m16', image: 'ubuntu', group: 'general' };

interface RefusalCase {
  name: string;
  kind: string;
  spec?: unknown;
  extra?: Record<string, unknown>;
  field: string;
  message: RegExp;
}

// One case per kind at least: each names the field and the broken rule.
const refusals: RefusalCase[] = [
  { name: 'a data center without a region is refused', kind: 'Datacenter', spec: { building: 'F12' }, field: 'spec.region', message: /Required value/ },
  { name: 'a rack with a BGP ASN of 0 is refused', kind: 'Rack', spec: { datacenter: 'dc1', bgpAsn: 0 }, field: 'spec.bgpAsn', message: /greater than or equal to 1/ },
  { name: 'a rack in an unknown state is refused, listing the states', kind: 'Rack', spec: { datacenter: 'dc1', state: 'Broken' }, field: 'spec.state', message: /"Active", "Maintenance", "Retired"/ },
  { name: 'a zone with VLAN 5000 is refused', kind: 'Zone', spec: { network: { vlanId: 5000 } }, field: 'spec.network.vlanId', message: /less than or equal to 4094/ },
  { name: 'a group with an unknown strategy is refused', kind: 'BaremetalGroup', spec: { strategy: 'Random' }, field: 'spec.strategy', message: /"Binpack", "Spread"/ },
  { name: 'a group with a zero overcommit ratio is refused', kind: 'BaremetalGroup', spec: { overcommit: { cpu: 0 } }, field: 'spec.overcommit.cpu', message: /greater than or equal to 0.1/ },
  { name: 'a host with zero cores is refused', kind: 'Baremetal', spec: { ...host, capacity: { ...host.capacity, cpu: 0 } }, field: 'spec.capacity.cpu', message: /greater than or equal to 1/ },
  { name: 'a host without a serial number is refused', kind: 'Baremetal', spec: { rack: 'r1', capacity: host.capacity }, field: 'spec.serialNumber', message: /Required value/ },
  { name: 'a host memory that is not a quantity is refused', kind: 'Baremetal', spec: { ...host, capacity: { ...host.capacity, memory: 'lots' } }, field: 'spec.capacity.memory', message: /should match/ },
  { name: 'a tenant namespace that is not a DNS label is refused', kind: 'Tenant', spec: { namespace: 'Not_A_Label' }, field: 'spec.namespace', message: /should match/ },
  { name: 'a quota cpu that is neither cores nor a percent is refused, showing both forms', kind: 'TenantQuota', spec: { ...quota, limits: { ...quota.limits, cpu: 'forty' } }, field: 'spec.limits.cpu', message: /\[0-9\]\+\|.*%/ },
  { name: 'a quota memory above 100% is refused', kind: 'TenantQuota', spec: { ...quota, limits: { ...quota.limits, memory: '120%' } }, field: 'spec.limits.memory', message: /should match/ },
  { name: 'a quota without a group is refused', kind: 'TenantQuota', spec: { tenant: 'acme', limits: quota.limits }, field: 'spec.group', message: /Required value/ },
  { name: 'a flavor without memory is refused', kind: 'VirtualMachineSpecification', spec: { cpu: 4, storage: '100Gi' }, field: 'spec.memory', message: /Required value/ },
  { name: 'an image in an unknown format is refused', kind: 'VirtualMachineImage', spec: { os: { family: 'ubuntu' }, source: { url: 'https://x/y.img' }, format: 'vmdk' }, field: 'spec.format', message: /"qcow2", "raw", "iso"/ },
  { name: 'a VM with an unknown run strategy is refused', kind: 'VirtualMachine', spec: { ...vm, runStrategy: 'Sometimes' }, field: 'spec.runStrategy', message: /"Always", "Halted", "Manual"/ },
  { name: 'a VM without an image is refused', kind: 'VirtualMachine', spec: { specification: 'c4m16', group: 'general' }, field: 'spec.image', message: /Required value/ },
  { name: 'a VM restartAt that is not a date-time is refused', kind: 'VirtualMachine', spec: { ...vm, restartAt: 'tomorrow' }, field: 'spec.restartAt', message: /date-time/ },
  { name: 'a condition status other than True, False, Unknown is refused', kind: 'VirtualMachine', spec: vm, extra: { status: { conditions: [{ type: 'Ready', status: 'Maybe' }] } }, field: 'status.conditions[0].status', message: /"True", "False", "Unknown"/ },
  { name: 'a control plane of 2 replicas is refused', kind: 'K8sCluster', spec: { version: 'v1.30.2', controlPlane: { replicas: 2 } }, field: 'spec.controlPlane.replicas', message: /"1", "3", "5"/ },
  { name: 'a cluster version without the v prefix is refused', kind: 'K8sCluster', spec: { version: '1.30' }, field: 'spec.version', message: /should match/ },
  { name: 'a node pool without a cluster is refused', kind: 'K8sNodePool', spec: { specification: 'small' }, field: 'spec.cluster', message: /Required value/ },
  { name: 'a node pool of negative replicas is refused', kind: 'K8sNodePool', spec: { cluster: 'c', specification: 'small', replicas: -1 }, field: 'spec.replicas', message: /greater than or equal to 0/ },
  { name: 'a mesh of an unknown type is refused', kind: 'ServiceMesh', spec: { type: 'linkerd' }, field: 'spec.type', message: /"cilium", "istio", "other"/ },
  { name: 'a maintainer without an account is refused', kind: 'Maintainer', spec: { displayName: 'Alice' }, field: 'spec.account', message: /Required value/ },
  { name: 'a maintainer group without a manager is refused', kind: 'MaintainerGroup', spec: { members: ['alice'] }, field: 'spec.manager', message: /Required value/ },
  { name: 'an assignment without the object\'s name is refused', kind: 'MaintainerAssignment', spec: { resource: { kind: 'VirtualMachine' } }, field: 'spec.resource.name', message: /Required value/ },
  { name: 'an assignment with an unknown role is refused', kind: 'MaintainerAssignment', spec: { resource: { kind: 'Rack', name: 'r1' }, role: 'Boss' }, field: 'spec.role', message: /"Owner", "Operator", "OnCall"/ },
  { name: 'an external controller endpoint that is not a URL is refused', kind: 'ExternalController', spec: { service: 'VirtualMachine', endpoint: '127.0.0.1:7480' }, field: 'spec.endpoint', message: /should match/ },
  { name: 'an external controller timeout of 0 seconds is refused', kind: 'ExternalController', spec: { service: 'IPAM', endpoint: 'http://ipam', timeoutSeconds: 0 }, field: 'spec.timeoutSeconds', message: /greater than or equal to 1/ },
];

describe('schemas refuse what can never become valid', () => {
  it('has a refusal case for every kind', () => {
    expect(new Set(refusals.map((c) => c.kind))).toEqual(new Set(allKinds.map((def) => def.kind)));
  });

  it.each(refusals.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { causes } = validate(object(c.kind, c.spec, c.extra));
    const cause = causes.find((found) => found.field === c.field);
    expect(cause, JSON.stringify(causes)).toBeDefined();
    expect(cause!.message).toMatch(c.message);
  });

  it('refuses a spec-less object of a kind whose spec has required fields', () => {
    const { causes } = validate(object('VirtualMachine', undefined));
    expect(causes).toContainEqual(expect.objectContaining({ field: 'spec', type: 'FieldValueRequired' }));
  });

  it('refuses a VM with neither a group nor a pinned host, naming both', () => {
    const { causes } = validate(object('VirtualMachine', { specification: 'c4m16', image: 'ubuntu' }));
    expect(causes.filter((c) => c.type === 'FieldValueRequired').map((c) => c.field)).toEqual(['spec.group', 'spec.baremetal']);
  });

  it('accepts a VM pinned to a host without a group', () => {
    expect(validate(object('VirtualMachine', { specification: 'c4m16', image: 'ubuntu', baremetal: 'bm-1' })).causes).toEqual([]);
  });

  it('reports fields the schema does not know', () => {
    const result = validate(object('Datacenter', { region: 'tw', floor: 3 }));
    expect(result.unknownFields).toEqual(['spec.floor']);
  });
});

describe('schemas accept both forms of int-or-string quantities', () => {
  it.each([
    ['cores', 16],
    ['cores written as a string', '16'],
    ['a percent', '40%'],
    ['all of the group', '100%'],
  ])('a quota cpu of %s', (_form, cpu) => {
    expect(validate(object('TenantQuota', { ...quota, limits: { ...quota.limits, cpu } })).causes).toEqual([]);
  });

  it.each([['64Gi'], ['1.5Ti'], ['500M'], [1073741824]])('a host memory of %s', (memory) => {
    expect(validate(object('Baremetal', { ...host, capacity: { ...host.capacity, memory } })).causes).toEqual([]);
  });
});

describe('defaults', () => {
  const defaulted = (kind: string, spec: unknown) => {
    const obj = object(kind, spec);
    expect(validate(obj).causes).toEqual([]);
    return obj.spec as Record<string, unknown>;
  };

  it.each([
    ['Rack', { datacenter: 'dc1' }, { heightUnits: 42, state: 'Active' }],
    ['Zone', {}, { state: 'Active' }],
    ['BaremetalGroup', {}, { strategy: 'Binpack', overcommit: { cpu: 1, memory: 1, storage: 1 } }],
    ['Baremetal', host, { heightUnits: 1, state: 'Available', capacity: { ...host.capacity, gpu: 0 } }],
    ['Tenant', {}, { suspended: false }],
    ['VirtualMachineSpecification', { cpu: 4, memory: '16Gi', storage: '100Gi' }, { gpu: 0 }],
    ['VirtualMachineImage', { os: { family: 'ubuntu' }, source: { url: 'https://x/y.img' } }, { format: 'qcow2', deprecated: false }],
    ['VirtualMachine', vm, { role: 'Standalone', runStrategy: 'Always', stopPolicy: 'Graceful', dataDisk: 'Delete' }],
    ['K8sCluster', { version: 'v1.30.2' }, { schedulingMode: 'Spread', controlPlane: { replicas: 3 }, network: { cni: 'cilium' }, maintenance: false }],
    ['ServiceMesh', { type: 'istio' }, { state: 'Active' }],
    ['Maintainer', { account: 'alice' }, { state: 'Active' }],
    ['MaintainerGroup', { manager: 'alice' }, { state: 'Active' }],
    ['MaintainerAssignment', { resource: { kind: 'Rack', name: 'r1' } }, { role: 'Owner', resource: { kind: 'Rack', name: 'r1', apiVersion } }],
    ['ExternalController', { service: 'IPAM', endpoint: 'http://ipam' }, { timeoutSeconds: 30 }],
  ])('of %s are applied', (kind, spec, expected) => {
    expect(defaulted(kind, structuredClone(spec))).toMatchObject(expected);
  });

  it('fill a K8sCluster plugin by name', () => {
    const spec = defaulted('K8sCluster', { version: 'v1.30.2', plugins: [{ name: 'metrics-server' }] });
    expect(spec.plugins).toEqual([{ name: 'metrics-server', enabled: true }]);
  });

  it('give a K8sNodePool one replica, a surge of one and none unavailable', () => {
    const spec = defaulted('K8sNodePool', { cluster: 'prod', specification: 'c4m16' });
    expect(spec).toEqual({ cluster: 'prod', specification: 'c4m16', replicas: 1, strategy: { maxSurge: 1, maxUnavailable: 0 }, deletePolicy: 'Newest' });
  });
});

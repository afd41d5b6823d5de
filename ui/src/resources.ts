// The resources the portal reads, by plural, and the paths of their collections and objects.
// The kinds' types come from src/kinds (types only); K8sNodePool is coded against API.md's
// contract (it may not be served yet: its absence is shown as "not available").
import type { KubeObject } from '../../src/machinery/object.js';

export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

const vf = (plural: string, kind: string, namespaced = false): ResourceRef => ({ group: 'virtflow.io', version: 'v1alpha1', plural, kind, namespaced });

export const R = {
  datacenters: vf('datacenters', 'Datacenter'),
  racks: vf('racks', 'Rack'),
  baremetals: vf('baremetals', 'Baremetal'),
  baremetalgroups: vf('baremetalgroups', 'BaremetalGroup'),
  tenants: vf('tenants', 'Tenant'),
  tenantquotas: vf('tenantquotas', 'TenantQuota'),
  specifications: vf('virtualmachinespecifications', 'VirtualMachineSpecification'),
  images: vf('virtualmachineimages', 'VirtualMachineImage'),
  virtualmachines: vf('virtualmachines', 'VirtualMachine', true),
  k8sclusters: vf('k8sclusters', 'K8sCluster', true),
  k8snodepools: vf('k8snodepools', 'K8sNodePool', true),
  externalcontrollers: vf('externalcontrollers', 'ExternalController'),
  maintainers: vf('maintainers', 'Maintainer'),
  maintainergroups: vf('maintainergroups', 'MaintainerGroup'),
  maintainerassignments: vf('maintainerassignments', 'MaintainerAssignment'),
  zones: vf('zones', 'Zone'),
  events: { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true } as ResourceRef,
} as const;

/** The collection across all namespaces (or of one namespace). */
export function collectionPath(ref: ResourceRef, namespace?: string): string {
  const base = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  return `${base}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${ref.plural}`;
}

export function objectPath(ref: ResourceRef, name: string, namespace?: string, subresource?: string): string {
  return `${collectionPath(ref, ref.namespaced ? namespace : undefined)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}

/** "namespace/name" for namespaced objects, "name" otherwise: the key of caches and listers. */
export function keyOf(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name ?? '';
}

/** A K8sNodePool as API.md describes it (the kind is being added alongside the portal). */
export interface K8sNodePool extends KubeObject {
  spec: { cluster: string; replicas?: number; specification: string; group?: string; version?: string };
  status?: { replicas?: number; readyReplicas?: number; updatedReplicas?: number; version?: string; phase?: string; conditions?: Condition[] };
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** A core/v1 Event, the fields the portal shows. */
export interface KubeEvent extends KubeObject {
  involvedObject: { kind?: string; namespace?: string; name?: string; apiVersion?: string };
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  source?: { component?: string };
  reportingComponent?: string;
}

export function conditionsOf(obj: KubeObject): Condition[] {
  const status = obj.status as { conditions?: Condition[] } | undefined;
  return status?.conditions ?? [];
}

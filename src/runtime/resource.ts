// Which resource a client, informer or controller works on. Everything in the runtime is
// generic over group/version/plural, so VirtFlow's kinds, the built-ins it needs (Events,
// Leases, Namespaces) and a test's own CRD go through the same code.

export interface ResourceType {
  /** "" for the core group. */
  group: string;
  version: string;
  /** The lower-case plural of the URL path, e.g. "virtualmachines". */
  plural: string;
  kind: string;
  namespaced: boolean;
}

export function apiVersionOf(r: Pick<ResourceType, 'group' | 'version'>): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** "configmaps" or "virtualmachines.virtflow.io", as kubectl and RBAC name resources. */
export function resourceName(r: Pick<ResourceType, 'group' | 'plural'>): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

/** The list/watch/create path; across all namespaces when `namespace` is absent. */
export function collectionPath(r: ResourceType, namespace?: string): string {
  const root = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  if (r.namespaced && namespace) return `${root}/namespaces/${encodeURIComponent(namespace)}/${r.plural}`;
  return `${root}/${r.plural}`;
}

export function objectPath(r: ResourceType, key: { namespace?: string; name: string }, subresource?: string): string {
  if (r.namespaced && !key.namespace) throw new Error(`cannot address ${resourceName(r)} "${key.name}" without a namespace`);
  const path = `${collectionPath(r, key.namespace)}/${encodeURIComponent(key.name)}`;
  return subresource ? `${path}/${subresource}` : path;
}

/** The ResourceType of a VirtFlow kind definition (src/kinds). */
export function resourceOfKind(def: {
  group: string;
  version: string;
  plural: string;
  kind: string;
  scope: 'Namespaced' | 'Cluster';
}): ResourceType {
  return { group: def.group, version: def.version, plural: def.plural, kind: def.kind, namespaced: def.scope === 'Namespaced' };
}

export const ConfigMaps: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
export const Events: ResourceType = { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };
export const Namespaces: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };
export const Secrets: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };
export const Leases: ResourceType = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
  namespaced: true,
};
export const ServiceAccounts: ResourceType = { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true };
const rbac = (plural: string, kind: string, namespaced: boolean): ResourceType => ({ group: 'rbac.authorization.k8s.io', version: 'v1', plural, kind, namespaced });
export const ClusterRoles = rbac('clusterroles', 'ClusterRole', false);
export const ClusterRoleBindings = rbac('clusterrolebindings', 'ClusterRoleBinding', false);
export const RoleBindings = rbac('rolebindings', 'RoleBinding', true);
export const CustomResourceDefinitions: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};

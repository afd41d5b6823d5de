// Discovery documents: the legacy form (/api, /apis, /apis/g, /apis/g/v) and the aggregated
// form (apidiscovery.k8s.io/v2) kubectl asks for first.
import { groupVersion, type ResourceInfo } from '../machinery/resource.js';
import type { ResourceRegistry } from './registry.js';

const subresourceVerbs = ['get', 'patch', 'update'];

export function apiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function preferredVersion(registry: ResourceRegistry, group: string, versions: string[]): string {
  const storage = registry.all().find((i) => i.group === group && i.storage);
  return storage?.version ?? versions[0]!;
}

function apiGroup(registry: ResourceRegistry, group: string, versions: string[]) {
  const preferred = preferredVersion(registry, group, versions);
  return {
    name: group,
    versions: versions.map((version) => ({ groupVersion: `${group}/${version}`, version })),
    preferredVersion: { groupVersion: `${group}/${preferred}`, version: preferred },
  };
}

export function apiGroupList(registry: ResourceRegistry) {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: registry
      .groupVersions()
      .filter((g) => g.group !== '')
      .map((g) => apiGroup(registry, g.group, g.versions)),
  };
}

export function apiGroupDocument(registry: ResourceRegistry, group: string) {
  const found = registry.groupVersions().find((g) => g.group === group);
  if (!found) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(registry, group, found.versions) };
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string) {
  const infos = registry.inGroupVersion(group, version);
  if (infos.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const info of infos) {
    resources.push({
      name: info.plural,
      singularName: info.singular,
      namespaced: info.namespaced,
      kind: info.kind,
      verbs: info.verbs,
      ...(info.shortNames.length ? { shortNames: info.shortNames } : {}),
      ...(info.categories.length ? { categories: info.categories } : {}),
      storageVersionHash: storageVersionHash(info),
    });
    if (info.subresources.status) {
      resources.push({ name: `${info.plural}/status`, singularName: '', namespaced: info.namespaced, kind: info.kind, verbs: subresourceVerbs });
    }
    if (info.subresources.scale) {
      resources.push({
        name: `${info.plural}/scale`,
        singularName: '',
        namespaced: info.namespaced,
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
        verbs: subresourceVerbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources };
}

function storageVersionHash(info: ResourceInfo): string {
  return Buffer.from(`${info.group}/${info.version}/${info.kind}`).toString('base64').slice(0, 11);
}

function discoveryResource(info: ResourceInfo) {
  const subresources: Record<string, unknown>[] = [];
  if (info.subresources.status) {
    subresources.push({
      subresource: 'status',
      responseKind: { group: info.group, version: info.version, kind: info.kind },
      verbs: subresourceVerbs,
    });
  }
  if (info.subresources.scale) {
    subresources.push({
      subresource: 'scale',
      responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      verbs: subresourceVerbs,
    });
  }
  return {
    resource: info.plural,
    responseKind: { group: info.group, version: info.version, kind: info.kind },
    scope: info.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: info.singular,
    verbs: info.verbs,
    ...(info.shortNames.length ? { shortNames: info.shortNames } : {}),
    ...(info.categories.length ? { categories: info.categories } : {}),
    ...(subresources.length ? { subresources } : {}),
  };
}

/** The aggregated discovery list for /api (core only) or /apis (every named group). */
export function aggregatedDiscovery(registry: ResourceRegistry, core: boolean, version: 'v2' | 'v2beta1') {
  const groups = registry.groupVersions().filter((g) => (core ? g.group === '' : g.group !== ''));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((g) => {
      const preferred = preferredVersion(registry, g.group, g.versions);
      const ordered = [preferred, ...g.versions.filter((v) => v !== preferred)];
      return {
        metadata: { name: g.group, creationTimestamp: null },
        versions: ordered.map((version) => ({
          version,
          resources: registry.inGroupVersion(g.group, version).map(discoveryResource),
          freshness: 'Current',
        })),
      };
    }),
  };
}

// Which resources the server serves right now: the built-in kinds, plus every version of every
// established CustomResourceDefinition in the store. It follows the cache, so a CRD applied
// through any server replica is served by all of them without a restart.
import { resourceInfosFromCrd } from '../crd/from-crd.js';
import type { KubeObject } from '../machinery/object.js';
import { groupVersion, type ResourceInfo } from '../machinery/resource.js';
import type { WatchCache } from '../store/watch-cache.js';
import { builtinResources, pruneDefaultResources } from './builtins.js';

export const CRD_RESOURCE = 'apiextensions.k8s.io/customresourcedefinitions';

/** The storage identity of a resource: every version of it shares one set of objects. */
export function resourceId(info: Pick<ResourceInfo, 'group' | 'plural'>): string {
  return `${info.group}/${info.plural}`;
}

export class ResourceRegistry {
  private infos: ResourceInfo[] = [];
  private byPath = new Map<string, ResourceInfo>();
  private readonly custom = new Map<string, ResourceInfo[]>();
  /** Bumped on every change, so derived documents (discovery, OpenAPI) can be cached. */
  generation = 0;
  private readonly listeners = new Set<() => void>();

  /**
   * `served`: the built-in kinds beyond the ones every server has; by default the workload
   * kinds served read-only for `kubectl apply --prune`.
   */
  constructor(private readonly served: ResourceInfo[] = pruneDefaultResources) {
    this.rebuild();
  }

  follow(cache: WatchCache): void {
    for (const entry of cache.list(CRD_RESOURCE)) this.setCrd(entry.object);
    cache.onEvent((event) => {
      if (event.resource !== CRD_RESOURCE) return;
      if (event.type === 'DELETED') this.removeCrd(event.object);
      else this.setCrd(event.object);
    });
  }

  onChange(fn: () => void): void {
    this.listeners.add(fn);
  }

  private setCrd(crd: KubeObject): void {
    let infos: ResourceInfo[] = [];
    try {
      infos = resourceInfosFromCrd(crd);
    } catch {
      infos = [];
    }
    this.custom.set(crd.metadata.name ?? '', infos);
    this.rebuild();
  }

  private removeCrd(crd: KubeObject): void {
    this.custom.delete(crd.metadata.name ?? '');
    this.rebuild();
  }

  private rebuild(): void {
    this.infos = [...builtinResources, ...this.served, ...[...this.custom.values()].flat()];
    this.byPath = new Map(this.infos.map((i) => [`${i.group}/${i.version}/${i.plural}`, i]));
    this.generation += 1;
    for (const fn of this.listeners) fn();
  }

  all(): ResourceInfo[] {
    return this.infos;
  }

  lookup(group: string, version: string, plural: string): ResourceInfo | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  /** The version objects of this resource are stored in. */
  storageVersion(info: ResourceInfo): ResourceInfo {
    return this.infos.find((i) => i.group === info.group && i.plural === info.plural && i.storage) ?? info;
  }

  groupVersions(): { group: string; versions: string[] }[] {
    const groups = new Map<string, string[]>();
    for (const info of this.infos) {
      const versions = groups.get(info.group) ?? [];
      if (!versions.includes(info.version)) versions.push(info.version);
      groups.set(info.group, versions);
    }
    return [...groups.entries()].map(([group, versions]) => ({ group, versions }));
  }

  inGroupVersion(group: string, version: string): ResourceInfo[] {
    return this.infos.filter((i) => i.group === group && i.version === version);
  }

  /** The served resource for an object's apiVersion and kind (for owner references etc.). */
  forKind(apiVersion: string, kind: string): ResourceInfo | undefined {
    return this.infos.find((i) => groupVersion(i) === apiVersion && i.kind === kind);
  }
}

// An informer's local copy of the objects it watches, with secondary indexes.
//
// An index maps an object to the values it is found under (a VM under its baremetal, its
// tenant namespace, its group), so a controller asks "which VMs are on host X" in O(result)
// instead of scanning every VM. Objects handed out are the cache's own: treat them as
// read-only and copy (clone) before changing anything.
import type { KubeObject } from '../machinery/object.js';
import { keyOf, keyString, type ObjectKey } from './keys.js';

/** The values `obj` is indexed under; [] leaves it out of that index. */
export type IndexFunc<T> = (obj: T) => string[];

/** Built-in index of every cache: objects by metadata.namespace ("" when cluster-scoped). */
export const namespaceIndex = 'namespace';

export interface CacheDiff<T> {
  added: T[];
  updated: { previous: T; object: T }[];
  deleted: T[];
}

export class Indexer<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.addIndexer(namespaceIndex, (obj) => [obj.metadata.namespace ?? '']);
    for (const [name, fn] of Object.entries(indexers)) this.addIndexer(name, fn);
  }

  /** Adds an index, built at once over what the cache already holds. */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (this.indexers.has(name)) throw new Error(`index "${name}" is already registered`);
    this.indexers.set(name, fn);
    this.indices.set(name, new Map());
    for (const [key, obj] of this.items) this.indexOne(name, fn, key, obj);
  }

  get size(): number {
    return this.items.size;
  }

  get(key: ObjectKey | string): T | undefined {
    return this.items.get(typeof key === 'string' ? key : keyString(key));
  }

  /** Every object, or those of one namespace. */
  list(namespace?: string): T[] {
    return namespace === undefined ? [...this.items.values()] : this.byIndex(namespaceIndex, namespace);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  byIndex(indexName: string, value: string): T[] {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`no index named "${indexName}"`);
    return [...(index.get(value) ?? [])].map((key) => this.items.get(key)!);
  }

  /** The values present in an index, e.g. every baremetal that has VMs. */
  indexValues(indexName: string): string[] {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`no index named "${indexName}"`);
    return [...index.keys()];
  }

  /** Stores `obj`, returning what it replaced. */
  upsert(obj: T): T | undefined {
    const key = keyString(keyOf(obj));
    const previous = this.items.get(key);
    if (previous) this.unindex(key, previous);
    this.items.set(key, obj);
    for (const [name, fn] of this.indexers) this.indexOne(name, fn, key, obj);
    return previous;
  }

  remove(key: ObjectKey | string): T | undefined {
    const k = typeof key === 'string' ? key : keyString(key);
    const previous = this.items.get(k);
    if (!previous) return undefined;
    this.unindex(k, previous);
    this.items.delete(k);
    return previous;
  }

  /**
   * Makes the cache hold exactly `objects` (a fresh list) and says what changed, so deletes
   * missed while disconnected are still delivered. An object whose resourceVersion did not
   * change is not reported as updated.
   */
  replace(objects: T[]): CacheDiff<T> {
    const diff: CacheDiff<T> = { added: [], updated: [], deleted: [] };
    const fresh = new Set<string>();
    for (const obj of objects) {
      fresh.add(keyString(keyOf(obj)));
      const previous = this.upsert(obj);
      if (!previous) diff.added.push(obj);
      else if (previous.metadata.resourceVersion !== obj.metadata.resourceVersion) diff.updated.push({ previous, object: obj });
    }
    for (const key of [...this.items.keys()]) {
      if (!fresh.has(key)) diff.deleted.push(this.remove(key)!);
    }
    return diff;
  }

  private indexOne(name: string, fn: IndexFunc<T>, key: string, obj: T): void {
    const index = this.indices.get(name)!;
    for (const value of new Set(fn(obj))) {
      let keys = index.get(value);
      if (!keys) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      for (const value of new Set(fn(obj))) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}

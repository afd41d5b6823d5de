// The in-memory state every list and watch is served from, kept by the change feed in
// revision order (the same idea as kube-apiserver's watch cache). Lists are consistent at
// the feed's revision, and a watch started from a list's revision misses nothing.
import type { KubeObject } from '../machinery/object.js';
import type { Change, ChangeFeed } from './feed.js';
import type { ChangeType } from './objects.js';

export interface CachedObject {
  key: string;
  namespace: string;
  name: string;
  revision: number;
  object: KubeObject;
}

export interface CacheEvent {
  revision: number;
  type: ChangeType;
  resource: string;
  namespace: string;
  key: string;
  object: KubeObject;
  /** The object before this change, when the cache held it. */
  previous?: KubeObject;
}

export type CacheListener = (event: CacheEvent) => void;

export interface CacheOptions {
  /** How many recent events are kept for watches that start in the past. */
  historySize?: number;
}

export class ObjectCache {
  private readonly byResource = new Map<string, Map<string, CachedObject>>();
  private history: CacheEvent[] = [];
  private historyStart = 0;
  /** Watches can start from any revision >= this one; older starts get 410 Gone. */
  oldestWatchable = 0;
  private readonly listeners = new Set<CacheListener>();
  private readonly historySize: number;

  constructor(opts: CacheOptions = {}) {
    this.historySize = opts.historySize ?? 10_000;
  }

  /** Fills the cache from a snapshot of current rows; later changes come from the feed. */
  load(rows: { resource: string; key: string; namespace: string; name: string; revision: number; value: string }[], compacted: number): void {
    for (const row of rows) {
      this.resourceMap(row.resource).set(row.key, {
        key: row.key,
        namespace: row.namespace,
        name: row.name,
        revision: row.revision,
        object: JSON.parse(row.value) as KubeObject,
      });
    }
    this.oldestWatchable = compacted;
  }

  attach(feed: ChangeFeed): () => void {
    return feed.subscribe((change) => this.apply(change));
  }

  onEvent(fn: CacheListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private resourceMap(resource: string): Map<string, CachedObject> {
    let map = this.byResource.get(resource);
    if (!map) {
      map = new Map();
      this.byResource.set(resource, map);
    }
    return map;
  }

  apply(change: Change): void {
    const map = this.resourceMap(change.resource);
    const current = map.get(change.key);
    const object = JSON.parse(change.value) as KubeObject;
    // After a restart the snapshot may already hold a newer state than a replayed change.
    const stale = current !== undefined && current.revision >= change.revision;
    if (!stale) {
      if (change.type === 'DELETED') map.delete(change.key);
      else
        map.set(change.key, {
          key: change.key,
          namespace: change.namespace,
          name: change.name,
          revision: change.revision,
          object,
        });
    }
    const event: CacheEvent = {
      revision: change.revision,
      type: change.type,
      resource: change.resource,
      namespace: change.namespace,
      key: change.key,
      object,
      previous: current?.object,
    };
    this.remember(event);
    for (const fn of this.listeners) fn(event);
  }

  private remember(event: CacheEvent): void {
    this.history.push(event);
    if (this.history.length - this.historyStart > this.historySize) {
      this.historyStart += 1;
      // Compact the array now and then rather than shifting on every event.
      if (this.historyStart > this.historySize) {
        this.history = this.history.slice(this.historyStart);
        this.historyStart = 0;
      }
      const dropped = this.history[this.historyStart - 1] ?? this.history[this.historyStart];
      if (dropped) this.oldestWatchable = Math.max(this.oldestWatchable, dropped.revision);
    }
  }

  /** Events after `revision`, or undefined when they are no longer kept. */
  eventsAfter(revision: number): CacheEvent[] | undefined {
    if (revision < this.oldestWatchable) return undefined;
    const out: CacheEvent[] = [];
    for (let i = this.history.length - 1; i >= this.historyStart; i--) {
      const event = this.history[i]!;
      if (event.revision <= revision) break;
      out.push(event);
    }
    return out.reverse();
  }

  list(resource: string, namespace?: string): CachedObject[] {
    const map = this.byResource.get(resource);
    if (!map) return [];
    const out: CachedObject[] = [];
    for (const entry of map.values()) {
      if (namespace === undefined || entry.namespace === namespace) out.push(entry);
    }
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  get(resource: string, key: string): CachedObject | undefined {
    return this.byResource.get(resource)?.get(key);
  }

  count(resource: string): number {
    return this.byResource.get(resource)?.size ?? 0;
  }

  /** Forgets a whole resource (its CRD went away). */
  resources(): string[] {
    return [...this.byResource.keys()];
  }
}

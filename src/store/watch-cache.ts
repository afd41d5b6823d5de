// The in-memory state every list and watch is served from, kept by the change feed in
// revision order (the same idea as kube-apiserver's watch cache). Lists are consistent at
// the feed's revision, and a watch started from a list's revision misses nothing. A bounded
// history of recent events serves watches that start in the past and lists at an exact past
// revision (resourceVersionMatch=Exact, and the later pages of a paginated list).
import type { KubeObject } from '../machinery/object.js';
import type { Change, ChangeFeed } from './feed.js';
import type { ChangeType } from './objects.js';

export interface CachedObject {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly revision: number;
  readonly object: KubeObject;
  /** The object as stored, JSON text: what a reader sends without serializing it again. */
  readonly text: string;
}

export interface CacheEvent {
  readonly revision: number;
  readonly type: ChangeType;
  readonly resource: string;
  readonly namespace: string;
  readonly key: string;
  readonly object: KubeObject;
  /** `object` as stored, JSON text. */
  readonly text: string;
  /** The object before this change; undefined for ADDED. */
  readonly previous?: KubeObject;
  /** Whether `previous` is known, without parsing it. */
  readonly hasPrevious: boolean;
  /**
   * The state before this change is not known: it was replayed after a restart and the
   * change before it was already compacted away.
   */
  readonly previousUnknown?: boolean;
}

/**
 * A stored object's text, parsed the first time something reads the object. Most changes
 * are never read as objects by this process (no watcher selects them, no list asks), and
 * parsing every one was a visible share of each write; once parsed, all readers share it.
 */
class StoredText {
  private parsed?: KubeObject;
  constructor(readonly text: string) {}
  get object(): KubeObject {
    return (this.parsed ??= JSON.parse(this.text) as KubeObject);
  }
}

class CacheEntry implements CachedObject {
  constructor(
    readonly key: string,
    readonly namespace: string,
    readonly name: string,
    readonly revision: number,
    readonly stored: StoredText,
  ) {}
  get object(): KubeObject {
    return this.stored.object;
  }
  get text(): string {
    return this.stored.text;
  }
}

class ChangeEvent implements CacheEvent {
  previousUnknown?: boolean;
  constructor(
    readonly revision: number,
    readonly type: ChangeType,
    readonly resource: string,
    readonly namespace: string,
    readonly key: string,
    private readonly stored: StoredText,
    /** The state before (undefined for ADDED). */
    readonly before: StoredText | undefined,
  ) {}
  get object(): KubeObject {
    return this.stored.object;
  }
  get text(): string {
    return this.stored.text;
  }
  get previous(): KubeObject | undefined {
    return this.before?.object;
  }
  get hasPrevious(): boolean {
    return this.before !== undefined;
  }
  /** The text this event keeps alive: its object's and the state's before it. */
  get bytes(): number {
    return this.stored.text.length + (this.before?.text.length ?? 0);
  }
}

export type CacheListener = (event: CacheEvent) => void;

export interface CacheOptions {
  /** How many recent events are kept for watches that start in the past. */
  historySize?: number;
  /**
   * How many bytes of object text those events may hold (each event's object and the state
   * before it); the oldest go first when either bound is passed (default 256 MiB).
   */
  historyBytes?: number;
}

/** Objects may be 1.5 MiB each: ten thousand events of them must not hold the heap. */
export const DEFAULT_HISTORY_BYTES = 256 * 1024 * 1024;

interface ResourceState {
  entries: Map<string, CacheEntry>;
  /** Keys in order, rebuilt lazily after a key was added or removed. */
  sorted?: string[];
}

/** Replaying the retained change log after a restart, below the snapshot's revision. */
interface Replay {
  horizon: number;
  /** Per key, the state after the last replayed change (null: deleted). */
  seen: Map<string, StoredText | null>;
}

export class WatchCache {
  private readonly byResource = new Map<string, ResourceState>();
  private history: ChangeEvent[] = [];
  private historyStart = 0;
  /** Watches can start from any revision >= this one; older starts get 410 Gone. */
  oldestWatchable = 0;
  /** The revision of the newest change applied. */
  revision = 0;
  private readonly listeners = new Set<CacheListener>();
  private readonly historySize: number;
  private readonly historyBytes: number;
  /** Bytes of text the events from historyStart on hold. */
  private heldBytes = 0;
  private replay?: Replay;

  constructor(opts: CacheOptions = {}) {
    this.historySize = Math.max(1, opts.historySize ?? 10_000);
    this.historyBytes = Math.max(1, opts.historyBytes ?? DEFAULT_HISTORY_BYTES);
  }

  /**
   * Fills the cache from a snapshot of current rows; later changes come from the feed, which
   * first replays the retained log from `compacted`. `horizon` is a revision no row of the
   * snapshot is newer than: until the replay passes it, replayed changes only rebuild history.
   */
  load(
    rows: { resource: string; key: string; namespace: string; name: string; revision: number; value: string }[],
    compacted: number,
    horizon = 0,
  ): void {
    for (const row of rows) {
      this.set(this.resourceState(row.resource), new CacheEntry(row.key, row.namespace, row.name, row.revision, new StoredText(row.value)));
    }
    this.oldestWatchable = compacted;
    this.revision = compacted;
    if (horizon > compacted) this.replay = { horizon, seen: new Map() };
  }

  attach(feed: ChangeFeed): () => void {
    return feed.subscribe((change) => this.apply(change));
  }

  onEvent(fn: CacheListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private resourceState(resource: string): ResourceState {
    let state = this.byResource.get(resource);
    if (!state) {
      state = { entries: new Map() };
      this.byResource.set(resource, state);
    }
    return state;
  }

  private set(state: ResourceState, entry: CacheEntry): void {
    if (!state.entries.has(entry.key)) state.sorted = undefined;
    state.entries.set(entry.key, entry);
  }

  private remove(state: ResourceState, key: string): void {
    if (state.entries.delete(key)) state.sorted = undefined;
  }

  apply(change: Change): void {
    const state = this.resourceState(change.resource);
    const current = state.entries.get(change.key);
    const stored = new StoredText(change.value);
    let previous: StoredText | undefined;
    let previousUnknown = false;
    if (this.replay && change.revision <= this.replay.horizon) {
      // The snapshot may already hold a newer state than this change: the state before it
      // is what the replay saw last, or the snapshot's when that is older than this change.
      const seen = this.replay.seen;
      if (change.type === 'ADDED') previous = undefined;
      else if (seen.has(change.key)) previous = seen.get(change.key) ?? undefined;
      else if (current && current.revision < change.revision) previous = current.stored;
      else previousUnknown = true;
      seen.set(change.key, change.type === 'DELETED' ? null : stored);
    } else {
      previous = current?.stored;
    }
    const stale = current !== undefined && current.revision >= change.revision;
    if (!stale) {
      if (change.type === 'DELETED') this.remove(state, change.key);
      else this.set(state, new CacheEntry(change.key, change.namespace, change.name, change.revision, stored));
    }
    this.revision = Math.max(this.revision, change.revision);
    if (this.replay && change.revision >= this.replay.horizon) this.replay = undefined;
    const event = new ChangeEvent(change.revision, change.type, change.resource, change.namespace, change.key, stored, previous);
    if (previousUnknown) event.previousUnknown = true;
    this.remember(event);
    for (const fn of this.listeners) fn(event);
  }

  /** The replay of the retained log has passed the snapshot (or there was none). */
  replayDone(): void {
    this.replay = undefined;
  }

  private remember(event: ChangeEvent): void {
    this.history.push(event);
    this.heldBytes += event.bytes;
    // The newest event stays even alone over the byte bound: a watch must see every change.
    while (
      this.history.length - this.historyStart > this.historySize ||
      (this.heldBytes > this.historyBytes && this.history.length - this.historyStart > 1)
    ) {
      const dropped = this.history[this.historyStart]!;
      this.historyStart += 1;
      this.heldBytes -= dropped.bytes;
      // Watches from the dropped revision on still find every later event.
      this.oldestWatchable = Math.max(this.oldestWatchable, dropped.revision);
    }
    // Compact the array now and then rather than shifting on every event.
    if (this.historyStart > Math.max(1024, this.history.length / 2)) {
      this.history = this.history.slice(this.historyStart);
      this.historyStart = 0;
    }
  }

  /**
   * The change log up to `revision` was compacted: watches and exact lists may no longer
   * start before it, and the events up to it are dropped.
   */
  forgetThrough(revision: number): void {
    if (revision <= this.oldestWatchable) return;
    this.oldestWatchable = Math.min(revision, this.revision);
    while (this.historyStart < this.history.length && this.history[this.historyStart]!.revision <= this.oldestWatchable) {
      this.heldBytes -= this.history[this.historyStart]!.bytes;
      this.historyStart += 1;
    }
    this.history = this.history.slice(this.historyStart);
    this.historyStart = 0;
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

  /** Current objects of one resource, optionally in one namespace, in key order. */
  list(resource: string, namespace?: string): CachedObject[] {
    const state = this.byResource.get(resource);
    if (!state) return [];
    if (!state.sorted) state.sorted = [...state.entries.keys()].sort(compareKeys);
    const out: CachedObject[] = [];
    for (const key of state.sorted) {
      const entry = state.entries.get(key)!;
      if (namespace === undefined || entry.namespace === namespace) out.push(entry);
    }
    return out;
  }

  /**
   * The objects as they were at `revision` (which the cache has reached), in key order; or
   * undefined when the history no longer reaches back that far.
   */
  listAt(resource: string, namespace: string | undefined, revision: number): CachedObject[] | undefined {
    if (revision < this.oldestWatchable) return undefined;
    const current = this.list(resource, namespace);
    let map: Map<string, CachedObject> | undefined;
    for (let i = this.history.length - 1; i >= this.historyStart; i--) {
      const event = this.history[i]!;
      if (event.revision <= revision) break;
      if (event.resource !== resource || (namespace !== undefined && event.namespace !== namespace)) continue;
      map ??= new Map(current.map((e) => [e.key, e]));
      if (event.type === 'ADDED') map.delete(event.key);
      else if (event.previousUnknown) return undefined;
      else if (event.previous === undefined) map.delete(event.key);
      else {
        const before = event.previous;
        map.set(
          event.key,
          new CacheEntry(event.key, event.namespace, before.metadata.name ?? '', Number(before.metadata.resourceVersion ?? 0), event.before!),
        );
      }
    }
    if (!map) return current;
    return [...map.values()].sort((a, b) => compareKeys(a.key, b.key));
  }

  get(resource: string, key: string): CachedObject | undefined {
    return this.byResource.get(resource)?.entries.get(key);
  }

  count(resource: string): number {
    return this.byResource.get(resource)?.entries.size ?? 0;
  }

  /** Every resource the cache holds objects of. */
  resources(): string[] {
    return [...this.byResource.keys()];
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

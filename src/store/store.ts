// The store as the API server sees it: durable writes in PostgreSQL, and a cache kept in
// revision order by the change feed for lists and watches.
import { ObjectCache } from './cache.js';
import type { Database } from './database.js';
import { ChangeFeed } from './feed.js';
import { ObjectStore } from './objects.js';

export interface StoreOptions {
  /** Revisions kept in the change log (and in memory) for watches that start in the past. */
  retainRevisions?: number;
  compactIntervalMs?: number;
  pollIntervalMs?: number;
}

export class Store {
  readonly objects: ObjectStore;
  readonly feed: ChangeFeed;
  readonly cache: ObjectCache;
  private compactTimer?: NodeJS.Timeout;
  private readonly retain: number;

  private constructor(
    readonly db: Database,
    opts: StoreOptions,
  ) {
    this.retain = opts.retainRevisions ?? 10_000;
    this.objects = new ObjectStore(db);
    this.feed = new ChangeFeed(db, { pollIntervalMs: opts.pollIntervalMs });
    this.cache = new ObjectCache({ historySize: this.retain });
    this.objects.onCommitted = () => this.feed.wake();
  }

  static async open(db: Database, opts: StoreOptions = {}): Promise<Store> {
    const store = new Store(db, opts);
    const compacted = await store.compactedRevision();
    const rows = await db.query<{
      key: string;
      resource: string;
      namespace: string;
      name: string;
      revision: string;
      value: string;
    }>('SELECT key, resource, namespace, name, revision, value FROM objects');
    store.cache.load(
      rows.map((r) => ({ ...r, revision: Number(r.revision) })),
      compacted,
    );
    store.cache.attach(store.feed);
    // Replaying the retained log rebuilds the watch history; the snapshot already holds
    // the newest state, so replayed changes older than it leave the state alone.
    await store.feed.start(compacted);
    store.compactTimer = setInterval(() => {
      store.compact().catch(() => {});
    }, opts.compactIntervalMs ?? 60_000);
    store.compactTimer.unref();
    return store;
  }

  /** Waits until the cache reflects every write committed before this call. */
  async syncCache(): Promise<number> {
    const latest = await this.feed.latestAllocated();
    await this.feed.waitFor(latest);
    return this.feed.last;
  }

  async compactedRevision(): Promise<number> {
    const rows = await this.db.query<{ value: string }>(
      "SELECT value FROM store_settings WHERE name = 'compact_revision'",
    );
    return Number(rows[0]?.value ?? 0);
  }

  /** Drops change-log rows older than the retained window, in small batches. */
  async compact(): Promise<number> {
    const target = this.feed.last - this.retain;
    const done = await this.compactedRevision();
    if (target <= done) return done;
    for (let from = done; from < target; from += 5000) {
      const upTo = Math.min(from + 5000, target);
      await this.db.transaction(async (tx) => {
        await tx.query('DELETE FROM changes WHERE id <= ?', [upTo]);
        await tx.query(
          "UPDATE store_settings SET value = GREATEST(value::bigint, ?::bigint)::text WHERE name = 'compact_revision'",
          [upTo],
        );
      });
    }
    return target;
  }

  async close(): Promise<void> {
    clearInterval(this.compactTimer);
    await this.feed.stop();
  }
}

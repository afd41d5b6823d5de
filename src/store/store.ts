// The store as the API server sees it: durable writes in PostgreSQL, and a cache kept in
// revision order by the change feed for lists and watches.
import { WatchCache } from './watch-cache.js';
import type { Database } from './database.js';
import { noEncryption, type SecretsEncryption } from './encryption.js';
import { resealStaleRows } from './reseal.js';
import { ChangeFeed } from './feed.js';
import { ObjectStore } from './objects.js';

export interface StoreOptions {
  /** Revisions kept in the change log for watches that start in the past (default 10,000). */
  retainRevisions?: number;
  /** Events kept in memory for watches and exact lists in the past (default retainRevisions). */
  historySize?: number;
  /** Bytes of object text that history may hold (default 256 MiB; see WatchCache). */
  historyBytes?: number;
  /** How often the change log is compacted (default one minute). */
  compactIntervalMs?: number;
  pollIntervalMs?: number;
  /** Seals Secrets at rest (default: none, every value stored as it is). */
  encryption?: SecretsEncryption;
  /**
   * The change feed met a change it cannot decrypt (another replica was given a key this one
   * lacks); it retries until this process is restarted with the right keys.
   */
  onFeedError?: (err: Error) => void;
}

const COMPACT_BATCH = 5000;

export class Store {
  readonly objects: ObjectStore;
  readonly feed: ChangeFeed;
  readonly cache: WatchCache;
  private compactTimer?: NodeJS.Timeout;
  private readonly retain: number;

  private constructor(
    readonly db: Database,
    opts: StoreOptions,
  ) {
    this.retain = opts.retainRevisions ?? 10_000;
    const encryption = opts.encryption ?? noEncryption;
    this.objects = new ObjectStore(db, {}, encryption);
    this.feed = new ChangeFeed(db, {
      pollIntervalMs: opts.pollIntervalMs,
      ownWriter: this.objects.writerId,
      encryption,
      onError: opts.onFeedError,
    });
    this.cache = new WatchCache({ historySize: opts.historySize ?? this.retain, historyBytes: opts.historyBytes });
    // This process's commits reach its own feed from memory; other replicas get the NOTIFY
    // each write statement sends.
    this.objects.listener = {
      writing: () => this.feed.writing(),
      rolledBack: () => this.feed.rolledBack(),
      written: (outcome) => this.feed.written(outcome),
    };
  }

  static async open(db: Database, opts: StoreOptions = {}): Promise<Store> {
    const store = new Store(db, opts);
    // Every sealed row under the first key before anything reads them; a server that cannot
    // decrypt one (the wrong keys, or a key dropped while rows still need it) refuses to
    // start and names the keys it lacks, rather than serve a store it can only partly read.
    await resealStaleRows(db, store.objects.encryption);
    const compacted = await store.compactedRevision();
    const rows = await db.query<{
      key: string;
      resource: string;
      namespace: string;
      name: string;
      revision: string;
      value: string;
    }>('SELECT key, resource, namespace, name, revision, value FROM objects');
    // No row of the snapshot is newer than a revision allocated after it was read.
    const horizon = await store.feed.latestAllocated();
    const encryption = store.objects.encryption;
    store.cache.load(
      rows.map((r) => ({ ...r, revision: Number(r.revision), value: encryption.open(r.key, r.value, Number(r.revision)) })),
      compacted,
      horizon,
    );
    store.cache.attach(store.feed);
    // Replaying the retained log rebuilds the watch history; the snapshot already holds
    // the newest state, so replayed changes older than it leave the state alone. Nothing is
    // served before the replay has passed the snapshot.
    await store.feed.start(compacted);
    await store.feed.waitFor(horizon);
    store.cache.replayDone();
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

  /**
   * Drops change-log rows older than the retained window, in small batches, each in its own
   * transaction, and records the compact revision. Several replicas may run it: one finding
   * the work done is a normal outcome. Watches and exact lists at or below the compact
   * revision then get 410 Gone here too, even where this process's memory still reaches back.
   */
  async compact(): Promise<number> {
    const target = this.feed.last - this.retain;
    const done = await this.compactedRevision();
    this.cache.forgetThrough(done);
    if (target <= done) return done;
    for (let from = done; from < target; from += COMPACT_BATCH) {
      const upTo = Math.min(from + COMPACT_BATCH, target);
      await this.db.transaction(async (tx) => {
        await tx.query('DELETE FROM changes WHERE id > ? AND id <= ?', [from, upTo]);
        await tx.query(
          "UPDATE store_settings SET value = GREATEST(value::bigint, ?::bigint)::text WHERE name = 'compact_revision'",
          [upTo],
        );
      });
      this.cache.forgetThrough(upTo);
    }
    return target;
  }

  async close(): Promise<void> {
    clearInterval(this.compactTimer);
    await this.feed.stop();
  }
}

// The change feed: one per process. It reads the change log strictly in revision order and
// hands each change to its subscribers exactly once. NOTIFY and local commits only wake it;
// a slow poll covers lost notifications. A revision that is missing while later ones are
// visible is either still being written (its advisory lock is held: wait) or was rolled back
// (the lock is free and the row never appears: skip it).
import pg from 'pg';
import type { Database } from './database.js';
import { CHANGES_CHANNEL, type ChangeType } from './objects.js';

export interface Change {
  revision: number;
  type: ChangeType;
  resource: string;
  namespace: string;
  name: string;
  key: string;
  value: string;
}

interface Waiter {
  revision: number;
  resolve: () => void;
}

const BATCH = 1000;
/** How long a free-locked missing revision is re-checked before it is taken as a hole. */
const HOLE_GRACE_MS = 10;

export interface ChangeFeedOptions {
  pollIntervalMs?: number;
}

export class ChangeFeed {
  /** Every revision up to here has been delivered or is known never to exist. */
  last = 0;
  private listener?: pg.Client;
  private subscribers = new Set<(change: Change) => void>();
  private running = false;
  private again = false;
  private stopped = false;
  private poll?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private waiters: Waiter[] = [];
  private holeSeen = new Map<number, number>();
  private readonly pollIntervalMs: number;

  constructor(
    private readonly db: Database,
    opts: ChangeFeedOptions = {},
  ) {
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
  }

  subscribe(fn: (change: Change) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** Starts listening, positioned after `from` (the revision the caller's state reflects). */
  async start(from: number): Promise<void> {
    this.last = from;
    // LISTEN needs its own direct connection: a pooled one may be gone when NOTIFY fires.
    this.listener = new pg.Client({ connectionString: this.db.url });
    this.listener.on('notification', () => this.wake());
    this.listener.on('error', () => this.reconnectListener());
    await this.listener.connect();
    await this.listener.query(`LISTEN ${CHANGES_CHANNEL}`);
    this.poll = setInterval(() => this.wake(), this.pollIntervalMs);
    this.poll.unref();
    await this.pump();
  }

  private reconnectListener(): void {
    if (this.stopped) return;
    const old = this.listener;
    this.listener = undefined;
    old?.end().catch(() => {});
    setTimeout(() => {
      if (this.stopped) return;
      const client = new pg.Client({ connectionString: this.db.url });
      client.on('notification', () => this.wake());
      client.on('error', () => this.reconnectListener());
      client
        .connect()
        .then(() => client.query(`LISTEN ${CHANGES_CHANNEL}`))
        .then(() => {
          this.listener = client;
          this.wake();
        })
        .catch(() => this.reconnectListener());
    }, 500).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    clearTimeout(this.retry);
    await this.listener?.end().catch(() => {});
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  /** Resolves once every revision up to `revision` has been delivered. */
  waitFor(revision: number): Promise<void> {
    if (this.last >= revision || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ revision, resolve });
      this.wake();
    });
  }

  /** The newest revision handed out by the store, committed or not. */
  async latestAllocated(): Promise<number> {
    const rows = await this.db.query<{ last_value: string; is_called: boolean }>(
      'SELECT last_value, is_called FROM revision_seq',
    );
    const row = rows[0]!;
    return row.is_called ? Number(row.last_value) : 0;
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.pump()
      .catch(() => this.scheduleRetry(50))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private scheduleRetry(ms: number): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.wake();
    }, ms);
    this.retry.unref();
  }

  private async pump(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const rows = await this.db.query<{
        id: string;
        type: ChangeType;
        resource: string;
        namespace: string;
        name: string;
        key: string;
        value: string;
      }>(
        'SELECT id, type, resource, namespace, name, key, value FROM changes WHERE id > ? ORDER BY id LIMIT ?',
        [this.last, BATCH],
      );
      let blocked = false;
      for (const row of rows) {
        const revision = Number(row.id);
        if (revision !== this.last + 1) {
          const outcome = await this.resolveGap(revision - 1);
          if (outcome === 'blocked') {
            blocked = true;
            break;
          }
          if (outcome === 'reread') break;
        }
        this.deliver({ ...row, revision });
      }
      if (blocked) {
        this.scheduleRetry(5);
        return;
      }
      if (rows.length === BATCH) continue;
      // Nothing visible beyond `last`: a waiter may still be waiting for revisions that
      // were allocated and then rolled back, which no later row will ever reveal.
      const wanted = this.waiters.reduce((max, w) => Math.max(max, w.revision), 0);
      if (wanted > this.last) {
        const outcome = await this.resolveGap(wanted);
        if (outcome === 'blocked') this.scheduleRetry(5);
        else if (outcome === 'reread') continue;
      }
      this.releaseWaiters();
      return;
    }
  }

  /**
   * Tries to move `last` over missing revisions up to `upTo`. 'reread' means a missing
   * revision turned out to be committed after all and must be read in order.
   */
  private async resolveGap(upTo: number): Promise<'done' | 'blocked' | 'reread'> {
    while (this.last < upTo) {
      const missing = this.last + 1;
      const [lock] = await this.db.query<{ free: boolean }>(
        'SELECT pg_try_advisory_xact_lock(?::bigint) AS free',
        [missing],
      );
      if (!lock!.free) return 'blocked';
      const present = await this.db.query('SELECT 1 FROM changes WHERE id = ?', [missing]);
      if (present.length > 0) return 'reread';
      const firstSeen = this.holeSeen.get(missing);
      const now = Date.now();
      if (firstSeen === undefined) {
        this.holeSeen.set(missing, now);
        return 'blocked';
      }
      if (now - firstSeen < HOLE_GRACE_MS) return 'blocked';
      this.holeSeen.delete(missing);
      this.last = missing;
    }
    this.releaseWaiters();
    return 'done';
  }

  private deliver(change: Change): void {
    this.last = change.revision;
    this.holeSeen.delete(change.revision);
    for (const fn of this.subscribers) fn(change);
    if (this.waiters.length > 0) this.releaseWaiters();
  }

  private releaseWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.revision <= this.last) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}

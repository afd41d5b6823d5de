// The change feed: one per process. It hands every change to its subscribers exactly once,
// strictly in revision order. Changes this process committed come straight from memory (the
// write path reports each one, or the revision it left unused); changes of other replicas,
// and anything this process cannot account for, are read from the change log. NOTIFY only
// wakes it, and a slow poll covers lost notifications. A revision that is missing while later
// ones are visible is either still being written (its advisory lock is held: wait) or was
// rolled back (the lock is free and the row never appears: skip it).
import pg from 'pg';
import type { Database } from './database.js';
import { DecryptionError, noEncryption, type SecretsEncryption } from './encryption.js';
import { CHANGES_CHANNEL, type CommitListener, type CommittedChange } from './objects.js';

/** A change as subscribers get it: as it was committed, whichever process committed it. */
export type Change = CommittedChange;

interface Waiter {
  revision: number;
  resolve: () => void;
}

const BATCH = 1000;
/** How long a free-locked missing revision is re-checked before it is taken as a hole. */
const HOLE_GRACE_MS = 10;
/** How long a gap is left to this process's writes in flight before the log is read. */
const LOCAL_GAP_MS = 20;

export interface ChangeFeedOptions {
  pollIntervalMs?: number;
  /** The sender name of this process's own commit notifications, which it ignores. */
  ownWriter?: string;
  /** Opens the sealed values the log holds (Secrets). */
  encryption?: SecretsEncryption;
  /** Told when a change cannot be decrypted; the feed keeps retrying it. */
  onError?: (err: Error) => void;
}

export class ChangeFeed implements CommitListener {
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
  /** Committed here and not delivered yet; null marks a revision a write left unused. */
  private local = new Map<number, Change | null>();
  /** Write statements of this process still running. */
  private inFlight = 0;
  /** Something only the log can tell may have happened (another replica, a failed write). */
  private needLog = true;
  private gapSince?: number;
  private readonly pollIntervalMs: number;
  private readonly ownWriter?: string;
  private readonly encryption: SecretsEncryption;
  private readonly onError?: (err: Error) => void;
  /** The last decryption failure reported, so that a retry loop reports it once. */
  private reported?: string;

  constructor(
    private readonly db: Database,
    opts: ChangeFeedOptions = {},
  ) {
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.ownWriter = opts.ownWriter;
    this.encryption = opts.encryption ?? noEncryption;
    this.onError = opts.onError;
  }

  subscribe(fn: (change: Change) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** Starts listening, positioned after `from` (the revision the caller's state reflects). */
  async start(from: number): Promise<void> {
    this.last = from;
    this.needLog = true;
    // LISTEN needs its own direct connection: a pooled one may be gone when NOTIFY fires.
    this.listener = this.connectListener();
    await this.listener.connect();
    await this.listener.query(`LISTEN ${CHANGES_CHANNEL}`);
    this.poll = setInterval(() => {
      this.needLog = true;
      this.wake();
    }, this.pollIntervalMs);
    this.poll.unref();
    await this.pump();
  }

  private connectListener(): pg.Client {
    const client = new pg.Client({ connectionString: this.db.url });
    client.on('notification', (message) => {
      // "<revision>:<sender>"; this process's own commits reach it from memory already.
      const [revision, sender] = (message.payload ?? '').split(':');
      if (sender !== undefined && sender === this.ownWriter) return;
      this.notified(Number(revision));
    });
    client.on('error', () => this.reconnectListener());
    return client;
  }

  /** A write statement (of another process, or this one) committed up to `revision`. */
  private notified(revision: number): void {
    if (Number.isFinite(revision) && (revision <= this.last || this.local.has(revision))) return;
    this.needLog = true;
    this.wake();
  }

  private reconnectListener(): void {
    if (this.stopped) return;
    const old = this.listener;
    this.listener = undefined;
    old?.end().catch(() => {});
    setTimeout(() => {
      if (this.stopped) return;
      const client = this.connectListener();
      client
        .connect()
        .then(() => client.query(`LISTEN ${CHANGES_CHANNEL}`))
        .then(() => {
          this.listener = client;
          // Notifications may have been missed while disconnected.
          this.needLog = true;
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
    const { rows } = await this.db.pool.query<{ last_value: string; is_called: boolean }>(
      'SELECT last_value, is_called FROM revision_seq',
    );
    const row = rows[0]!;
    return row.is_called ? Number(row.last_value) : 0;
  }

  // ---- CommitListener: what this process's write path reports ---------------------------

  writing(): void {
    this.inFlight += 1;
  }

  written(outcome: { change: CommittedChange } | { hole: number } | undefined): void {
    this.inFlight -= 1;
    if (outcome === undefined) {
      // The statement failed: it may have taken a revision nobody will report.
      this.needLog = true;
    } else if ('change' in outcome) {
      if (outcome.change.revision > this.last) this.local.set(outcome.change.revision, outcome.change);
    } else if (outcome.hole > this.last) {
      this.local.set(outcome.hole, null);
    }
    this.wake();
  }

  rolledBack(): void {
    this.needLog = true;
    this.wake();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.pump()
      .catch((err: unknown) => {
        if (err instanceof DecryptionError && err.message !== this.reported) {
          this.reported = err.message;
          this.onError?.(err);
        }
        this.needLog = true;
        // Undecryptable stays so until an operator acts: retry slowly.
        this.scheduleRetry(err instanceof DecryptionError ? 1000 : 50);
      })
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

  /** Delivers what this process committed, as far as it continues the order. */
  private drainLocal(): void {
    for (;;) {
      const next = this.local.get(this.last + 1);
      if (next === undefined) break;
      this.local.delete(this.last + 1);
      if (next === null) this.skip(this.last + 1);
      else this.deliver(next);
    }
    if (this.local.size > 0) {
      for (const revision of this.local.keys()) if (revision <= this.last) this.local.delete(revision);
    }
  }

  /** The newest revision someone is waiting for or this process committed. */
  private wanted(): number {
    let wanted = 0;
    for (const w of this.waiters) wanted = Math.max(wanted, w.revision);
    for (const revision of this.local.keys()) wanted = Math.max(wanted, revision);
    return wanted;
  }

  private async pump(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      this.drainLocal();
      const wanted = this.wanted();
      if (!this.needLog && wanted <= this.last) {
        this.gapSince = undefined;
        this.releaseWaiters();
        return;
      }
      if (!this.needLog && this.inFlight > 0) {
        // A gap this process's own writes will most likely fill; they wake the feed.
        const now = Date.now();
        this.gapSince ??= now;
        if (now - this.gapSince < LOCAL_GAP_MS) {
          this.scheduleRetry(LOCAL_GAP_MS - (now - this.gapSince));
          return;
        }
      }
      this.gapSince = undefined;
      this.needLog = false;
      let outcome = await this.readLog();
      if (outcome === 'done') {
        this.drainLocal();
        // Nothing visible beyond `last`: a wanted revision may have been taken and rolled
        // back, which no later row will ever reveal.
        const still = this.wanted();
        if (still > this.last) outcome = await this.resolveGap(still);
      }
      if (outcome === 'again') {
        this.needLog = true;
        continue;
      }
      if (outcome === 'blocked') {
        this.needLog = true;
        this.scheduleRetry(5);
        return;
      }
      this.releaseWaiters();
      return;
    }
  }

  /** Reads the log after `last` and delivers it in order. */
  private async readLog(): Promise<'done' | 'again' | 'blocked'> {
    const { rows } = await this.db.pool.query<Omit<CommittedChange, 'revision'> & { id: string }>({
      name: 'vf-read-changes',
      text: 'SELECT id, type, resource, namespace, name, key, value FROM changes WHERE id > $1 ORDER BY id LIMIT $2',
      values: [this.last, BATCH],
    });
    for (const row of rows) {
      const revision = Number(row.id);
      this.drainLocal();
      if (revision <= this.last) continue;
      if (revision !== this.last + 1) {
        const outcome = await this.resolveGap(revision - 1);
        if (outcome !== 'done') return outcome;
      }
      if (revision <= this.last) continue;
      this.deliver({ ...row, revision, value: this.encryption.open(row.key, row.value, revision) });
    }
    return rows.length === BATCH ? 'again' : 'done';
  }

  /**
   * Tries to move `last` over missing revisions up to `upTo`. 'again' means a missing
   * revision turned out to be committed after all (in the log, or here) and must be
   * delivered in order; 'blocked' means one is still being written, or has not been seen
   * missing for long enough to be sure. Missing revisions are checked a thousand at a time,
   * so a stretch of rolled-back writes costs one grace period, not one each.
   */
  private async resolveGap(upTo: number): Promise<'done' | 'blocked' | 'again'> {
    while (this.last < upTo) {
      if (this.local.has(this.last + 1)) return 'again';
      const from = this.last + 1;
      const to = Math.min(upTo, from + BATCH - 1);
      // The lock is tried first: a writer holds its revision's lock until it commits, so a
      // row missing under a free lock was rolled back (or its writer is a moment away from
      // taking the lock, which the grace period covers).
      const { rows } = await this.db.pool.query<{ r: string; free: boolean; present: boolean }>(
        `SELECT r, pg_try_advisory_xact_lock(r) AS free, EXISTS (SELECT 1 FROM changes WHERE id = r) AS present
           FROM generate_series($1::bigint, $2::bigint) AS r ORDER BY r`,
        [from, to],
      );
      const now = Date.now();
      let advancing = true;
      for (const row of rows) {
        const revision = Number(row.r);
        if (revision <= this.last) continue;
        if (this.local.has(revision)) {
          if (advancing) return 'again';
          break;
        }
        if (row.present || !row.free) {
          if (advancing) return row.present ? 'again' : 'blocked';
          break;
        }
        let firstSeen = this.holeSeen.get(revision);
        if (firstSeen === undefined) {
          firstSeen = now;
          this.holeSeen.set(revision, now);
        }
        if (advancing && now - firstSeen >= HOLE_GRACE_MS) this.skip(revision);
        else advancing = false;
      }
      if (!advancing) return 'blocked';
    }
    this.releaseWaiters();
    return 'done';
  }

  /** `revision` is known never to hold a change. */
  private skip(revision: number): void {
    this.last = revision;
    this.holeSeen.delete(revision);
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

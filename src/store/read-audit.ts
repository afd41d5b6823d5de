// Reads (get, list, watch) go into the audit table too, with the real user, as kube-apiserver's
// audit log records them at the Metadata level. There are far more reads than writes, so they
// are written in batches: one INSERT per quarter second (or per thousand reads), never one per
// request, and a read never waits for its record.
import type pg from 'pg';
import { AUDIT_COLUMNS, auditParams, type AuditRecord } from './objects.js';

const FLUSH_MS = 250;
const MAX_BATCH = 1000;
/** Reads kept while the database is away; past this the oldest unsent ones are dropped. */
const MAX_PENDING = 50_000;

export class ReadAuditLog {
  private pending: unknown[][] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  /** Reads dropped because the database was away too long (a gauge for operators and tests). */
  dropped = 0;

  /** `now` stamps each read when it is made, not when its batch is written (injected for tests). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(audit: AuditRecord, code: number): void {
    if (this.pending.length >= MAX_PENDING) {
      this.pending.shift();
      this.dropped += 1;
    }
    this.pending.push([...auditParams(audit, code), this.now().toISOString()]);
    if (this.pending.length >= MAX_BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  /** Writes what is pending; resolves once it is stored (or failed, and kept for the next try). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    const rows = this.pending.splice(0, MAX_BATCH);
    if (rows.length === 0) return;
    this.flushing = this.pool
      .query(
        // The time of each read, which may be well before this flush (the database was away).
        `INSERT INTO audit_events (time, ${AUDIT_COLUMNS.slice(1)}
         SELECT (r->>9)::timestamptz, r->>0, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, (r->>7)::integer, r->>8 FROM jsonb_array_elements($1::jsonb) AS r`,
        [JSON.stringify(rows)],
      )
      .then(
        () => undefined,
        () => {
          // The database is away: keep them for the next flush.
          this.pending.unshift(...rows);
          this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS * 4).unref();
        },
      );
    await this.flushing;
    if (this.pending.length > 0) this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }
}

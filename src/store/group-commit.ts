// Group commit: writes that arrive while earlier ones are still committing are sent together,
// as one statement and one transaction, instead of one each. Under load that turns many
// commits (each a round trip, a WAL flush and a wake-up of a PostgreSQL backend) into a few;
// a write that finds no queue goes out at once, so a quiet server adds no latency.
//
// A batch holds writes of one operation on distinct keys, and no two batches in flight share
// a key, so a statement never touches a row twice and this process never waits on itself.
// Every write in a batch takes its own revision (and that revision's advisory lock, see
// objects.ts) and is decided on its own: a create whose name is taken, or an update whose
// precondition failed, leaves its revision unused while the others in the batch commit. A
// batch that fails as a whole (a deadlock with another replica's batch, say) is retried one
// write at a time, so one write's failure is never another's.
import type pg from 'pg';
import type { AuditRecord, ChangeType } from './objects.js';

export type WriteOperation = 'create' | 'update' | 'delete';

export interface BatchedWrite {
  operation: WriteOperation;
  /** The storage key ("group/plural/namespace/name"). */
  key: string;
  resource: string;
  namespace: string;
  name: string;
  /**
   * The object's JSON text as JSON.stringify writes it (so without raw control characters),
   * with `marker` where its revision goes; or a sealed value, which has none (encryption.ts).
   */
  text: string;
  /** The revision the stored row must still have (update and delete). */
  seen?: number;
  /** The audit entry written with the change, and the HTTP code it records. */
  audit: AuditRecord & { code: number };
}

/**
 * Each statement that committed a change sends NOTIFY on `channel` with the payload
 * "<newest revision>:<sender>", so that a process can tell its own commits from others'.
 */
export interface CommitNotice {
  channel: string;
  sender: string;
}

/** The revision a write took, and whether it was written (false: it was left unused). */
export interface BatchOutcome {
  revision: number;
  written: boolean;
}

export interface GroupCommitOptions {
  /**
   * Statements in flight at once (default 1). One means the fewest, largest batches, and
   * NOTIFY in the statement then costs nothing: PostgreSQL serializes the commits of
   * notifying transactions, and this process has only one commit in flight anyway.
   */
  maxInFlight?: number;
  /** Writes in one statement at most (default 128). */
  maxBatch?: number;
  /** Object text in one statement at most, in characters (default 4 MiB). */
  maxBatchText?: number;
  /** A whole batch failed: revisions it took were rolled back and will never be reported. */
  onRolledBack?: () => void;
}

interface Pending {
  write: BatchedWrite;
  resolve: (outcome: BatchOutcome) => void;
  reject: (err: unknown) => void;
  /** Already failed once in a batch: runs alone. */
  alone?: boolean;
}

/** The change each operation records in the log. */
export const CHANGE_TYPE: Record<WriteOperation, ChangeType> = { create: 'ADDED', update: 'MODIFIED', delete: 'DELETED' };

/** How each operation changes the current row, given `val` (the batch with revisions and values). */
const CURRENT_ROW: Record<WriteOperation, string> = {
  create: `INSERT INTO objects (key, resource, namespace, name, revision, create_revision, value)
           SELECT key, resource, namespace, name, id, id, v FROM val
           ON CONFLICT (key) DO NOTHING RETURNING key`,
  update: `UPDATE objects o SET revision = val.id, value = val.v FROM val
           WHERE o.key = val.key AND o.revision = val.seen RETURNING o.key`,
  delete: `DELETE FROM objects o USING val
           WHERE o.key = val.key AND o.revision = val.seen RETURNING o.key`,
};

/**
 * One statement for a batch of one operation, its writes passed as rows of one JSON array. The
 * revision and its advisory lock are taken per write in `rev`, a CTE with volatile functions,
 * which PostgreSQL evaluates exactly once per row; the lock is held until commit.
 */
function batchStatement(operation: WriteOperation): string {
  return `WITH input AS (
      SELECT e.ord, e.w->>0 AS key, e.w->>1 AS resource, e.w->>2 AS namespace, e.w->>3 AS name,
             e.w->>4 AS text, (e.w->>5)::bigint AS seen,
             e.w->>6 AS a_user, e.w->>7 AS a_verb, e.w->>8 AS a_group, e.w->>9 AS a_resource,
             e.w->>10 AS a_subresource, e.w->>11 AS a_namespace, e.w->>12 AS a_name,
             e.w->>13 AS a_agent, (e.w->>14)::int AS a_code
        FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(w, ord)),
    rev AS (SELECT s.ord, s.id, pg_advisory_xact_lock(s.id) AS locked
              FROM (SELECT ord, nextval('revision_seq') AS id FROM input) s),
    val AS (SELECT input.*, rev.id, replace(input.text, $2::text, rev.id::text) AS v
              FROM input JOIN rev USING (ord)),
    cur AS (${CURRENT_ROW[operation]}),
    log AS (INSERT INTO changes (id, key, resource, namespace, name, type, value)
              SELECT val.id, val.key, val.resource, val.namespace, val.name, '${CHANGE_TYPE[operation]}', val.v
                FROM val JOIN cur USING (key)
              RETURNING id, key),
    audit AS (INSERT INTO audit_events (username, verb, api_group, resource, subresource, namespace, name, code, user_agent)
              SELECT a_user, a_verb, a_group, a_resource, a_subresource, a_namespace, a_name, a_code, a_agent
                FROM val JOIN log USING (key)),
    wake AS (SELECT pg_notify($3::text, max(log.id)::text || ':' || $4::text) AS sent FROM log HAVING max(log.id) IS NOT NULL)
    SELECT val.ord, val.id AS revision, (log.key IS NOT NULL) AS written
      FROM val LEFT JOIN log USING (key) LEFT JOIN wake ON true`;
}

const STATEMENTS: Record<WriteOperation, string> = {
  create: batchStatement('create'),
  update: batchStatement('update'),
  delete: batchStatement('delete'),
};

/**
 * The batch as one JSON document of rows, unpacked by PostgreSQL. The server's event loop is
 * what limits a busy server, and this way the per-value work of sending a batch (quoting
 * each of its texts and parameters) is one native JSON.stringify there, the rest done by
 * PostgreSQL in another process. Each string arrives exactly as sent, since none can hold
 * what jsonb refuses (a NUL, a lone surrogate): object texts are JSON.stringify's output,
 * names are validated, and the rest come from the request line, its headers and the
 * authenticated user.
 */
function batchDocument(writes: BatchedWrite[]): string {
  return JSON.stringify(
    writes.map((w) => [
      w.key,
      w.resource,
      w.namespace,
      w.name,
      w.text,
      w.seen ?? null,
      w.audit.username,
      w.audit.verb,
      w.audit.apiGroup,
      w.audit.resource,
      w.audit.subresource,
      w.audit.namespace,
      w.audit.name,
      w.audit.userAgent,
      w.audit.code,
    ]),
  );
}

export class GroupCommitter {
  private queue: Pending[] = [];
  /** Keys with a statement in flight. */
  private readonly busyKeys = new Set<string>();
  private inFlight = 0;
  private readonly maxInFlight: number;
  private readonly maxBatch: number;
  private readonly maxBatchText: number;

  constructor(
    private readonly pool: pg.Pool,
    /** The per-process stand-in for the revision inside `text` (see objects.ts). */
    private readonly marker: string,
    /** Where each commit is announced to other replicas. */
    private readonly notice: CommitNotice,
    private readonly opts: GroupCommitOptions = {},
  ) {
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
    this.maxBatch = Math.max(1, opts.maxBatch ?? 128);
    this.maxBatchText = opts.maxBatchText ?? 4 * 1024 * 1024;
  }

  submit(write: BatchedWrite): Promise<BatchOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.inFlight < this.maxInFlight) {
      const batch = this.takeBatch();
      if (batch.length === 0) return;
      this.inFlight += 1;
      for (const p of batch) this.busyKeys.add(p.write.key);
      void this.run(batch).finally(() => {
        for (const p of batch) this.busyKeys.delete(p.write.key);
        this.inFlight -= 1;
        this.dispatch();
      });
    }
  }

  /**
   * The oldest runnable write and, after it, queued writes of the same operation on keys not
   * yet taken. A write whose key is busy stays queued, keeping its order behind the one before.
   */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const left: Pending[] = [];
    const keys = new Set<string>();
    let text = 0;
    let i = 0;
    for (; i < this.queue.length && batch.length < this.maxBatch; i++) {
      const p = this.queue[i]!;
      const key = p.write.key;
      const blocked = this.busyKeys.has(key) || keys.has(key);
      // A later write to a key must not overtake an earlier one to the same key.
      keys.add(key);
      const first = batch[0];
      const fits =
        !blocked &&
        (first === undefined ||
          (p.write.operation === first.write.operation && !p.alone && text + p.write.text.length <= this.maxBatchText));
      if (!fits) {
        left.push(p);
        continue;
      }
      text += p.write.text.length;
      batch.push(p);
      if (p.alone) {
        i += 1;
        break;
      }
    }
    if (batch.length > 0) this.queue = left.concat(this.queue.slice(i));
    return batch;
  }

  private async run(batch: Pending[]): Promise<void> {
    const writes = batch.map((p) => p.write);
    let rows: { ord: string; revision: string; written: boolean }[];
    try {
      ({ rows } = await this.pool.query<{ ord: string; revision: string; written: boolean }>({
        name: `vf-batch-${writes[0]!.operation}`,
        text: STATEMENTS[writes[0]!.operation],
        values: [batchDocument(writes), this.marker, this.notice.channel, this.notice.sender],
      }));
    } catch (err) {
      this.opts.onRolledBack?.();
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // Each write on its own, at the front of the queue, so none loses its place.
      for (const p of batch) p.alone = true;
      this.queue.unshift(...batch);
      return;
    }
    for (const row of rows) {
      const p = batch[Number(row.ord) - 1]!;
      p.resolve({ revision: Number(row.revision), written: row.written });
    }
  }
}

// The one write path every mutation goes through. Each write is one transaction that takes a
// new revision from the store-wide sequence, replaces the object's current row, appends the
// change to the log, records the audit entry, and wakes the change feeds (NOTIFY carries only
// the revision). The revision's advisory lock is held until the transaction ends, which lets a
// change feed tell a revision still being written from one that was rolled back.
import type { KubeObject } from '../machinery/object.js';
import type { Database, Sql } from './database.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ObjectKey {
  /** "group/plural", with an empty group for the core API: "/configmaps". */
  resource: string;
  namespace: string;
  name: string;
}

export interface StoredRow {
  object: KubeObject;
  revision: number;
}

export interface AuditRecord {
  username: string;
  verb: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  userAgent: string;
  code?: number;
}

export const CHANGES_CHANNEL = 'virtflow_changes';

export function storageKey(key: ObjectKey): string {
  return `${key.resource}/${key.namespace}/${key.name}`;
}

/** What an update callback decides, given the current object. */
export type UpdateDecision =
  | { action: 'write'; object: KubeObject }
  | { action: 'delete'; object: KubeObject }
  | { action: 'none' };

const AUDIT_COLUMNS =
  '(username, verb, api_group, resource, subresource, namespace, name, code, user_agent)';
const INSERT_AUDIT = `INSERT INTO audit_events ${AUDIT_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
/** The same row, written only when the change it belongs to was written. */
const AUDIT_WITH_CHANGE = `INSERT INTO audit_events ${AUDIT_COLUMNS}
  SELECT ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::int, ?::text FROM log`;

function auditParams(audit: AuditRecord, code: number): unknown[] {
  return [
    audit.username,
    audit.verb,
    audit.apiGroup,
    audit.resource,
    audit.subresource,
    audit.namespace,
    audit.name,
    code,
    audit.userAgent,
  ];
}

async function takeRevision(tx: Sql): Promise<number> {
  const rows = await tx.query<{ id: string }>(
    `SELECT s.id, pg_advisory_xact_lock(s.id) FROM (SELECT nextval('revision_seq') AS id) s`,
  );
  return Number(rows[0]!.id);
}

function stamp(object: KubeObject, revision: number): string {
  object.metadata.resourceVersion = String(revision);
  return JSON.stringify(object);
}

export class ObjectStore {
  /** Called after every commit with the new revision, so this process's feed reads at once. */
  onCommitted: (revision: number) => void = () => {};

  constructor(private readonly db: Database) {}

  async get(key: ObjectKey): Promise<StoredRow | undefined> {
    const rows = await this.db.query<{ value: string; revision: string }>(
      'SELECT value, revision FROM objects WHERE key = ?',
      [storageKey(key)],
    );
    const row = rows[0];
    return row ? { object: JSON.parse(row.value) as KubeObject, revision: Number(row.revision) } : undefined;
  }

  /** Creates the object; answers undefined when the key is taken (nothing is written). */
  async create(key: ObjectKey, object: KubeObject, audit?: AuditRecord): Promise<StoredRow | undefined> {
    const k = storageKey(key);
    const result = await this.db.transaction(async (tx) => {
      const revision = await takeRevision(tx);
      const value = stamp(object, revision);
      const rows = await tx.query<{ inserted: number }>(
        `WITH cur AS (
           INSERT INTO objects (key, resource, namespace, name, revision, create_revision, value)
           VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING key),
         log AS (
           INSERT INTO changes (id, key, resource, namespace, name, type, value)
           SELECT ?::bigint, key, ?::text, ?::text, ?::text, 'ADDED', ?::text FROM cur RETURNING id),
         audit AS (${AUDIT_WITH_CHANGE})
         SELECT (SELECT count(*) FROM log)::int AS inserted, pg_notify(?, ?::text)`,
        [
          k, key.resource, key.namespace, key.name, revision, revision, value,
          revision, key.resource, key.namespace, key.name, value,
          ...(audit ? auditParams(audit, 201) : auditParams(systemAudit, 201)),
          CHANGES_CHANNEL, revision,
        ],
      );
      if (rows[0]!.inserted === 0) {
        throw new KeyExists();
      }
      return { object, revision };
    }).catch((err) => {
      if (err instanceof KeyExists) return undefined;
      throw err;
    });
    if (result) this.onCommitted(result.revision);
    return result;
  }

  /**
   * Reads the object under a row lock and lets `decide` choose what to write. `decide` runs
   * inside the transaction and may throw an ApiError to refuse; nothing is then written.
   * Answers undefined when the object does not exist.
   */
  async update(
    key: ObjectKey,
    decide: (current: StoredRow) => UpdateDecision,
    audit?: AuditRecord,
  ): Promise<{ before: StoredRow; after?: StoredRow; deleted: boolean } | undefined> {
    const k = storageKey(key);
    const result = await this.db.transaction(async (tx) => {
      const rows = await tx.query<{ value: string; revision: string }>(
        'SELECT value, revision FROM objects WHERE key = ? FOR UPDATE',
        [k],
      );
      const row = rows[0];
      if (!row) return undefined;
      const before = { object: JSON.parse(row.value) as KubeObject, revision: Number(row.revision) };
      const decision = decide({ object: JSON.parse(row.value) as KubeObject, revision: before.revision });
      if (decision.action === 'none') return { before, after: before, deleted: false };
      const revision = await takeRevision(tx);
      const value = stamp(decision.object, revision);
      const deleted = decision.action === 'delete';
      const code = 200;
      await tx.query(
        `WITH cur AS (${
          deleted
            ? 'DELETE FROM objects WHERE key = ? RETURNING key'
            : 'UPDATE objects SET revision = ?, value = ? WHERE key = ? RETURNING key'
        }),
         log AS (
           INSERT INTO changes (id, key, resource, namespace, name, type, value)
           SELECT ?::bigint, key, ?::text, ?::text, ?::text, ?::text, ?::text FROM cur RETURNING id),
         audit AS (${AUDIT_WITH_CHANGE})
         SELECT pg_notify(?, ?::text)`,
        [
          ...(deleted ? [k] : [revision, value, k]),
          revision, key.resource, key.namespace, key.name, deleted ? 'DELETED' : 'MODIFIED', value,
          ...(audit ? auditParams(audit, code) : auditParams(systemAudit, code)),
          CHANGES_CHANNEL, revision,
        ],
      );
      return { before, after: { object: decision.object, revision }, deleted };
    });
    if (result?.after && result.after.revision !== result.before.revision) {
      this.onCommitted(result.after.revision);
    }
    return result;
  }

  /** Records a request that changed nothing (refused, or a failure) in the audit log. */
  async recordRefusal(audit: AuditRecord, code: number): Promise<void> {
    await this.db.query(INSERT_AUDIT, auditParams(audit, code));
  }

  /** Every current object of one resource, optionally in one namespace, in key order. */
  async listRows(resource: string, namespace?: string): Promise<StoredRow[]> {
    const rows = namespace
      ? await this.db.query<{ value: string; revision: string }>(
          'SELECT value, revision FROM objects WHERE resource = ? AND namespace = ? ORDER BY key',
          [resource, namespace],
        )
      : await this.db.query<{ value: string; revision: string }>(
          'SELECT value, revision FROM objects WHERE resource = ? ORDER BY key',
          [resource],
        );
    return rows.map((r) => ({ object: JSON.parse(r.value) as KubeObject, revision: Number(r.revision) }));
  }
}

const systemAudit: AuditRecord = {
  username: 'system:virtflow',
  verb: 'internal',
  apiGroup: '',
  resource: '',
  subresource: '',
  namespace: '',
  name: '',
  userAgent: '',
};

class KeyExists extends Error {}

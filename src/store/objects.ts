// The one write path every mutation goes through. Each write is part of one SQL statement,
// so one round trip and one implicit transaction, shared with the writes committed in the same
// group (see group-commit.ts): it takes a new revision from the store-wide sequence and that
// revision's advisory lock, writes the object's current row (or removes it), appends the
// change to the log and records the audit entry. The lock is held until the statement
// commits, which lets a change feed tell a revision still being written from one that was
// rolled back. The statement also sends one NOTIFY with its newest revision, which wakes the
// change feeds of other replicas.
import { randomBytes } from 'node:crypto';
import { clone, type KubeObject } from '../machinery/object.js';
import { MAX_OBJECT_BYTES, objectTooLarge } from '../machinery/size.js';
import type { Database } from './database.js';
import { errors } from '../machinery/errors.js';
import { DecryptionError, noEncryption, type SecretsEncryption } from './encryption.js';
import { CHANGE_TYPE, GroupCommitter, type BatchedWrite, type GroupCommitOptions, type WriteOperation } from './group-commit.js';
import { UniqueValueTaken, uniqueValueOf, uniqueValueSql, violatedUniqueField } from './unique-fields.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Where an object is stored: its resource as well as its namespace and name. */
export interface StorageKey {
  /** "group/plural", with an empty group for the core API: "/configmaps". */
  resource: string;
  namespace: string;
  name: string;
}

export interface StoredRow {
  object: KubeObject;
  revision: number;
  /** `object` as stored, JSON text (known after a read or a write). */
  text?: string;
  /**
   * The row is not sealed the way a write would seal it now (written before encryption, or
   * with a key that is no longer the first): a write that changes nothing still rewrites it.
   */
  stale?: boolean;
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

/** A committed change as the log holds it. */
export interface CommittedChange {
  revision: number;
  type: ChangeType;
  resource: string;
  namespace: string;
  name: string;
  key: string;
  value: string;
}

/** What the write path tells the change feed of this process. */
export interface CommitListener {
  /** A write statement is about to run (its revision is not known yet). */
  writing(): void;
  /**
   * It ended: with the change it committed, with the revision it took but left unused (a
   * hole: a name already taken, a stale update), or with neither when it failed.
   */
  written(outcome: { change: CommittedChange } | { hole: number } | undefined): void;
  /** A statement failed as a whole: revisions it took will never be reported. */
  rolledBack?(): void;
}

export const CHANGES_CHANNEL = 'virtflow_changes';

export function storageKey(key: StorageKey): string {
  return `${key.resource}/${key.namespace}/${key.name}`;
}

/** What an update callback decides, given the current object. */
export type UpdateDecision =
  | { action: 'write'; object: KubeObject }
  | { action: 'delete'; object: KubeObject }
  | { action: 'none' };

export const AUDIT_COLUMNS = '(username, verb, api_group, resource, subresource, namespace, name, code, user_agent)';

export function auditParams(audit: AuditRecord, code: number): unknown[] {
  return [audit.username, audit.verb, audit.apiGroup, audit.resource, audit.subresource, audit.namespace, audit.name, code, audit.userAgent];
}

// The value is serialized before its revision is known; this per-process marker stands in for
// the revision and is replaced in SQL (and here, for the same text). Random, so no stored
// data can contain it.
const marker = `@rv-${randomBytes(12).toString('hex')}@`;

/** The object's text with the marker for its revision; the object itself is left as it was. */
function serialize(object: KubeObject): string {
  const previous = object.metadata.resourceVersion;
  object.metadata.resourceVersion = marker;
  try {
    return JSON.stringify(object);
  } finally {
    if (previous === undefined) delete object.metadata.resourceVersion;
    else object.metadata.resourceVersion = previous;
  }
}

function stamped(text: string, revision: number): string {
  return text.replaceAll(marker, String(revision));
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

export class ObjectStore {
  /** The change feed of this process, told about every write (see CommitListener). */
  listener: CommitListener = { writing: () => {}, written: () => {} };
  /** Names this process in the NOTIFY its commits send (see CommitNotice). */
  readonly writerId = randomBytes(8).toString('hex');
  private readonly committer: GroupCommitter;

  constructor(
    private readonly db: Database,
    opts: GroupCommitOptions = {},
    /** Seals the values of Secrets before they reach a row, and opens them after. */
    readonly encryption: SecretsEncryption = noEncryption,
  ) {
    this.committer = new GroupCommitter(db.pool, marker, { channel: CHANGES_CHANNEL, sender: this.writerId }, {
      ...opts,
      onRolledBack: () => {
        this.listener.rolledBack?.();
        opts.onRolledBack?.();
      },
    });
  }

  async get(key: StorageKey): Promise<StoredRow | undefined> {
    const { rows } = await this.db.pool.query<{ value: string; revision: string }>({
      name: 'vf-get-object',
      text: 'SELECT value, revision FROM objects WHERE key = $1',
      values: [storageKey(key)],
    });
    const row = rows[0];
    if (!row) return undefined;
    const k = storageKey(key);
    const revision = Number(row.revision);
    let text: string;
    try {
      text = this.encryption.open(k, row.value, revision);
    } catch (err) {
      // Only a replica given other keys than the one that wrote the row gets here.
      throw err instanceof DecryptionError ? errors.internal(err.message) : err;
    }
    const stale = this.encryption.stale(key.resource, row.value);
    return { object: JSON.parse(text) as KubeObject, revision, text, ...(stale ? { stale } : {}) };
  }

  /**
   * Commits one write (in a group with others in flight, see GroupCommitter), telling the
   * feed before and after. Answers the stored row, or undefined when the write was left out:
   * the key was taken (create) or the object changed or went in between (update, delete).
   */
  private async write(
    operation: WriteOperation,
    key: StorageKey,
    object: KubeObject,
    audit: AuditRecord | undefined,
    seen?: number,
  ): Promise<StoredRow | undefined> {
    const k = storageKey(key);
    const text = serialize(object);
    // The last word on size, for every writer (the API's verbs, the garbage collector, the
    // namespace lifecycle): an object over the limit is never stored. Removing one always works.
    if (operation !== 'delete' && text.length > MAX_OBJECT_BYTES / 3) {
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > MAX_OBJECT_BYTES) throw objectTooLarge(bytes);
    }
    // A sealed value cannot hold the revision marker; opening the row puts the revision back.
    const stored = this.encryption.seals(key.resource) ? this.encryption.seal(k, text.replace(marker, '')) : text;
    const batched: BatchedWrite = {
      operation,
      key: k,
      resource: key.resource,
      namespace: key.namespace,
      name: key.name,
      text: stored,
      seen,
      audit: { ...(audit ?? systemAudit), code: operation === 'create' ? 201 : 200 },
    };
    this.listener.writing();
    let outcome: { change: CommittedChange } | { hole: number } | undefined;
    try {
      const { revision, written } = await this.committer.submit(batched).catch((err: unknown) => this.explainViolation(err, key, object));
      if (!written) {
        outcome = { hole: revision };
        return undefined;
      }
      object.metadata.resourceVersion = String(revision);
      const type = CHANGE_TYPE[operation];
      const value = stamped(text, revision);
      outcome = { change: { revision, type, resource: key.resource, namespace: key.namespace, name: key.name, key: k, value } };
      return { object, revision, text: value };
    } finally {
      this.listener.written(outcome);
    }
  }

  /** A unique field's index refused the write: which object holds the value (see unique-fields.ts). */
  private async explainViolation(err: unknown, key: StorageKey, object: KubeObject): Promise<never> {
    const field = violatedUniqueField(err);
    const value = field && uniqueValueOf(field, object);
    if (!field || value === undefined) throw err;
    const { rows } = await this.db.pool.query<{ name: string }>(
      `SELECT name FROM objects WHERE resource = $1 AND ${uniqueValueSql(field)} = $2 AND key <> $3 LIMIT 1`,
      [field.resource, value, storageKey(key)],
    );
    throw new UniqueValueTaken(field, value, rows[0]?.name);
  }

  /** Creates the object; answers undefined when the key is taken (nothing is written). */
  async create(key: StorageKey, object: KubeObject, audit?: AuditRecord): Promise<StoredRow | undefined> {
    return this.write('create', key, object, audit);
  }

  /**
   * Writes (or deletes) the object if its stored revision is still `seen`: answers the new
   * row, or 'stale' when the object changed or went in between (nothing is written then).
   */
  async replace(
    key: StorageKey,
    seen: number,
    decision: { action: 'write' | 'delete'; object: KubeObject },
    audit?: AuditRecord,
  ): Promise<StoredRow | 'stale'> {
    const row = await this.write(decision.action === 'delete' ? 'delete' : 'update', key, decision.object, audit, seen);
    return row ?? 'stale';
  }

  /**
   * Reads the object and lets `decide` choose what to write, retrying when it changed in
   * between. `decide` may throw an ApiError to refuse; nothing is then written. Answers
   * undefined when the object does not exist.
   */
  async update(
    key: StorageKey,
    decide: (current: StoredRow) => UpdateDecision,
    audit?: AuditRecord,
  ): Promise<{ before: StoredRow; after?: StoredRow; deleted: boolean } | undefined> {
    for (;;) {
      const before = await this.get(key);
      if (!before) return undefined;
      let decision = decide({ object: clone(before.object), revision: before.revision });
      if (decision.action === 'none' && before.stale) decision = { action: 'write', object: clone(before.object) };
      if (decision.action === 'none') return { before, after: before, deleted: false };
      const after = await this.replace(key, before.revision, decision, audit);
      if (after !== 'stale') return { before, after, deleted: decision.action === 'delete' };
    }
  }

  /** Records a request that changed nothing (refused, or a failure) in the audit log. */
  async recordRefusal(audit: AuditRecord, code: number): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO audit_events ${AUDIT_COLUMNS} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      auditParams(audit, code),
    );
  }
}

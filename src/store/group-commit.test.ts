import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support/database.js';
import { waitUntil } from '../../test/support/wait.js';
import { openDatabase, type Database } from './database.js';
import { GroupCommitter, type BatchedWrite, type WriteOperation } from './group-commit.js';

const MARKER = '@rv@';
const CHANNEL = 'group_commit_test';
const NOTICE = { channel: CHANNEL, sender: 'tester' };

function write(operation: WriteOperation, name: string, extra: Partial<BatchedWrite> = {}): BatchedWrite {
  const key = `/configmaps/gc/${name}`;
  return {
    operation,
    key,
    resource: '/configmaps',
    namespace: 'gc',
    name,
    text: JSON.stringify({ metadata: { name, resourceVersion: MARKER }, data: { v: extra.seen ?? 0 } }),
    audit: { username: 'tester', verb: operation, apiGroup: '', resource: 'configmaps', subresource: '', namespace: 'gc', name, userAgent: 'test', code: 200 },
    ...extra,
  };
}

/** The real pool, counting the write statements sent through it. */
function countingPool(pool: pg.Pool): { pool: pg.Pool; statements: () => number } {
  let statements = 0;
  const counting = Object.create(pool) as pg.Pool;
  counting.query = ((config: unknown, values?: unknown) => {
    statements += 1;
    return (pool.query as (c: unknown, v?: unknown) => Promise<unknown>)(config, values);
  }) as pg.Pool['query'];
  return { pool: counting, statements: () => statements };
}

describe('GroupCommitter', () => {
  let db: Database;

  beforeAll(async () => {
    db = await openDatabase(await createTestDatabase());
  });
  afterAll(async () => {
    await db?.close();
  });

  async function rows(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    return (await db.pool.query(sql, params)).rows;
  }

  it('commits concurrent writes in fewer statements, each with its own revision, change and audit row', async () => {
    const { pool, statements } = countingPool(db.pool);
    const committer = new GroupCommitter(pool, MARKER, NOTICE, { maxInFlight: 1 });
    const outcomes = await Promise.all(Array.from({ length: 60 }, (_, i) => committer.submit(write('create', `many-${i}`))));
    expect(outcomes.every((o) => o.written)).toBe(true);
    const revisions = outcomes.map((o) => o.revision);
    expect(new Set(revisions).size).toBe(60);
    expect(statements()).toBeLessThan(60);
    expect(statements()).toBeGreaterThan(0);

    const stored = await rows(`SELECT name, revision::int AS revision, value FROM objects WHERE name LIKE 'many-%' ORDER BY name`);
    expect(stored).toHaveLength(60);
    for (const row of stored) {
      const i = Number(String(row.name).slice('many-'.length));
      expect(row.revision).toBe(revisions[i]);
      // The marker is replaced by the row's own revision.
      expect(JSON.parse(String(row.value)).metadata.resourceVersion).toBe(String(revisions[i]));
    }
    const log = await rows(`SELECT id::int AS id, type FROM changes WHERE name LIKE 'many-%'`);
    expect(log.map((r) => r.id).sort()).toEqual([...revisions].sort());
    expect(new Set(log.map((r) => r.type))).toEqual(new Set(['ADDED']));
    const audit = await rows(`SELECT count(*)::int AS n FROM audit_events WHERE name LIKE 'many-%' AND verb = 'create'`);
    expect(audit[0]!.n).toBe(60);
  });

  it('decides each write of a batch on its own: a taken name is left out, the others commit', async () => {
    const committer = new GroupCommitter(db.pool, MARKER, NOTICE, { maxInFlight: 1 });
    await committer.submit(write('create', 'taken'));
    const outcomes = await Promise.all(['free-1', 'taken', 'free-2'].map((n) => committer.submit(write('create', n))));
    expect(outcomes.map((o) => o.written)).toEqual([true, false, true]);
    // The left-out write's revision is a hole: no change row carries it.
    const hole = await rows('SELECT count(*)::int AS n FROM changes WHERE id = $1', [outcomes[1]!.revision]);
    expect(hole[0]!.n).toBe(0);
  });

  it('keeps writes to one key in order: the second update sees the first one’s revision', async () => {
    const committer = new GroupCommitter(db.pool, MARKER, NOTICE, { maxInFlight: 4 });
    const created = await committer.submit(write('create', 'ordered'));
    const [first, second] = await Promise.all([
      committer.submit(write('update', 'ordered', { seen: created.revision })),
      committer.submit(write('update', 'ordered', { seen: created.revision })),
    ]);
    expect(first!.written).toBe(true);
    expect(second!.written).toBe(false);
    const after = await committer.submit(write('delete', 'ordered', { seen: first!.revision }));
    expect(after.written).toBe(true);
    const left = await rows(`SELECT count(*)::int AS n FROM objects WHERE name = 'ordered'`);
    expect(left[0]!.n).toBe(0);
    const types = await rows(`SELECT type FROM changes WHERE name = 'ordered' ORDER BY id`);
    expect(types.map((r) => r.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
  });

  it('stores texts with quotes, backslashes and characters beyond the BMP exactly', async () => {
    const committer = new GroupCommitter(db.pool, MARKER, NOTICE, { maxInFlight: 1 });
    const busy = committer.submit(write('create', 'plain'));
    const tricky = [
      { s: 'a "quoted" \\ back\\slash, a comma, {braces} and NULL' },
      { s: 'line\nbreak\ttab \u0001 control, emoji \u{1F600}, lone \ud800 surrogate, \u2028 separator' },
      { s: '' },
    ].map((data) => JSON.stringify({ metadata: { resourceVersion: MARKER }, data }));
    const outcomes = await Promise.all(tricky.map((text, i) => committer.submit(write('create', `tricky-${i}`, { text }))));
    await busy;
    for (const [i, text] of tricky.entries()) {
      const stored = await rows('SELECT value FROM objects WHERE name = $1', [`tricky-${i}`]);
      expect(stored[0]!.value).toBe(text.replace(MARKER, String(outcomes[i]!.revision)));
    }
  });

  it('tells listeners of each committed statement its newest revision, and of nothing else', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    try {
      const payloads: string[] = [];
      listener.on('notification', (m) => payloads.push(m.payload ?? ''));
      await listener.query(`LISTEN ${CHANNEL}`);
      const committer = new GroupCommitter(db.pool, MARKER, NOTICE, { maxInFlight: 1 });
      const busy = committer.submit(write('create', 'note-0'));
      const outcomes = await Promise.all([1, 2, 3].map((i) => committer.submit(write('create', `note-${i}`))));
      const first = await busy;
      // A statement that wrote nothing (the name is taken) sends nothing.
      expect((await committer.submit(write('create', 'note-1'))).written).toBe(false);
      await committer.submit(write('create', 'note-last')).then((last) => outcomes.push(last));
      await waitUntil(() => payloads.length >= 3, 'three notifications');
      const newest = Math.max(...outcomes.map((o) => o.revision));
      expect(payloads[0]).toBe(`${first.revision}:tester`);
      expect(payloads[1]).toBe(`${Math.max(...outcomes.slice(0, 3).map((o) => o.revision))}:tester`);
      expect(payloads[2]).toBe(`${newest}:tester`);
      expect(payloads).toHaveLength(3);
    } finally {
      await listener.end();
    }
  });

  it('fails only the write that cannot be stored when its batch fails', async () => {
    let rolledBack = 0;
    const committer = new GroupCommitter(db.pool, MARKER, NOTICE, { maxInFlight: 1, onRolledBack: () => rolledBack++ });
    // Keep the committer busy so that the next three queue up and go as one batch.
    const busy = committer.submit(write('create', 'busy'));
    // PostgreSQL text cannot hold NUL, so this one write makes its statement fail.
    const results = await Promise.allSettled([
      committer.submit(write('create', 'good-1')),
      committer.submit(write('create', 'bad', { key: '/configmaps/gc/nul\u0000here' })),
      committer.submit(write('create', 'good-2')),
    ]);
    await busy;
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(rolledBack).toBeGreaterThan(0);
    const stored = await rows(`SELECT name FROM objects WHERE name IN ('good-1', 'good-2', 'bad') ORDER BY name`);
    expect(stored.map((r) => r.name)).toEqual(['good-1', 'good-2']);
  });
});

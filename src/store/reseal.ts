// Bringing every sealed resource's rows under the first key, at start: rows written before
// encryption was turned on, and rows sealed with a key that is no longer the first, in the
// current state and in the change log alike. A rewrite through the API (kubectl replace)
// reaches only current objects; the log's history rows would keep the old key, or the
// plaintext, until compaction dropped them. So a restart with a new first key is all a
// rotation needs, and after it the old key can go.
//
// Each row keeps its object and revision; only its value changes, and only if it still holds
// what was read (another replica may be doing the same, which is a normal outcome).
import type { Database } from './database.js';
import { DecryptionError, SEALED_RESOURCES, undecryptable, type SecretsEncryption } from './encryption.js';

const BATCH = 500;

/** Rows re-sealed; throws one DecryptionError naming every key a row needs and the list lacks. */
export async function resealStaleRows(db: Database, encryption: SecretsEncryption): Promise<number> {
  const prefix = encryption.currentPrefix;
  if (prefix === '') return 0;
  const failed: DecryptionError[] = [];
  let resealed = 0;
  for (const table of [OBJECTS, CHANGES]) {
    let after: string | null = null;
    for (;;) {
      const { rows }: { rows: { id: string; key: string; value: string }[] } = await db.pool.query(table.select, [
        SEALED_RESOURCES,
        prefix,
        after,
        BATCH,
      ]);
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.id;
      const ids: string[] = [];
      const olds: string[] = [];
      const news: string[] = [];
      for (const row of rows) {
        try {
          news.push(encryption.reseal(row.key, row.value));
        } catch (err) {
          if (!(err instanceof DecryptionError)) throw err;
          failed.push(err);
          continue;
        }
        ids.push(row.id);
        olds.push(row.value);
      }
      if (ids.length > 0 && failed.length === 0) {
        const result = await db.pool.query(table.update, [ids, olds, news]);
        resealed += result.rowCount ?? 0;
      }
    }
  }
  if (failed.length > 0) throw undecryptable(failed);
  return resealed;
}

/** Stale rows after `id` ($3, null for the first batch), in id order. */
const OBJECTS = {
  select: `SELECT key AS id, key, value FROM objects
            WHERE resource = ANY($1::text[]) AND left(value, length($2::text)) <> $2::text AND ($3::text IS NULL OR key > $3::text)
            ORDER BY key LIMIT $4`,
  update: `UPDATE objects o SET value = u.new FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, old, new)
            WHERE o.key = u.id AND o.value = u.old`,
};

const CHANGES = {
  select: `SELECT id::text AS id, key, value FROM changes
            WHERE resource = ANY($1::text[]) AND left(value, length($2::text)) <> $2::text AND ($3::bigint IS NULL OR id > $3::bigint)
            ORDER BY id LIMIT $4`,
  update: `UPDATE changes c SET value = u.new FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, old, new)
            WHERE c.id = u.id AND c.value = u.old`,
};

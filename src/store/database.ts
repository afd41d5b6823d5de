// Opening the database: MikroORM owns the schema (through its migrator) and a small pool for
// everything cold, spoken through the Sql interface below. The hot paths (object writes and
// reads, the change feed) use a plain node-postgres pool with $n placeholders: one round trip
// per statement, without a query builder in between.
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { Migrator } from '@mikro-orm/migrations';
import type { Knex } from '@mikro-orm/knex';
import { allEntities } from './entities.js';
import { Migration0001Initial } from './migrations/0001-initial.js';
import { Migration0002DropObjectsResourceIndex } from './migrations/0002-drop-objects-resource-index.js';
import { Migration0003UniqueFields } from './migrations/0003-unique-fields.js';
import { Migration0004Console } from './migrations/0004-console.js';
import { Migration0005AuditRead } from './migrations/0005-audit-read.js';

export interface Sql {
  /** Runs one statement with `?` placeholders and returns its rows. */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface Database extends Sql {
  orm: MikroORM;
  url: string;
  /** The hot-path pool: `$1` placeholders, one statement per call. */
  pool: pg.Pool;
  transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function sqlOver(runner: Knex | Knex.Transaction): Sql {
  return {
    async query<T>(text: string, params: readonly unknown[] = []) {
      const result = (await runner.raw(text, params as Knex.RawBinding[])) as { rows: T[] };
      return result.rows;
    },
  };
}

/** Hot-path connections per process, and the few the cold pool keeps besides. */
const DEFAULT_POOL_SIZE = 20;
const COLD_POOL_SIZE = 4;

export async function openDatabase(url: string, opts: { poolSize?: number } = {}): Promise<Database> {
  const orm = await MikroORM.init({
    clientUrl: url,
    entities: allEntities,
    extensions: [Migrator],
    pool: { min: 1, max: COLD_POOL_SIZE },
    debug: false,
    logger: () => {},
    allowGlobalContext: true,
    migrations: {
      migrationsList: [
        { name: '0001-initial', class: Migration0001Initial },
        { name: '0002-drop-objects-resource-index', class: Migration0002DropObjectsResourceIndex },
        { name: '0003-unique-fields', class: Migration0003UniqueFields },
        { name: '0004-console', class: Migration0004Console },
        { name: '0005-audit-read', class: Migration0005AuditRead },
      ],
      transactional: true,
      allOrNothing: true,
      snapshot: false,
    },
  });
  await orm.getMigrator().up();
  const knex = orm.em.getKnex();
  const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? DEFAULT_POOL_SIZE });
  // An idle connection that breaks (a server restart) is dropped by the pool, not thrown.
  pool.on('error', () => {});
  return {
    orm,
    url,
    pool,
    ...sqlOver(knex),
    transaction: (work) => knex.transaction((trx) => work(sqlOver(trx))),
    close: async () => {
      await pool.end().catch(() => {});
      await orm.close(true);
    },
  };
}

// Opening the database: MikroORM owns the connection pool and the schema (through its
// migrator); everything else in the store speaks SQL through the small Sql interface below.
import { MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Knex } from '@mikro-orm/knex';
import { allEntities } from './entities.js';
import { Migration0001Initial } from './migrations/0001-initial.js';

export interface Sql {
  /** Runs one statement with `?` placeholders and returns its rows. */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface Database extends Sql {
  orm: MikroORM;
  url: string;
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

export async function openDatabase(url: string, opts: { poolSize?: number } = {}): Promise<Database> {
  const orm = await MikroORM.init({
    clientUrl: url,
    entities: allEntities,
    extensions: [Migrator],
    pool: { min: 1, max: opts.poolSize ?? 20 },
    debug: false,
    logger: () => {},
    allowGlobalContext: true,
    migrations: {
      migrationsList: [{ name: '0001-initial', class: Migration0001Initial }],
      transactional: true,
      allOrNothing: true,
      snapshot: false,
    },
  });
  await orm.getMigrator().up();
  const knex = orm.em.getKnex();
  return {
    orm,
    url,
    ...sqlOver(knex),
    transaction: (work) => knex.transaction((trx) => work(sqlOver(trx))),
    close: () => orm.close(true),
  };
}

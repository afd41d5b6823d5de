// A new database on a PostgreSQL server: for each test file (database.ts) and each bench suite.
import pg from 'pg';

/** Creates the database `name` on the PostgreSQL at `serverUrl`, and answers its URL. */
export async function createDatabase(serverUrl: string, name: string): Promise<URL> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url;
}

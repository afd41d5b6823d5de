// A fresh database per test file on the run's shared PostgreSQL server.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createDatabase } from './create-database.js';

export async function createTestDatabase(): Promise<string> {
  const serverUrl = inject('postgresUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  return (await createDatabase(serverUrl, name)).toString();
}

// One embedded PostgreSQL for the whole test run; each test file makes its own database.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/store/embedded.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'virtflow-test-pg-'));
  const external = process.env.TEST_DATABASE_URL;
  const db = external
    ? { url: external, stop: async () => {} }
    : await startEmbeddedPostgres(path.join(dir, 'data'), { persistent: false });
  project.provide('postgresUrl', db.url);
  return async () => {
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

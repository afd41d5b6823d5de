// The embedded PostgreSQL: reachable only by its owner (a private socket, a random password
// kept 0600), homes made with the old fixed password adopted at their next start, and a stop
// that returns whatever state the server is in.
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedPaths, startEmbeddedPostgres, type EmbeddedPostgres } from './embedded.js';

let dir = '';
let dataDir = '';
let db: EmbeddedPostgres | undefined;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'virtflow-embedded-test-'));
  dataDir = path.join(dir, 'postgres');
});
afterAll(async () => {
  await db?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function query(url: string, text: string): Promise<any[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/** The same URL with another password. */
function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

const mode = (file: string) => statSync(file).mode & 0o777;

describe('the embedded PostgreSQL', () => {
  it('listens only on a socket in a private directory, with a random password kept 0600', async () => {
    db = await startEmbeddedPostgres(dataDir);
    const { passwordFile, socketDir } = embeddedPaths(dataDir);
    expect(mode(passwordFile)).toBe(0o600);
    expect(mode(socketDir)).toBe(0o700);
    const url = new URL(db.url);
    expect(decodeURIComponent(url.hostname)).toBe(socketDir);
    expect(url.password).not.toBe('virtflow');
    expect(url.password.length).toBeGreaterThanOrEqual(32);
    expect(await query(db.url, 'SHOW listen_addresses')).toEqual([{ listen_addresses: '' }]);
    await expect(query(withPassword(db.url, 'virtflow'), 'SELECT 1')).rejects.toMatchObject({ code: '28P01' });
    await query(db.url, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (1)');
  });

  it('stops at once when its server was killed, and starts again with its data', async () => {
    const pid = db!.pid!;
    process.kill(pid, 'SIGKILL');
    await db!.exited();
    const t0 = Date.now();
    await db!.stop();
    expect(Date.now() - t0).toBeLessThan(2_000);
    db = undefined;
    // Backends of the killed server may outlive it for a moment.
    for (let attempt = 0; ; attempt++) {
      try {
        db = await startEmbeddedPostgres(dataDir);
        break;
      } catch (err) {
        if (attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    expect(await query(db.url, 'SELECT n FROM kept')).toEqual([{ n: 1 }]);
  });

  it('adopts a home made with the old fixed password, which no longer works after', async () => {
    // What such a home looks like: the role's password is "virtflow" and no password file.
    await query(db!.url, "ALTER ROLE virtflow PASSWORD 'virtflow'");
    await db!.stop();
    const { passwordFile } = embeddedPaths(dataDir);
    await rm(passwordFile);
    db = await startEmbeddedPostgres(dataDir);
    expect(existsSync(passwordFile)).toBe(true);
    expect(await query(db.url, 'SELECT n FROM kept')).toEqual([{ n: 1 }]);
    await expect(query(withPassword(db.url, 'virtflow'), 'SELECT 1')).rejects.toMatchObject({ code: '28P01' });
  });
});

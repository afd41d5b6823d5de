// The identity under which `virtflow up` campaigns for the controllers' Lease, kept in its
// home. A process restarted after a crash is then the holder its predecessor left in the
// Lease and takes it over at once (leader.ts renews a Lease it holds), instead of idling
// until the dead process's Lease expires. A Lease another process renewed since names that
// process, so it is waited out as before.
//
// Two live processes must never share an identity, or both would lead. Several `virtflow up`
// on one home are possible with DATABASE_URL, so the identity goes to the process that holds
// the home's lock (a file naming its pid, taken over when that pid is gone); any other gets
// an identity of its own.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const IDENTITY_FILE = 'controller-identity';
const LOCK_FILE = 'controller.pid';

export interface HomeIdentity {
  identity: string;
  /** Gives the home's identity back (on a clean stop); a killed process leaves it to be taken over. */
  release(): Promise<void>;
}

const freshIdentity = () => `${os.hostname()}_${randomUUID()}`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function takeLock(file: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (holder === process.pid) return true;
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) return false;
    // Its holder is gone (killed): the lock is free.
    await rm(file, { force: true });
  }
  return false;
}

export async function homeIdentity(home: string): Promise<HomeIdentity> {
  const lock = path.join(home, LOCK_FILE);
  if (!(await takeLock(lock))) return { identity: freshIdentity(), release: async () => {} };
  const file = path.join(home, IDENTITY_FILE);
  let identity = existsSync(file) ? (await readFile(file, 'utf8')).trim() : '';
  if (!identity) {
    identity = freshIdentity();
    await writeFile(file, `${identity}\n`, { mode: 0o644 });
  }
  return { identity, release: () => rm(lock, { force: true }) };
}

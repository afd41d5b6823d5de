// `virtflow up` on its embedded PostgreSQL, stopped the way an operator stops it: Ctrl-C in a
// terminal signals the whole foreground process group. PostgreSQL runs in a session of its
// own, so it stops last, after VirtFlow has finished its own shutdown; and it does not
// outlive a VirtFlow that was killed. When PostgreSQL itself is killed under write load,
// `virtflow up` starts it again and loses no acknowledged write; when it is frozen for longer
// than the controllers' renew deadline, the controllers lead again once it is back; and
// SIGTERM ends the process promptly even while PostgreSQL is frozen.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '../support/wait.js';
import {
  apiOf,
  killUnderWriteLoad,
  lease,
  postgresPid as pidOfPostgres,
  postgresProcesses as processesOfPostgres,
  signalAll,
  startUpOnEmbeddedPostgres,
  type EmbeddedUp,
} from './database-kill-scenario.js';
let home = '';
beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'virtflow-embedded-'));
});
afterAll(async () => {
  // Whatever a failed test left running goes, so that it cannot outlive the suite.
  for (const pid of started) if (alive(pid)) process.kill(-pid, 'SIGKILL');
  const pidFile = path.join(home, 'postgres', 'postmaster.pid');
  if (existsSync(pidFile) && alive(postgresPid())) process.kill(postgresPid(), 'SIGINT');
  await rm(home, { recursive: true, force: true });
});
const started: number[] = [];

type Up = EmbeddedUp;

async function startUp(): Promise<Up> {
  const up = await startUpOnEmbeddedPostgres(home);
  started.push(up.child.pid!);
  return up;
}

const postgresPid = () => pidOfPostgres(home);
const postgresProcesses = () => processesOfPostgres(home);

/** The session a process belongs to (field 6 of /proc/<pid>/stat), or undefined once it is gone. */
function sessionOf(pid: number): number | undefined {
  const file = `/proc/${pid}/stat`;
  if (!existsSync(file)) return undefined;
  return Number(readFileSync(file, 'utf8').split(') ')[1]!.split(' ')[3]);
}

const alive = (pid: number) => sessionOf(pid) !== undefined;

const run = promisify(execFile);

async function leaseHolder(): Promise<string> {
  const args = ['get', 'lease', '-n', 'virtflow-system', 'virtflow-controller', '-o', 'jsonpath={.spec.holderIdentity}'];
  const env = { ...process.env, KUBECONFIG: path.join(home, 'kubeconfig'), KUBECACHEDIR: path.join(home, 'kube-cache') };
  return run('kubectl', args, { env }).then(
    (r) => r.stdout.trim(),
    () => '',
  );
}

describe('virtflow up on its embedded PostgreSQL', () => {
  it('stops in order on Ctrl-C: PostgreSQL is outside the terminal process group and goes last', async () => {
    const up = await startUp();
    const pg = postgresPid();
    expect(sessionOf(up.child.pid!)).toBe(up.child.pid);
    expect(sessionOf(pg)).not.toBe(up.child.pid);
    // Leadership taken, so that there is a lease to give back.
    await waitUntil(async () => (await leaseHolder()) !== '', 'the controllers hold their lease');
    process.kill(-up.child.pid!, 'SIGINT');
    expect(await up.exited).toEqual({ code: 0, signal: null });
    expect(up.output()).toMatch(/SIGINT: stopping VirtFlow\.\.\.\nstopped\.\n$/);
    expect(up.output()).not.toMatch(/cannot release|terminating connection|error while stopping/);
    await waitUntil(() => !alive(pg), 'PostgreSQL stopped');
  });

  it('takes its PostgreSQL down with it when it is killed', async () => {
    const up = await startUp();
    const pg = postgresPid();
    process.kill(up.child.pid!, 'SIGKILL');
    await up.exited;
    await waitUntil(() => !alive(pg), 'PostgreSQL stopped after VirtFlow was killed', 30_000);
  });

  it('starts its PostgreSQL again after a kill -9 under write load, and loses no acknowledged write', async () => {
    const up = await startUp();
    const { call, close } = await apiOf(home, up);
    try {
      const figures = await killUnderWriteLoad(home, call, { writers: 6, before: 100, after: 100 });
      process.stderr.write(`killed PostgreSQL under write load: ${JSON.stringify(figures)}\n`);
      expect(figures.restarted).toBe(true);
      expect(up.output()).toMatch(/the embedded PostgreSQL ended unexpectedly; starting it again/);
      // Every acknowledged write is there; the writes that failed were answered with a 5xx.
      expect(figures.lost).toBe(0);
      expect(figures.failed).toBeGreaterThan(0);
      expect(figures.failedNot5xx).toBe(0);
    } finally {
      await close();
      process.kill(up.child.pid!, 'SIGTERM');
      await up.exited;
    }
  });

  it('leads again after PostgreSQL was frozen past the renew deadline, and stops promptly while it is frozen', { timeout: 180_000 }, async () => {
    const up = await startUp();
    const { call, close } = await apiOf(home, up);
    let frozen: number[] = [];
    try {
      await waitUntil(async () => (await lease(call)).holder !== '', 'the controllers to hold their Lease', 30_000);
      const { holder } = await lease(call);
      frozen = postgresProcesses();
      signalAll(frozen, 'SIGSTOP');
      // The fault itself: longer than the renew deadline (10 s), so the Lease is lost.
      await sleep(13_000);
      signalAll(frozen, 'SIGCONT');
      const thawed = Date.now();
      await waitUntil(async () => (await lease(call)).renewed > thawed, 'the controllers to lead again', 60_000);
      const ledAgainMs = Date.now() - thawed;
      expect((await lease(call)).holder).toBe(holder);
      expect(up.output()).toMatch(/the controllers stopped \(lost the leader election lease[^)]*\); starting them again/);
      // They reconcile again: a new Datacenter gets its status.
      const dc = { apiVersion: 'virtflow.io/v1alpha1', kind: 'Datacenter', metadata: { name: 'after-freeze' }, spec: { region: 'tw' } };
      expect((await call('POST', '/apis/virtflow.io/v1alpha1/datacenters', dc)).status).toBe(201);
      await waitUntil(async () => (await call('GET', '/apis/virtflow.io/v1alpha1/datacenters/after-freeze')).body?.status?.conditions !== undefined, 'the new Datacenter to get a status', 30_000);

      frozen = postgresProcesses();
      signalAll(frozen, 'SIGSTOP');
      const t0 = Date.now();
      process.kill(up.child.pid!, 'SIGTERM');
      const exit = await up.exited;
      const tookMs = Date.now() - t0;
      process.stderr.write(`frozen PostgreSQL: led again ${ledAgainMs} ms after the thaw; SIGTERM while frozen took ${tookMs} ms\n`);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(tookMs).toBeLessThan(30_000);
    } catch (err) {
      process.stderr.write(`virtflow up printed:\n${up.output().slice(-6000)}\n`);
      throw err;
    } finally {
      signalAll(frozen, 'SIGCONT');
      await close();
      if (up.child.exitCode === null) process.kill(up.child.pid!, 'SIGKILL');
    }
  });
});

// `virtflow up` on its embedded PostgreSQL, stopped the way an operator stops it: Ctrl-C in a
// terminal signals the whole foreground process group. PostgreSQL runs in a session of its
// own, so it stops last, after VirtFlow has finished its own shutdown; and it does not
// outlive a VirtFlow that was killed. When PostgreSQL itself is killed under write load,
// `virtflow up` starts it again and loses no acknowledged write; when it is frozen for longer
// than the controllers' renew deadline, the controllers lead again once it is back; and
// SIGTERM ends the process promptly even while PostgreSQL is frozen.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/store/embedded.js';
import { apiCaller } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
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

interface Up {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `virtflow up` as the leader of its own process group, like a command typed in a terminal. */
async function startUp(): Promise<Up> {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  const port = await freePort();
  const args = ['bin/virtflow.js', 'up', '--home', home, '--port', String(port), '--simulator-port', '0'];
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  started.push(child.pid!);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await waitUntil(() => output.includes('Press Ctrl-C to stop.'), 'virtflow up ready', 90_000);
  return { child, url: `https://127.0.0.1:${port}`, output: () => output, exited };
}

/** Authenticated calls to it, as its kubeconfig's admin. */
async function apiOf(up: Up) {
  const token = (await readFile(path.join(home, 'admin-token'), 'utf8')).trim();
  return apiCaller(up.url, token, await readFile(path.join(home, 'pki', 'ca.crt'), 'utf8'));
}

/** PostgreSQL's processes: the postmaster and its children. */
function postgresProcesses(): number[] {
  const postmaster = postgresPid();
  const children = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((pid) => {
      try {
        return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    });
  return [postmaster, ...children];
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone meanwhile.
    }
  }
}

/** The controllers' Lease: who holds it and when it was last renewed (ms). */
async function lease(call: Awaited<ReturnType<typeof apiOf>>['call']): Promise<{ holder: string; renewed: number }> {
  const res = await call('GET', '/apis/coordination.k8s.io/v1/namespaces/virtflow-system/leases/virtflow-controller');
  return { holder: res.body?.spec?.holderIdentity ?? '', renewed: Date.parse(res.body?.spec?.renewTime ?? '') || 0 };
}

function postgresPid(): number {
  return Number(readFileSync(path.join(home, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

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
    const { call, close } = await apiOf(up);
    try {
      expect((await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'load' } })).status).toBe(201);
      const acknowledged: string[] = [];
      const failures: number[] = [];
      let writing = true;
      let n = 0;
      const writer = async () => {
        while (writing) {
          const name = `cm-${n++}`;
          const res = await call('POST', '/api/v1/namespaces/load/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: name } }).catch(() => ({ status: 0 }));
          if (res.status === 201) acknowledged.push(name);
          else failures.push(res.status);
        }
      };
      const writers = Array.from({ length: 6 }, writer);
      await waitUntil(() => acknowledged.length >= 100, 'writes to be acknowledged');
      const killed = postgresPid();
      const ackedBefore = acknowledged.length;
      process.kill(killed, 'SIGKILL');
      const killedAt = Date.now();
      await waitUntil(() => acknowledged.length >= ackedBefore + 100, 'writes to be acknowledged again after the kill', 60_000).finally(() => (writing = false));
      process.stderr.write(`killed PostgreSQL: 100 writes acknowledged again ${Date.now() - killedAt} ms after the kill; ${failures.length} failed meanwhile\n`);
      await Promise.all(writers);
      expect(postgresPid()).not.toBe(killed);
      expect(up.output()).toMatch(/the embedded PostgreSQL ended unexpectedly; starting it again/);
      // Every acknowledged write is there; the API answered the writes that failed with a 5xx.
      const list = await call('GET', '/api/v1/namespaces/load/configmaps');
      const stored = new Set((list.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name));
      expect(acknowledged.filter((name) => !stored.has(name))).toEqual([]);
      expect(failures.length).toBeGreaterThan(0);
      expect(failures.filter((status) => status < 500 || status > 599)).toEqual([]);
      // And the controllers still lead.
      const after = Date.now();
      await waitUntil(async () => (await lease(call)).renewed > after, 'the controllers to renew their Lease', 30_000);
    } finally {
      await close();
      process.kill(up.child.pid!, 'SIGTERM');
      await up.exited;
    }
  });

  it('leads again after PostgreSQL was frozen past the renew deadline, and stops promptly while it is frozen', { timeout: 180_000 }, async () => {
    const up = await startUp();
    const { call, close } = await apiOf(up);
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

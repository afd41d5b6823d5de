// `virtflow up` on its embedded PostgreSQL, and PostgreSQL killed (SIGKILL) under write load:
// the pieces shared by the end-to-end test and `npm run bench -- faults`. The writers count
// what was acknowledged (201) and what failed, and afterwards every acknowledged object is
// looked for: none may be lost.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../../src/store/embedded.js';
import { repoRoot } from '../support/kubectl.js';
import { apiCaller, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

export interface EmbeddedUp {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `virtflow up` (embedded PostgreSQL) as the leader of its own process group, like a command typed in a terminal. */
export async function startUpOnEmbeddedPostgres(home: string): Promise<EmbeddedUp> {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  const port = await freePort();
  const args = ['bin/virtflow.js', 'up', '--home', home, '--port', String(port), '--simulator-port', '0'];
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await waitUntil(() => output.includes('Press Ctrl-C to stop.') || child.exitCode !== null, 'virtflow up ready', 90_000);
  if (child.exitCode !== null) throw new Error(`virtflow up exited before it was ready:\n${output}`);
  return { child, url: `https://127.0.0.1:${port}`, output: () => output, exited };
}

export function postgresPid(home: string): number {
  return Number(readFileSync(path.join(home, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** PostgreSQL's processes: the postmaster and its children. */
export function postgresProcesses(home: string): number[] {
  const postmaster = postgresPid(home);
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

export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone meanwhile.
    }
  }
}

export type Call = TestServer['call'];

/** Authenticated calls to it, as its kubeconfig's admin. */
export async function apiOf(home: string, up: EmbeddedUp): Promise<{ call: Call; close(): Promise<void> }> {
  const token = (await readFile(path.join(home, 'admin-token'), 'utf8')).trim();
  return apiCaller(up.url, token, await readFile(path.join(home, 'pki', 'ca.crt'), 'utf8'));
}

/** The controllers' Lease: who holds it and when it was last renewed (ms). */
export async function lease(call: Call): Promise<{ holder: string; renewed: number }> {
  const res = await call('GET', '/apis/coordination.k8s.io/v1/namespaces/virtflow-system/leases/virtflow-controller');
  return { holder: res.body?.spec?.holderIdentity ?? '', renewed: Date.parse(res.body?.spec?.renewTime ?? '') || 0 };
}

export interface KillUnderLoadFigures {
  acknowledged: number;
  /** Acknowledged writes not found afterwards. */
  lost: number;
  /** Writes that failed while the database was away, and those of them not answered 5xx. */
  failed: number;
  failedNot5xx: number;
  /** From the kill until the first write after it was acknowledged. */
  writesBackMs: number;
  /** From the kill until the controllers renewed their Lease. */
  leaseRenewedMs: number;
  /** Whether the postmaster after is another process than the one killed. */
  restarted: boolean;
}

/**
 * Writes ConfigMaps with `writers` concurrent clients, kills PostgreSQL after `before`
 * acknowledged writes, and goes on until `after` more were acknowledged.
 */
export async function killUnderWriteLoad(home: string, call: Call, opts: { writers: number; before: number; after: number; timeoutMs?: number }): Promise<KillUnderLoadFigures> {
  const ns = `load-${Date.now()}`;
  const created = await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  if (created.status !== 201) throw new Error(`cannot create namespace ${ns}: ${created.status} ${created.text}`);
  const acknowledged: string[] = [];
  const failures: number[] = [];
  let killedAt = 0;
  let backAt = 0;
  let writing = true;
  let n = 0;
  const writer = async () => {
    while (writing) {
      const name = `cm-${n++}`;
      const sentAt = Date.now();
      const res = await call('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: name } }).catch(() => ({ status: 0 }));
      if (res.status === 201) {
        acknowledged.push(name);
        if (killedAt && !backAt && sentAt > killedAt) backAt = Date.now();
      } else failures.push(res.status);
    }
  };
  const writers = Array.from({ length: opts.writers }, writer);
  try {
    await waitUntil(() => acknowledged.length >= opts.before, 'writes to be acknowledged', opts.timeoutMs);
    const killed = postgresPid(home);
    const ackedBefore = acknowledged.length;
    killedAt = Date.now();
    process.kill(killed, 'SIGKILL');
    await waitUntil(() => backAt > 0 && acknowledged.length >= ackedBefore + opts.after, 'writes to be acknowledged again after the kill', opts.timeoutMs ?? 60_000);
    writing = false;
    await Promise.all(writers);
    await waitUntil(async () => (await lease(call)).renewed > killedAt, 'the controllers to renew their Lease', opts.timeoutMs ?? 60_000, 50);
    const leaseRenewedMs = (await lease(call)).renewed - killedAt;
    const list = await call('GET', `/api/v1/namespaces/${ns}/configmaps`);
    const stored = new Set((list.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name));
    return {
      acknowledged: acknowledged.length,
      lost: acknowledged.filter((name) => !stored.has(name)).length,
      failed: failures.length,
      failedNot5xx: failures.filter((status) => status < 500 || status > 599).length,
      writesBackMs: backAt - killedAt,
      leaseRenewedMs,
      restarted: postgresPid(home) !== killed,
    };
  } finally {
    writing = false;
    await Promise.all(writers);
  }
}

// `virtflow up` on its embedded PostgreSQL, stopped the way an operator stops it: Ctrl-C in a
// terminal signals the whole foreground process group. PostgreSQL runs in a session of its
// own, so it stops last, after VirtFlow has finished its own shutdown; and it does not
// outlive a VirtFlow that was killed.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/store/embedded.js';
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
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `virtflow up` as the leader of its own process group, like a command typed in a terminal. */
async function startUp(): Promise<Up> {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  const args = ['bin/virtflow.js', 'up', '--home', home, '--port', String(await freePort()), '--simulator-port', '0'];
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  started.push(child.pid!);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await waitUntil(() => output.includes('Press Ctrl-C to stop.'), 'virtflow up ready', 90_000);
  return { child, output: () => output, exited };
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
});

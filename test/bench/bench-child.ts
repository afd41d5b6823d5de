// A process a benchmark measures from outside (the API server, `virtflow up`): forked with
// tsx, ready once it sends {ready: info}, then driven by id-numbered IPC requests. Shared by
// the suites so each only says what to start and what to ask.
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface BenchChildOptions {
  /** How the process is named in errors, e.g. "the API server". */
  label: string;
  /** Where its stdout and stderr go; inherited when absent. */
  logFile?: string;
  /** How long a graceful stop may take before SIGKILL. */
  stopGraceMs?: number;
}

export class BenchChild<Info> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    readonly child: ChildProcess,
    readonly info: Info,
    private readonly opts: BenchChildOptions,
  ) {
    child.on('message', (msg: { id?: number; body?: unknown; error?: string }) => {
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error));
      else p.resolve(msg.body);
    });
    child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`${opts.label} process exited (${code})`));
      this.pending.clear();
    });
  }

  static async start<Info>(script: string, arg: unknown, opts: BenchChildOptions): Promise<BenchChild<Info>> {
    const child = fork(script, [JSON.stringify(arg)], {
      execArgv: ['--import', 'tsx'],
      stdio: opts.logFile ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    if (opts.logFile) {
      const log = createWriteStream(opts.logFile);
      child.stdout!.pipe(log);
      child.stderr!.pipe(log);
    }
    const info = await new Promise<Info>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${opts.label} did not start in 120 s`)), 120_000);
      child.on('message', (msg: { ready?: Info }) => {
        if (msg.ready) {
          clearTimeout(timer);
          resolve(msg.ready);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        const where = opts.logFile ? `; see ${opts.logFile}` : '';
        reject(new Error(`${opts.label} process exited with ${code} before it was ready${where}`));
      });
    });
    return new BenchChild(child, info, opts);
  }

  call<T = unknown>(cmd: string, extra: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, ...extra });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const grace = this.opts.stopGraceMs ?? 10_000;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await Promise.race([this.call('stop').catch(() => {}), new Promise((r) => setTimeout(r, grace))]);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

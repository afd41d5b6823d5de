// A process a benchmark measures from outside (the API server, `virtflow up`): forked with
// tsx, ready once it sends {ready: info}, then driven by id-numbered IPC requests. Shared by
// the suites so each only says what to start and what to ask.
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

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

/** A request from BenchChild.call: its id, its command and the command's arguments. */
export interface BenchRequest {
  id: number;
  cmd: string;
  [arg: string]: unknown;
}

/**
 * The measured process's side of BenchChild: answers each request with the handler of its
 * command, from `commands` or the ones every measured process has:
 *   cpu                    process.cpuUsage()
 *   profile-start          starts the V8 CPU profiler, sampling every `profileIntervalUs`
 *   profile-stop {file}    stops it and writes the .cpuprofile to `file`
 *   stop                   runs `stop`, answers, and exits
 */
export function serveBenchRequests(opts: {
  commands?: Record<string, (req: BenchRequest) => unknown>;
  profileIntervalUs: number;
  stop: () => Promise<void>;
}): void {
  let session: Session | undefined;
  const common: Record<string, (req: BenchRequest) => unknown> = {
    cpu: () => process.cpuUsage(),
    'profile-start': async () => {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: opts.profileIntervalUs });
      await session.post('Profiler.start');
      return {};
    },
    'profile-stop': async (req) => {
      if (!session) throw new Error('no profile running');
      const { profile } = await session.post('Profiler.stop');
      await writeFile(String(req.file), JSON.stringify(profile));
      session.disconnect();
      session = undefined;
      return {};
    },
    stop: async () => {
      await opts.stop();
      // Time for the answer to leave before the process does.
      setTimeout(() => process.exit(0), 50);
      return {};
    },
  };
  process.on('message', (req: BenchRequest) => {
    void (async () => {
      const handler = opts.commands?.[req.cmd] ?? common[req.cmd];
      if (!handler) throw new Error(`unknown command ${req.cmd}`);
      process.send!({ id: req.id, body: await handler(req) });
    })().catch((err: unknown) => process.send!({ id: req.id, error: String((err as Error)?.stack ?? err) }));
  });
}

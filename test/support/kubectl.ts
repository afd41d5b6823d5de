// The real `virtflow up` process and the real `kubectl` binary, for end-to-end tests.
//
// startVirtflow() runs `node bin/virtflow.js up` as a child process on a database of the
// run's shared PostgreSQL (DATABASE_URL, so nothing is embedded), waits for its "listening"
// line and its kubeconfig, and hands back a `kubectl` bound to that kubeconfig. Every
// command runs through spawn with an argument vector: no shell ever sees a test's input.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { freePort } from '../../src/store/embedded.js';
import { createTestDatabase } from './database.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** Written to kubectl's standard input (for `-f -`). */
  input?: string;
  /** Extra environment, over the inherited one and KUBECONFIG. */
  env?: Record<string, string>;
  /** Kills kubectl after this long (default 60 s); the result then has code null. */
  timeoutMs?: number;
  cwd?: string;
}

/** A kubectl left running (e.g. `get -w`), whose output can be awaited as it arrives. */
export interface BackgroundKubectl {
  /** Everything written to stdout so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with stdout once it matches, rejects at the deadline or if kubectl exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Undefined while kubectl runs; its exit code (or null when killed by a signal) after. */
  readonly exitCode: number | null | undefined;
  /** Resolves when kubectl has exited, with everything it printed. */
  readonly done: Promise<KubectlResult>;
  /** Sends SIGTERM and waits for the process to end. */
  kill(): Promise<void>;
}

export interface VirtflowProcess {
  home: string;
  kubeconfig: string;
  /** The API server's address as printed on the "listening" line. */
  url: string;
  databaseUrl: string;
  /** Everything the process has printed so far (stdout and stderr). */
  output(): string;
  kubectl(args: string[], opts?: KubectlOptions): Promise<KubectlResult>;
  kubectlBackground(args: string[], opts?: Omit<KubectlOptions, 'input' | 'timeoutMs'>): BackgroundKubectl;
  /** SIGTERM (or `signal`), then waits for the process to exit; answers its exit code and signal. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL: a crash, no shutdown of any kind; the home stays. */
  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  port: number;
}

export interface StartVirtflowOptions {
  databaseUrl?: string;
  /** How long to wait for the "listening" line (default 90 s: tsx compiles on first start). */
  startTimeoutMs?: number;
  /** Start the simulated workload cluster "demo" as `virtflow up` does by default (default false here). */
  demoCluster?: boolean;
  /** Keep the home directory after stop (default false; always kept when `home` is given). */
  keepHome?: boolean;
  /** Run on this home (e.g. again after a crash) instead of a new one. */
  home?: string;
  /** The API server's port (default: a free one). */
  port?: number;
  /** Instead of `--simulator-port 0`, e.g. `--no-simulator`. */
  simulatorArgs?: string[];
}

export async function startVirtflow(opts: StartVirtflowOptions = {}): Promise<VirtflowProcess> {
  const databaseUrl = opts.databaseUrl ?? (await createTestDatabase());
  const home = opts.home ?? (await mkdtemp(path.join(os.tmpdir(), 'virtflow-e2e-')));
  const keepHome = opts.keepHome || opts.home !== undefined;
  const kubeconfig = path.join(home, 'kubeconfig');
  // kubectl's discovery and HTTP caches stay with this server, not in the user's ~/.kube.
  const cacheDir = path.join(home, 'kube-cache');
  await mkdir(cacheDir, { recursive: true });
  const port = opts.port ?? (await freePort());

  // The simulated external controller on any free port: several servers may run at once.
  const args = [
    'bin/virtflow.js',
    'up',
    '--home',
    home,
    '--port',
    String(port),
    ...(opts.simulatorArgs ?? ['--simulator-port', '0']),
    ...(opts.demoCluster ? [] : ['--no-demo-cluster']),
  ];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((info) => (exitInfo = info));

  const url = await (async () => {
    const deadline = Date.now() + (opts.startTimeoutMs ?? 90_000);
    for (;;) {
      const match = /listening on (https:\/\/\S+)/.exec(output);
      if (match && existsSync(kubeconfig)) return match[1]!;
      if (exitInfo) {
        throw new Error(`virtflow up exited (${exitInfo.code ?? exitInfo.signal}) before listening:\n${output}`);
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`virtflow up did not print its listening line within the deadline:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })().catch(async (err) => {
    if (!keepHome) await rm(home, { recursive: true, force: true });
    throw err;
  });

  const kubectlEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: cacheDir };
    // A developer's own editor or kubectl settings must not leak into the tests.
    delete env.KUBE_EDITOR;
    delete env.EDITOR;
    delete env.KUBECTL_EXTERNAL_DIFF;
    return { ...env, ...extra };
  };

  const kubectl = (args: string[], kopts: KubectlOptions = {}): Promise<KubectlResult> =>
    runKubectl(args, { ...kopts, env: kubectlEnv(kopts.env) as Record<string, string> });

  const kubectlBackground = (args: string[], kopts: Omit<KubectlOptions, 'input' | 'timeoutMs'> = {}) =>
    startBackground(args, { cwd: kopts.cwd ?? repoRoot, env: kubectlEnv(kopts.env) });

  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => {
    stopping ??= (async () => {
      if (!exitInfo) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const info = await exited;
      clearTimeout(timer);
      if (!keepHome) await rm(home, { recursive: true, force: true });
      return info;
    })();
    return stopping;
  };

  const kill = async () => {
    if (!exitInfo) child.kill('SIGKILL');
    return exited;
  };

  return { home, kubeconfig, url, port, databaseUrl, output: () => output, kubectl, kubectlBackground, stop, kill };
}

/** Runs kubectl once with an argument vector; never through a shell. */
export function runKubectl(
  args: string[],
  opts: KubectlOptions & { env?: Record<string, string> } = {},
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', args, {
      cwd: opts.cwd ?? repoRoot,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? null : code, stdout, stderr: timedOut ? `${stderr}\n(kubectl timed out)` : stderr });
    });
    // kubectl may exit before reading all its input (e.g. on a usage error).
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

function startBackground(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): BackgroundKubectl {
  const child: ChildProcess = spawn('kubectl', args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exited = false;
  let exitCode: number | null | undefined;
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    notify();
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    notify();
  });
  const done = new Promise<KubectlResult>((resolve) =>
    child.on('close', (code) => {
      exited = true;
      exitCode = code;
      notify();
      resolve({ code, stdout, stderr });
    }),
  );
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    get exitCode() {
      return exitCode;
    },
    done,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise<string>((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout)) {
            done();
            resolve(stdout);
          } else if (exited) {
            done();
            reject(new Error(`kubectl ${args.join(' ')} exited before printing ${pattern}:\n${stdout}\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`kubectl ${args.join(' ')} did not print ${pattern} in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async kill() {
      if (!exited) child.kill('SIGTERM');
      await done;
    },
  };
}

/** Renders objects as one multi-document YAML stream, as a person would write it. */
export function yamlDocuments(objects: unknown[]): string {
  return objects.map((o) => YAML.stringify(o)).join('---\n');
}

/** Polls `check` until it answers a value other than undefined, or throws at the deadline. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

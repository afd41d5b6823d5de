// The `api` suite: the API server's figures from one run on one embedded PostgreSQL.
//
//  1. creates per second over HTTPS from 16 concurrent clients (ConfigMaps), p50/p99 latency;
//  2. the raw rate of single-row INSERT commits from 16 connections on the same PostgreSQL
//     (each INSERT its own autocommit transaction, the same count), and the ratio of the two.
//     Creates and raw INSERTs alternate in rounds, each round's INSERTs as many as its
//     creates. The ratio is the median of the rounds' ratios (a stall in one phase of one
//     round moves a ratio of totals far, 0.42 to 0.57 in one run); each round's ratio and
//     the ratio of the totals are printed beside it;
//     then diagnostics on the same PostgreSQL: the INSERT with pg_notify, a create's four
//     round trips without and with pg_notify (the `diag:` rows);
//  3. the time to list the 10,000 objects: JSON list, the full Table kubectl asks for, and
//     kubectl's paged form (Table, limit=500, following continue tokens);
//  4. create-to-watch-event latency with 100 open watch streams (in their own process,
//     watch-clients-process.ts): objects created at a steady rate, latency from just before
//     sending each create to the event arriving at each watcher;
//  5. CPU profiles of the server under the create, watch and list loads, with server-side
//     timings of each step of a create (request, service, transaction, statements, pool,
//     feed), written to $BENCH_OUT (default /tmp/virtflow-bench): api-*.cpuprofile and a
//     readable summary in api-profile.txt (what the PERF findings are made from).
//
// The server runs in its own process (api-server-process.ts); this process is the load.
// Knobs (environment): BENCH_CREATES (10000), BENCH_ROUNDS (5), BENCH_WATCHERS (100), BENCH_WATCH_RATE (per
// second, 100), BENCH_WATCH_SECONDS (5), BENCH_PROFILE_CREATES (3000), BENCH_OUT.
// Every loading phase stops after 60 s at the latest and reports what it did by then.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool, type Dispatcher } from 'undici';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/store/embedded.js';
import { formatProfileSummary, summarizeProfileFile } from './profile-summary.js';
import { BENCH_OUT, envNumber, percentile, progress, round, sortNumbers, type FigureInfo, type Figures } from './suite.js';
import { createDatabase } from '../support/create-database.js';
import { postgresCpuSeconds } from './postgres-cpu.js';
import { BenchChild } from './bench-child.js';

export const name = 'api';
export const description = 'API server over HTTPS on one embedded PostgreSQL: creates, raw INSERTs, lists, watches';

const CLIENTS = 16;
const CREATES = envNumber('BENCH_CREATES', 10_000);
const ROUNDS = envNumber('BENCH_ROUNDS', 5);
const WARMUP_CREATES = 3_000;
const WATCHERS = envNumber('BENCH_WATCHERS', 100);
const WATCH_RATE = envNumber('BENCH_WATCH_RATE', 100);
const WATCH_SECONDS = envNumber('BENCH_WATCH_SECONDS', 5);
const PROFILE_CREATES = envNumber('BENCH_PROFILE_CREATES', 3_000);
/** No phase that loads the server runs longer than this; what it did by then is reported. */
const PHASE_CAP_MS = 60_000;

export const figures: Record<string, FigureInfo> = {
  createsPerSecond: { label: 'creates/s (16 HTTPS clients)', unit: '/s' },
  createP50Ms: { label: 'create latency p50', unit: 'ms' },
  createP99Ms: { label: 'create latency p99', unit: 'ms', goal: { op: '<=', value: 20 } },
  creates: { label: 'creates measured', unit: 'objects' },
  rawInsertsPerSecond: { label: 'raw INSERT commits/s (16 conns)', unit: '/s' },
  rawInsertP50Ms: { label: 'raw INSERT latency p50', unit: 'ms' },
  rawInsertP99Ms: { label: 'raw INSERT latency p99', unit: 'ms' },
  createToRawRatio: { label: 'creates/s ÷ raw INSERTs/s, median of rounds', unit: '', goal: { op: '>=', value: 0.4 } },
  roundRatios: { label: 'the same, each round', unit: '' },
  totalsRatio: { label: 'the same, of the totals', unit: '' },
  rawInsertNotifyPerSecond: { label: 'diag: raw INSERT+pg_notify commits/s', unit: '/s' },
  rawTx4PerSecond: { label: 'diag: BEGIN;nextval;INSERT;COMMIT /s', unit: '/s' },
  rawTx4NotifyPerSecond: { label: 'diag: same + pg_notify (create shape) /s', unit: '/s' },
  listItems: { label: 'objects in the list', unit: 'objects' },
  listJsonMs: { label: 'list 10,000 (JSON), median', unit: 'ms', goal: { op: '<=', value: 150 } },
  listJsonBestMs: { label: 'list 10,000 (JSON), best', unit: 'ms' },
  listJsonMB: { label: 'list 10,000 (JSON), size', unit: 'MB' },
  listTableMs: { label: 'list 10,000 (Table), median', unit: 'ms' },
  listTableMB: { label: 'list 10,000 (Table), size', unit: 'MB' },
  listTablePagedMs: { label: 'list 10,000 (Table, limit=500 pages)', unit: 'ms' },
  watchP50Ms: { label: 'create→watch event p50', unit: 'ms' },
  watchP99Ms: { label: 'create→watch event p99', unit: 'ms', goal: { op: '<=', value: 20 } },
  watchMaxMs: { label: 'create→watch event max', unit: 'ms' },
  watchers: { label: 'watchers', unit: 'streams' },
  watchEventsDelivered: { label: 'watch events delivered / expected', unit: '' },
  watchCreateP99Ms: { label: 'create latency p99 during watch', unit: 'ms' },
  serverCpuMsPerCreate: { label: 'CPU per create: server', unit: 'ms' },
  postgresCpuMsPerCreate: { label: 'CPU per create: PostgreSQL', unit: 'ms' },
  clientCpuMsPerCreate: { label: 'CPU per create: load generator', unit: 'ms' },
  postgresCpuMsPerRawInsert: { label: 'CPU per raw INSERT: PostgreSQL', unit: 'ms' },
  clientCpuMsPerRawInsert: { label: 'CPU per raw INSERT: pg client', unit: 'ms' },
  profiledCreatesPerSecond: { label: 'creates/s while profiling', unit: '/s' },
  serverCpuDuringWatch: { label: 'CPU during watch: server', unit: '% core' },
};

const here = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------
// The server process

interface ServerInfo {
  url: string;
  token: string;
  caCert: string;
}



class CpuMeter {
  private t0 = 0;
  private client0 = process.cpuUsage();
  private server0 = { user: 0, system: 0 };
  private pg0 = 0;
  constructor(
    private readonly server: BenchChild<ServerInfo>,
    private readonly dataDir: string,
  ) {}
  async start(): Promise<void> {
    this.server0 = await this.server.call<{ user: number; system: number }>('cpu');
    this.pg0 = await postgresCpuSeconds(this.dataDir);
    this.client0 = process.cpuUsage();
    this.t0 = performance.now();
  }
  /** CPU seconds each used since start(), and the wall-clock seconds. */
  async stop(): Promise<CpuSplit> {
    const wall = (performance.now() - this.t0) / 1000;
    const client = process.cpuUsage(this.client0);
    const server = await this.server.call<{ user: number; system: number }>('cpu');
    const postgres = (await postgresCpuSeconds(this.dataDir)) - this.pg0;
    return {
      wall,
      client: (client.user + client.system) / 1e6,
      server: (server.user - this.server0.user + server.system - this.server0.system) / 1e6,
      postgres,
    };
  }
}

interface CpuSplit {
  wall: number;
  client: number;
  server: number;
  postgres: number;
}

function addSplits(a: CpuSplit, b: CpuSplit): CpuSplit {
  return { wall: a.wall + b.wall, client: a.client + b.client, server: a.server + b.server, postgres: a.postgres + b.postgres };
}

const percentOfCore = (seconds: number, wall: number) => Math.round((seconds / wall) * 100);

// ---------------------------------------------------------------------------------------
// Load

function configMap(name: string, i: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, labels: { app: 'bench', shard: String(i % 16) } },
    data: { index: String(i), payload: 'x'.repeat(64) },
  });
}

interface LoadResult {
  done: number;
  errors: number;
  elapsedMs: number;
  latencies: number[];
  lastBody: string;
  firstError?: string;
}

/** `count` creates in `namespace` from `clients` concurrent loops; stops early at the cap. */
async function createLoad(pool: Dispatcher, token: string, namespace: string, prefix: string, count: number, clients = CLIENTS): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let lastBody = '';
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + PHASE_CAP_MS;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= count || performance.now() > deadline) return;
      const t0 = performance.now();
      const res = await pool.request({
        path: `/api/v1/namespaces/${namespace}/configmaps`,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: configMap(`${prefix}-${i}`, i),
      });
      const text = await res.body.text();
      const t1 = performance.now();
      if (res.statusCode !== 201) {
        errors++;
        firstError ??= `${res.statusCode} ${text.slice(0, 200)}`;
        continue;
      }
      latencies.push(t1 - t0);
      lastBody = text;
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  return { done: latencies.length, errors, elapsedMs: performance.now() - started, latencies, lastBody, firstError };
}

/**
 * The shapes of SQL commit measured straight on PostgreSQL, 16 connections, no server:
 *  - insert:        one INSERT, its own autocommit transaction (the reference figure);
 *  - insert+notify: the same INSERT with pg_notify in the same statement;
 *  - tx4:           BEGIN; SELECT nextval + advisory lock; INSERT; COMMIT (a create's round
 *                   trips, without NOTIFY);
 *  - tx4+notify:    the same with pg_notify in the INSERT statement, the round trips
 *                   and the NOTIFY a create paid before writes were committed in groups.
 */
type RawShape = 'insert' | 'insert+notify' | 'tx4' | 'tx4+notify';

async function rawInserts(
  url: string,
  count: number,
  payload: string,
  shape: RawShape = 'insert',
  meter?: CpuMeter,
  /** Empty the table first (false: a later round of the same measurement). */
  fresh = true,
): Promise<{ elapsedMs: number; latencies: number[]; cpu?: CpuSplit }> {
  const clients = Array.from({ length: CLIENTS }, () => new pg.Client({ connectionString: url }));
  await Promise.all(clients.map((c) => c.connect()));
  try {
    await clients[0]!.query('CREATE TABLE IF NOT EXISTS bench_raw (id bigserial PRIMARY KEY, key text NOT NULL, value text NOT NULL)');
    await clients[0]!.query('CREATE SEQUENCE IF NOT EXISTS bench_raw_rev');
    if (fresh) await clients[0]!.query('TRUNCATE bench_raw');
    const insert = 'INSERT INTO bench_raw (key, value) VALUES ($1, $2)';
    const insertNotify = "WITH i AS (INSERT INTO bench_raw (key, value) VALUES ($1, $2) RETURNING id) SELECT pg_notify('bench_raw', id::text) FROM i";
    const one = async (c: pg.Client, key: string) => {
      if (shape === 'insert' || shape === 'insert+notify') {
        await c.query(shape === 'insert' ? insert : insertNotify, [key, payload]);
        return;
      }
      await c.query('BEGIN');
      try {
        await c.query("SELECT s.id, pg_advisory_xact_lock(s.id) FROM (SELECT nextval('bench_raw_rev') AS id) s");
        await c.query(shape === 'tx4' ? insert : insertNotify, [key, payload]);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      }
    };
    const latencies: number[] = [];
    let next = 0;
    await meter?.start();
    const started = performance.now();
    const deadline = started + PHASE_CAP_MS;
    await Promise.all(
      clients.map(async (c) => {
        for (;;) {
          const i = next++;
          if (i >= count || performance.now() > deadline) return;
          const t0 = performance.now();
          await one(c, `raw-${i}`);
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const elapsedMs = performance.now() - started;
    // Before the connections close: their backends' CPU goes when they exit.
    const cpu = await meter?.stop();
    return { elapsedMs, latencies, cpu };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}

async function get(pool: Dispatcher, token: string, urlPath: string, accept?: string): Promise<{ status: number; text: string; ms: number }> {
  const t0 = performance.now();
  const res = await pool.request({
    path: urlPath,
    method: 'GET',
    headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) },
  });
  const text = await res.body.text();
  return { status: res.statusCode, text, ms: performance.now() - t0 };
}

async function post(pool: Dispatcher, token: string, urlPath: string, body: unknown): Promise<number> {
  const res = await pool.request({
    path: urlPath,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.body.dump();
  return res.statusCode;
}

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

async function timedLists(pool: Dispatcher, token: string, urlPath: string, accept: string | undefined, warm: number, runs: number) {
  for (let i = 0; i < warm; i++) await get(pool, token, urlPath, accept);
  const times: number[] = [];
  let bytes = 0;
  let items = 0;
  for (let i = 0; i < runs; i++) {
    const r = await get(pool, token, urlPath, accept);
    if (r.status !== 200) throw new Error(`list ${urlPath} answered ${r.status}: ${r.text.slice(0, 200)}`);
    times.push(r.ms);
    bytes = Buffer.byteLength(r.text);
    const parsed = JSON.parse(r.text) as { items?: unknown[]; rows?: unknown[] };
    items = (parsed.items ?? parsed.rows ?? []).length;
  }
  const sorted = sortNumbers(times);
  return { median: percentile(sorted, 50), best: sorted[0]!, bytes, items };
}

/** kubectl get: Table pages of 500, following continue tokens. */
async function pagedTableList(pool: Dispatcher, token: string, namespace: string): Promise<{ ms: number; rows: number }> {
  const t0 = performance.now();
  let cont = '';
  let rows = 0;
  for (let page = 0; page < 1000; page++) {
    const r = await get(pool, token, `/api/v1/namespaces/${namespace}/configmaps?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, TABLE);
    if (r.status !== 200) throw new Error(`paged list answered ${r.status}: ${r.text.slice(0, 200)}`);
    const table = JSON.parse(r.text) as { rows?: unknown[]; metadata?: { continue?: string } };
    rows += table.rows?.length ?? 0;
    cont = table.metadata?.continue ?? '';
    if (!cont) break;
  }
  return { ms: performance.now() - t0, rows };
}

// ---------------------------------------------------------------------------------------
// Watches

interface WatchPhase {
  latencies: number[];
  delivered: number;
  expected: number;
  createLatencies: number[];
  createErrors: number;
}

/** The watchers' process (watch-clients-process.ts), talked to over IPC. */
class WatchClients {
  private waiting: ((msg: Record<string, unknown>) => void)[] = [];
  private constructor(private readonly child: ChildProcess) {
    child.on('message', (msg: Record<string, unknown>) => this.waiting.shift()?.(msg));
  }

  static async open(info: ServerInfo, urlPath: string, watchers: number): Promise<WatchClients> {
    const child = fork(path.join(here, 'watch-clients-process.ts'), [JSON.stringify({ url: info.url, caCert: info.caCert, token: info.token, path: urlPath, watchers })], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const clients = new WatchClients(child);
    const first = await Promise.race([
      clients.next(),
      new Promise<Record<string, unknown>>((resolve) => child.once('exit', (code) => resolve({ error: `watchers exited with ${code}` }))),
      new Promise<Record<string, unknown>>((resolve) => setTimeout(() => resolve({ error: 'watch streams did not open in 60 s' }), 60_000)),
    ]);
    if (first.error || first.open !== watchers) {
      child.kill('SIGKILL');
      throw new Error(String(first.error ?? `only ${String(first.open)} watch streams opened`));
    }
    return clients;
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async count(): Promise<number> {
    const reply = this.next();
    this.child.send({ cmd: 'count' });
    return Number((await reply).count);
  }

  async collect(): Promise<{ names: string[]; times: number[] }> {
    const reply = this.next();
    this.child.send({ cmd: 'collect' });
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const out = (await reply) as { names: string[]; times: number[] };
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    return out;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Epoch milliseconds with sub-millisecond precision, comparable with the watchers' process. */
const epochNow = () => performance.timeOrigin + performance.now();

/**
 * Opens WATCHERS watch streams on `namespace` (from its current resourceVersion, so no
 * initial events) in the watchers' process, then creates objects named `<prefix>-<i>` there
 * at WATCH_RATE per second for `seconds`; each event's latency runs from just before its
 * create was sent to its arrival at the watcher.
 */
async function watchPhase(info: ServerInfo, createPool: Dispatcher, namespace: string, prefix: string, seconds: number): Promise<WatchPhase> {
  const { token } = info;
  const list = await get(createPool, token, `/api/v1/namespaces/${namespace}/configmaps?limit=1`);
  const rv = (JSON.parse(list.text) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const watchers = await WatchClients.open(info, `/api/v1/namespaces/${namespace}/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=300`, WATCHERS);
  try {
    progress(name, `  ${WATCHERS} watch streams open; creating ${WATCH_RATE}/s for ${seconds} s`);
    // A moment for the streams to settle before the first create.
    await new Promise((r) => setTimeout(r, 500));

    const sentAt = new Map<string, number>();
    const total = Math.round(WATCH_RATE * seconds);
    const periodMs = 1000 / WATCH_RATE;
    const createLatencies: number[] = [];
    let createErrors = 0;
    const inflight: Promise<void>[] = [];
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const due = start + i * periodMs;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const objName = `${prefix}-${i}`;
      const t0 = performance.now();
      sentAt.set(objName, epochNow());
      inflight.push(
        createPool
          .request({
            path: `/api/v1/namespaces/${namespace}/configmaps`,
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: configMap(objName, i),
          })
          .then(async (res) => {
            await res.body.dump();
            if (res.statusCode === 201) createLatencies.push(performance.now() - t0);
            else createErrors++;
          }),
      );
    }
    await Promise.all(inflight);
    const expected = total * WATCHERS;
    const until = performance.now() + 10_000;
    while ((await watchers.count()) < expected - createErrors * WATCHERS && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const arrivals = await watchers.collect();
    const latencies: number[] = [];
    for (let i = 0; i < arrivals.names.length; i++) {
      const t = sentAt.get(arrivals.names[i]!);
      if (t !== undefined) latencies.push(arrivals.times[i]! - t);
    }
    return { latencies, delivered: latencies.length, expected, createLatencies, createErrors };
  } finally {
    watchers.kill();
  }
}

// ---------------------------------------------------------------------------------------
// Profiles

/** Runs `load` with the server's CPU profiler and instrumentation on; answers a report section. */
async function profiled(server: BenchChild<ServerInfo>, title: string, file: string, load: () => Promise<string>): Promise<string> {
  await server.call('instrument', { on: true });
  await server.call('profile-start');
  let outcome: string;
  try {
    outcome = await load();
  } finally {
    await server.call('profile-stop', { file });
  }
  const stats = await server.call<Record<string, unknown>>('stats');
  await server.call('instrument', { on: false });
  const summary = await summarizeProfileFile(file, 25);
  return [
    `=== ${title}`,
    outcome,
    `profile: ${file}`,
    '',
    formatProfileSummary(summary),
    '',
    'server-side timings (ms) while profiling:',
    JSON.stringify(stats, null, 2),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------

export async function run(): Promise<Figures> {
  await mkdir(BENCH_OUT, { recursive: true });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'virtflow-bench-'));
  const dataDir = path.join(dir, 'pg');
  let embedded: EmbeddedDatabase | undefined;
  let server: BenchChild<ServerInfo> | undefined;
  let pool: Pool | undefined;
  try {
    progress(name, `starting PostgreSQL in ${dir}`);
    embedded = await startEmbeddedPostgres(dataDir, { persistent: false });
    const serverDbUrl = await createDatabase(embedded.url, 'virtflow_bench');
    const rawDbUrl = new URL(embedded.url);
    rawDbUrl.pathname = '/postgres';

    progress(name, 'starting the API server process');
    server = await BenchChild.start<ServerInfo>(path.join(here, 'api-server-process.ts'), { databaseUrl: serverDbUrl.toString(), home: path.join(dir, 'home') }, { label: 'the server' });
    const { token } = server.info;
    pool = new Pool(server.info.url, { connect: { ca: server.info.caCert }, connections: CLIENTS, pipelining: 1 });
    for (const ns of ['bench', 'bench-warmup', 'bench-watch', 'bench-profile']) {
      const code = await post(pool, token, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      if (code !== 201) throw new Error(`creating namespace ${ns} answered ${code}`);
    }

    // Warm-up: JIT, connection pools, TLS sessions, PostgreSQL caches.
    progress(name, `warm-up: ${WARMUP_CREATES} creates, 1,000 raw INSERTs`);
    const warm = await createLoad(pool, token, 'bench-warmup', 'warm', WARMUP_CREATES);
    if (warm.errors > 0) throw new Error(`warm-up creates failed: ${warm.firstError}`);
    const storedBytes = Buffer.byteLength(warm.lastBody);
    await rawInserts(rawDbUrl.toString(), 1_000, 'x'.repeat(storedBytes));

    // 1 and 2. Creates, and raw INSERT commits of the same count with values as large as a
    // stored ConfigMap, in alternating rounds: this machine's speed drifts over seconds, and
    // rounds side by side see the same drift, where two long phases one after the other
    // need not.
    const perRound = Math.ceil(CREATES / ROUNDS);
    progress(name, `creates and raw INSERTs: ${ROUNDS} rounds of ${perRound} each, from ${CLIENTS} clients, ${storedBytes}-byte raw values`);
    const creates: LoadResult = { done: 0, errors: 0, elapsedMs: 0, latencies: [], lastBody: '' };
    const raw: { elapsedMs: number; latencies: number[] } = { elapsedMs: 0, latencies: [] };
    let split: CpuSplit = { wall: 0, client: 0, server: 0, postgres: 0 };
    let rawSplit: CpuSplit = { ...split };
    const roundRatios: number[] = [];
    for (let round = 0; round < ROUNDS && creates.done + creates.errors < CREATES; round++) {
      const cpu = new CpuMeter(server, dataDir);
      await cpu.start();
      const c = await createLoad(pool, token, 'bench', `cm${round}`, Math.min(perRound, CREATES - creates.done - creates.errors));
      split = addSplits(split, await cpu.stop());
      creates.done += c.done;
      creates.errors += c.errors;
      creates.elapsedMs += c.elapsedMs;
      creates.latencies.push(...c.latencies);
      creates.firstError ??= c.firstError;
      const r = await rawInserts(rawDbUrl.toString(), c.done, 'x'.repeat(storedBytes), 'insert', new CpuMeter(server, dataDir), round === 0);
      rawSplit = addSplits(rawSplit, r.cpu!);
      raw.elapsedMs += r.elapsedMs;
      raw.latencies.push(...r.latencies);
      const ratio = c.done / c.elapsedMs / (r.latencies.length / r.elapsedMs);
      roundRatios.push(ratio);
      progress(name, `  round ${round + 1}: creates ${Math.round((c.done / c.elapsedMs) * 1000)}/s, raw INSERTs ${Math.round((r.latencies.length / r.elapsedMs) * 1000)}/s, ratio ${ratio.toFixed(3)}`);
    }
    if (creates.errors > Math.max(10, creates.done / 100)) throw new Error(`${creates.errors} creates failed: ${creates.firstError}`);
    const createsPerSecond = (creates.done / creates.elapsedMs) * 1000;
    const createSorted = sortNumbers(creates.latencies);
    const rawPerSecond = (raw.latencies.length / raw.elapsedMs) * 1000;
    const rawSorted = sortNumbers(raw.latencies);
    progress(name, `  creates ${Math.round(createsPerSecond)}/s, p50 ${round(percentile(createSorted, 50), 2)} ms, p99 ${round(percentile(createSorted, 99), 2)} ms; raw INSERTs ${Math.round(rawPerSecond)}/s`);

    // 2b. Diagnostics: what NOTIFY and a create's round trips cost a commit, on the same PostgreSQL.
    const diagCount = Math.min(creates.done, 3_000);
    const shapes: Record<string, number> = {};
    const shapeCpu: string[] = [`insert ${round((rawSplit.postgres * 1000) / raw.latencies.length, 3)}`];
    for (const shape of ['insert+notify', 'tx4', 'tx4+notify'] as const) {
      const r = await rawInserts(rawDbUrl.toString(), diagCount, 'x'.repeat(storedBytes), shape, new CpuMeter(server, dataDir));
      shapes[shape] = (r.latencies.length / r.elapsedMs) * 1000;
      shapeCpu.push(`${shape} ${round((r.cpu!.postgres * 1000) / r.latencies.length, 3)}`);
      progress(name, `  diagnostic ${shape}: ${Math.round(shapes[shape])}/s`);
    }

    // 3. Lists of the objects just created.
    progress(name, 'lists: JSON, Table, Table in pages of 500');
    const listPath = '/api/v1/namespaces/bench/configmaps';
    const json = await timedLists(pool, token, listPath, undefined, 2, 7);
    const table = await timedLists(pool, token, listPath, TABLE, 2, 5);
    await pagedTableList(pool, token, 'bench');
    const pagedRuns: number[] = [];
    let pagedRows = 0;
    for (let i = 0; i < 3; i++) {
      const p = await pagedTableList(pool, token, 'bench');
      pagedRuns.push(p.ms);
      pagedRows = p.rows;
    }
    if (pagedRows !== json.items || table.items !== json.items) {
      throw new Error(`lists disagree: JSON ${json.items} items, Table ${table.items} rows, paged ${pagedRows} rows`);
    }

    // 4. Watches.
    progress(name, `watch: ${WATCHERS} streams`);
    const watchCpu = new CpuMeter(server, dataDir);
    await watchCpu.start();
    const watch = await watchPhase(server.info, pool, 'bench-watch', 'w', WATCH_SECONDS);
    const watchSplit = await watchCpu.stop();
    const watchSorted = sortNumbers(watch.latencies);
    const watchCreateSorted = sortNumbers(watch.createLatencies);
    progress(name, `  p50 ${round(percentile(watchSorted, 50), 2)} ms, p99 ${round(percentile(watchSorted, 99), 2)} ms`);

    // 5. Profiles of the server under each load, for the PERF findings.
    const sections: string[] = [];
    progress(name, `profile: ${PROFILE_CREATES} creates with the server's CPU profiler on`);
    let profiledPerSecond = 0;
    sections.push(
      await profiled(server, `creates: ${PROFILE_CREATES} from ${CLIENTS} clients`, path.join(BENCH_OUT, 'api-create.cpuprofile'), async () => {
        const r = await createLoad(pool!, token, 'bench-profile', 'p', PROFILE_CREATES);
        profiledPerSecond = (r.done / r.elapsedMs) * 1000;
        const sorted = sortNumbers(r.latencies);
        return `${Math.round(profiledPerSecond)}/s while profiling, client-side p50 ${round(percentile(sorted, 50), 2)} ms, p99 ${round(percentile(sorted, 99), 2)} ms`;
      }),
    );
    progress(name, `profile: watch, ${WATCHERS} streams, ${WATCH_RATE}/s for 3 s`);
    sections.push(
      await profiled(server, `watch: ${WATCHERS} streams, ${WATCH_RATE} creates/s`, path.join(BENCH_OUT, 'api-watch.cpuprofile'), async () => {
        const w = await watchPhase(server!.info, pool!, 'bench-watch', 'pw', 3);
        const sorted = sortNumbers(w.latencies);
        return `while profiling: event p50 ${round(percentile(sorted, 50), 2)} ms, p99 ${round(percentile(sorted, 99), 2)} ms, ${w.delivered}/${w.expected} delivered`;
      }),
    );
    progress(name, 'profile: 5 JSON lists of 10,000');
    sections.push(
      await profiled(server, 'lists: 5 JSON lists of the 10,000', path.join(BENCH_OUT, 'api-list.cpuprofile'), async () => {
        const l = await timedLists(pool!, token, listPath, undefined, 0, 5);
        return `while profiling: median ${round(l.median, 1)} ms`;
      }),
    );
    const cpuLine = (what: string, s: CpuSplit) =>
      `CPU during ${what} (% of one core): server ${percentOfCore(s.server, s.wall)}, PostgreSQL ${percentOfCore(s.postgres, s.wall)}, load generator ${percentOfCore(s.client, s.wall)}`;
    const header = [
      `VirtFlow api bench, ${new Date().toISOString()}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
      cpuLine('measured creates', split),
      cpuLine('raw INSERTs', rawSplit),
      `PostgreSQL CPU ms per commit, by shape: ${shapeCpu.join(', ')}; per server create ${round((split.postgres * 1000) / creates.done, 3)}`,
      `rates: creates ${Math.round(createsPerSecond)}/s; raw insert ${Math.round(rawPerSecond)}/s; ${Object.entries(shapes).map(([k, v]) => `${k} ${Math.round(v)}/s`).join('; ')}`,
      cpuLine('measured watch phase (watchers are another process)', watchSplit),
      '',
    ].join('\n');
    await writeFile(path.join(BENCH_OUT, 'api-profile.txt'), header + sections.join('\n'));
    progress(name, `profiles and summaries written to ${BENCH_OUT} (api-profile.txt)`);

    return {
      createsPerSecond: Math.round(createsPerSecond),
      createP50Ms: round(percentile(createSorted, 50), 2),
      createP99Ms: round(percentile(createSorted, 99), 2),
      creates: creates.done,
      rawInsertsPerSecond: Math.round(rawPerSecond),
      rawInsertP50Ms: round(percentile(rawSorted, 50), 2),
      rawInsertP99Ms: round(percentile(rawSorted, 99), 2),
      createToRawRatio: round(percentile(sortNumbers(roundRatios), 50), 3),
      roundRatios: roundRatios.map((r) => r.toFixed(3)).join(' '),
      totalsRatio: round(createsPerSecond / rawPerSecond, 3),
      rawInsertNotifyPerSecond: Math.round(shapes['insert+notify']!),
      rawTx4PerSecond: Math.round(shapes.tx4!),
      rawTx4NotifyPerSecond: Math.round(shapes['tx4+notify']!),
      listItems: json.items,
      listJsonMs: round(json.median, 1),
      listJsonBestMs: round(json.best, 1),
      listJsonMB: round(json.bytes / 1e6, 2),
      listTableMs: round(table.median, 1),
      listTableMB: round(table.bytes / 1e6, 2),
      listTablePagedMs: round(percentile(sortNumbers(pagedRuns), 50), 1),
      watchers: WATCHERS,
      watchP50Ms: round(percentile(watchSorted, 50), 2),
      watchP99Ms: round(percentile(watchSorted, 99), 2),
      watchMaxMs: round(watchSorted[watchSorted.length - 1] ?? Number.NaN, 1),
      watchEventsDelivered: `${watch.delivered}/${watch.expected}`,
      watchCreateP99Ms: round(percentile(watchCreateSorted, 99), 2),
      serverCpuMsPerCreate: round((split.server * 1000) / creates.done, 3),
      postgresCpuMsPerCreate: round((split.postgres * 1000) / creates.done, 3),
      clientCpuMsPerCreate: round((split.client * 1000) / creates.done, 3),
      postgresCpuMsPerRawInsert: round((rawSplit.postgres * 1000) / raw.latencies.length, 3),
      clientCpuMsPerRawInsert: round((rawSplit.client * 1000) / raw.latencies.length, 3),
      profiledCreatesPerSecond: Math.round(profiledPerSecond),
      serverCpuDuringWatch: percentOfCore(watchSplit.server, watchSplit.wall),
    };
  } finally {
    await pool?.close().catch(() => {});
    await server?.stop().catch(() => {});
    await embedded?.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

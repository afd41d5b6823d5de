// The `hostile` suite: the full hostile-input flood (test/support/hostile.ts), at least 10,000
// malformed or oversized requests of every kind, against the API server in its own process
// (api-server-process.ts) over loopback HTTPS, with ordinary GETs timed throughout. What must
// hold: no 5xx, no process exit, every refusal a Status, the canary intact. The CI-sized run
// of the same flood is test/integration/hostile.test.ts.
// Knobs (environment): BENCH_HOSTILE_REQUESTS (10000), BENCH_HOSTILE_CONCURRENCY (8),
// BENCH_HOSTILE_SEED. The flood stops after 10 minutes at the latest.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/store/embedded.js';
import { runHostileFlood, type HostileTarget } from '../support/hostile.js';
import { BenchChild } from './bench-child.js';
import { envNumber, progress, type FigureInfo, type Figures } from './suite.js';
import { createDatabase } from '../support/create-database.js';

export const name = 'hostile';
export const description = 'hostile-input flood over loopback HTTPS: no 5xx, no exit, GET latency during the flood';

const REQUESTS = envNumber('BENCH_HOSTILE_REQUESTS', 10_000);
const CONCURRENCY = envNumber('BENCH_HOSTILE_CONCURRENCY', 8);
const SEED = envNumber('BENCH_HOSTILE_SEED', 20261206);

export const figures: Record<string, FigureInfo> = {
  sent: { label: 'hostile requests sent', unit: 'requests', goal: { op: '>=', value: 10_000 } },
  serverErrors: { label: '5xx answers and other rule breaks', unit: '', goal: { op: '<=', value: 0 } },
  processExits: { label: 'server process exits', unit: '', goal: { op: '<=', value: 0 } },
  requestsPerSecond: { label: 'hostile requests/s', unit: '/s' },
  probeGets: { label: 'ordinary GETs during the flood', unit: 'requests' },
  getP50Ms: { label: 'GET latency p50 during the flood', unit: 'ms' },
  getP99Ms: { label: 'GET latency p99 during the flood', unit: 'ms' },
  getMaxMs: { label: 'GET latency max during the flood', unit: 'ms' },
  durationS: { label: 'flood duration', unit: 's' },
  resourceVersionTooLarge: { label: '504 ResourceVersionTooLarge (kube-apiserver answers so)', unit: '' },
};

const here = path.dirname(fileURLToPath(import.meta.url));

export async function run(): Promise<Figures> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'virtflow-hostile-'));
  let embedded: EmbeddedDatabase | undefined;
  let server: BenchChild<HostileTarget> | undefined;
  let exits = 0;
  try {
    progress(name, `starting PostgreSQL in ${dir}`);
    embedded = await startEmbeddedPostgres(path.join(dir, 'pg'), { persistent: false });
    const dbUrl = await createDatabase(embedded.url, 'virtflow_hostile');
    progress(name, 'starting the API server process');
    server = await BenchChild.start<HostileTarget>(path.join(here, 'api-server-process.ts'), { databaseUrl: dbUrl.toString(), home: path.join(dir, 'home') }, {
      label: 'the server',
      logFile: path.join(dir, 'server.log'),
    });
    server.child.once('exit', () => exits++);
    progress(name, `flooding with ${REQUESTS} hostile requests, ${CONCURRENCY} at a time`);
    const report = await runHostileFlood(server.info, { requests: REQUESTS, seed: SEED, concurrency: CONCURRENCY, deadlineMs: 600_000 });
    for (const failure of report.failures.slice(0, 20)) progress(name, `FAILURE ${failure}`);
    progress(name, `slowest answer by kind (ms): ${JSON.stringify(report.slowestByKind)}`);
    progress(name, `requests by kind: ${JSON.stringify(report.byKind)}`);
    progress(name, `answers by status ("closed": the connection was closed, as for broken framing): ${JSON.stringify(report.byStatus)}`);
    return {
      sent: report.sent,
      serverErrors: report.failures.length,
      processExits: exits + (server.child.exitCode !== null ? 1 : 0),
      requestsPerSecond: report.requestsPerSecond,
      probeGets: report.probeGets,
      getP50Ms: report.getP50Ms,
      getP99Ms: report.getP99Ms,
      getMaxMs: report.getMaxMs,
      durationS: Math.round(report.durationMs / 100) / 10,
      resourceVersionTooLarge: report.resourceVersionTooLarge,
    };
  } finally {
    await server?.stop().catch(() => {});
    await embedded?.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

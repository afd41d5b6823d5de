// The API server under benchmark, in its own process (so the load generator's HTTPS and JSON
// work does not share its event loop), started by api-suite.ts with fork(). It serves the
// database given in argv[2] ({databaseUrl, home}) and answers requests over IPC:
//   {id, cmd: 'instrument', on}         time server-side requests, writes, statements and batch sizes
//   {id, cmd: 'stats'}                  the timings gathered since 'instrument' was turned on
// and the commands every measured process answers (cpu, profile-start, profile-stop, stop:
// see serveBenchRequests in bench-child.ts).
// The instrumentation wraps objects of the running server from the outside; src/ is untouched.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { startStandalone } from '../../src/cli/standalone.js';
import { serveBenchRequests } from './bench-child.js';
import { percentile, sortNumbers } from './suite.js';

interface Args {
  databaseUrl: string;
  home: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;

class Timings {
  private readonly samples = new Map<string, number[]>();
  add(name: string, ms: number): void {
    let list = this.samples.get(name);
    if (!list) this.samples.set(name, (list = []));
    list.push(ms);
  }
  clear(): void {
    this.samples.clear();
  }
  summary(): Record<string, { count: number; totalMs: number; meanMs: number; p50Ms: number; p99Ms: number; maxMs: number }> {
    const out: ReturnType<Timings['summary']> = {};
    for (const [name, list] of this.samples) {
      const sorted = sortNumbers(list);
      const at = (p: number) => percentile(sorted, p);
      const total = sorted.reduce((a, b) => a + b, 0);
      out[name] = {
        count: sorted.length,
        totalMs: Math.round(total),
        meanMs: Math.round((total / sorted.length) * 1000) / 1000,
        p50Ms: Math.round(at(50) * 1000) / 1000,
        p99Ms: Math.round(at(99) * 1000) / 1000,
        maxMs: Math.round(sorted[sorted.length - 1]! * 1000) / 1000,
      };
    }
    return out;
  }
}

async function main(): Promise<void> {
  const vf = await startStandalone({ home: args.home, port: 0, databaseUrl: args.databaseUrl });
  const timings = new Timings();
  let on = false;
  // The histogram holds whole timer intervals; the delay is what exceeds the resolution.
  const LOOP_RESOLUTION_MS = 2;
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  const delayMs = (ns: number) => Math.max(0, Math.round((ns / 1e6 - LOOP_RESOLUTION_MS) * 100) / 100);

  // Server-side request time: from the request's arrival to the last byte handed to TLS.
  const https = (vf.server as unknown as { server: Server }).server;
  https.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!on) return;
    const started = performance.now();
    const kind = `http ${req.method} ${req.url?.includes('watch=') ? 'watch' : req.method === 'GET' ? 'read' : 'write'}`;
    res.on('finish', () => timings.add(kind, performance.now() - started));
  });

  // The service's create: validation, defaults, ownership, then the store write.
  const service = vf.server.service;
  const create = service.create.bind(service);
  service.create = async (...a: Parameters<typeof create>) => {
    if (!on) return create(...a);
    const started = performance.now();
    try {
      return await create(...a);
    } finally {
      timings.add('service.create (all of it)', performance.now() - started);
    }
  };

  // The hot path's statements (node-postgres pool, named prepared statements): each write
  // batch's time from being handed to the pool to its result, and how many writes it carried.
  const pool = vf.db.pool;
  const poolQuery = pool.query.bind(pool) as (config: unknown, values?: unknown) => Promise<unknown>;
  (pool as { query: unknown }).query = async (config: unknown, values?: unknown) => {
    const name = typeof config === 'object' && config !== null ? (config as { name?: string }).name : undefined;
    if (!on || !name) return poolQuery(config, values);
    const started = performance.now();
    try {
      return await poolQuery(config, values);
    } finally {
      timings.add(`sql ${name}`, performance.now() - started);
      if (name.startsWith('vf-batch-')) {
        // The batch's first parameter is its rows as one JSON array (group-commit.ts).
        const rows = JSON.parse(String((config as { values?: unknown[] }).values?.[0] ?? '[]')) as unknown[];
        timings.add(`${name}: writes per statement (a count, not ms)`, rows.length);
      }
    }
  };

  // How long the change feed takes from a commit to delivering it to the cache.
  const committedAt = new Map<number, number>();
  // (The write path reports each commit to the feed through objects.listener.)
  const listener = vf.store.objects.listener;
  vf.store.objects.listener = {
    writing: () => listener.writing(),
    rolledBack: () => listener.rolledBack?.(),
    written: (outcome) => {
      if (on && outcome && 'change' in outcome) committedAt.set(outcome.change.revision, performance.now());
      listener.written(outcome);
    },
  };
  vf.store.cache.onEvent((event) => {
    const t = committedAt.get(event.revision);
    if (t === undefined) return;
    committedAt.delete(event.revision);
    timings.add('feed: local commit → cache event', performance.now() - t);
  });

  let cpuAtInstrument = process.cpuUsage();
  let instrumentedAt = performance.now();

  serveBenchRequests({
    profileIntervalUs: 200,
    stop: () => vf.stop(),
    commands: {
      instrument: (msg) => {
        on = Boolean(msg.on);
        if (on) {
          timings.clear();
          committedAt.clear();
          loopDelay.reset();
          loopDelay.enable();
          cpuAtInstrument = process.cpuUsage();
          instrumentedAt = performance.now();
        } else loopDelay.disable();
        return { on };
      },
      stats: () => {
        const cpu = process.cpuUsage(cpuAtInstrument);
        const wallMs = performance.now() - instrumentedAt;
        return {
          wallMs: Math.round(wallMs),
          cpuPercentOfOneCore: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
          eventLoopDelayMs: {
            p50: delayMs(loopDelay.percentile(50)),
            p99: delayMs(loopDelay.percentile(99)),
            max: delayMs(loopDelay.max),
          },
          timings: timings.summary(),
        };
      },
    },
  });
  // The parent going away must not leave a server behind.
  process.on('disconnect', () => {
    void vf.stop().finally(() => process.exit(0));
  });
  process.send!({ ready: { url: vf.url, token: vf.token, caCert: vf.caCert } });
}

main().catch((err) => {
  process.stderr.write(`bench server failed: ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});

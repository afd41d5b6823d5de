// `virtflow up` under benchmark, in its own process (started by lifecycle-suite.ts with
// fork()): the API server on the given database, the controllers and the simulated external
// controller (zero latency), all in this process as `virtflow up` runs them. It answers over
// IPC:
//   {id, cmd: 'stats'}                  the simulator's counters: totals, machines left, the
//                                       most machines any uid got, uids with more than one
// and the commands every measured process answers (cpu, profile-start, profile-stop, stop:
// see serveBenchRequests in bench-child.ts).
import { startUp } from '../../src/cli/up.js';
import { serveBenchRequests } from './bench-child.js';

interface Args {
  databaseUrl: string;
  home: string;
  /** Diagnostics only: run the API server without its garbage collector. */
  noGarbageCollector?: boolean;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;

async function main(): Promise<void> {
  const up = await startUp({
    home: args.home,
    port: 0,
    databaseUrl: args.databaseUrl,
    simulatorPort: 0,
    ...(args.noGarbageCollector ? { garbageCollector: false } : {}),
  });
  const sim = up.simulator!;
  serveBenchRequests({
    profileIntervalUs: 1000,
    stop: () => up.stop(),
    commands: {
      /** Counters that explain the cost per VM: API requests and reconciles, by their labels. */
      counters: async () => {
        const wanted = new Set(['apiserver_request_total', 'controller_runtime_reconcile_total', 'workqueue_adds_total']);
        const out: Record<string, number> = {};
        for (const metric of await up.standalone.server.metrics.registry.getMetricsAsJSON()) {
          if (!wanted.has(metric.name)) continue;
          for (const value of (metric as { values: { labels: Record<string, string | number>; value: number }[] }).values) {
            const labels = Object.values(value.labels).filter((v) => v !== '').join(' ');
            out[`${metric.name} ${labels}`] = value.value;
          }
        }
        return out;
      },
      stats: () => {
        let most = 0;
        let duplicated = 0;
        for (const uid of sim.stats.uids()) {
          const built = sim.stats.uid(uid).machinesCreated;
          most = Math.max(most, built);
          if (built > 1) duplicated++;
        }
        return {
          totals: sim.stats.totals(),
          uids: sim.stats.uids().length,
          machines: sim.simulation.machines.size,
          mostMachinesPerUid: most,
          uidsWithDuplicates: duplicated,
          reports: sim.reporter.counts,
        };
      },
    },
  });
  process.send!({ ready: { url: up.standalone.url, token: up.standalone.token, caCert: up.standalone.caCert, simulator: sim.url } });
}

main().catch((err) => {
  process.stderr.write(`lifecycle bench process failed: ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});

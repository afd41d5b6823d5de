// `virtflow up` under benchmark, in its own process (started by lifecycle-suite.ts with
// fork()): the API server on the given database, the controllers and the simulated external
// controller (zero latency), all in this process as `virtflow up` runs them. It answers over
// IPC:
//   {id, cmd: 'stats'}                  the simulator's counters: totals, machines left, the
//                                       most machines any uid got, uids with more than one
//   {id, cmd: 'cpu'}                    process.cpuUsage()
//   {id, cmd: 'profile-start'}          starts the V8 CPU profiler (node:inspector)
//   {id, cmd: 'profile-stop', file}     stops it and writes the .cpuprofile to `file`
//   {id, cmd: 'stop'}                   stops everything and exits
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { startUp } from '../../src/cli/up.js';

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
  let session: Session | undefined;
  process.on('message', (msg: { id: number; cmd: string; file?: string }) => {
    const reply = (body: unknown) => process.send!({ id: msg.id, body });
    const fail = (err: unknown) => process.send!({ id: msg.id, error: String((err as Error)?.stack ?? err) });
    void (async () => {
      switch (msg.cmd) {
        case 'stats': {
          let most = 0;
          let duplicated = 0;
          for (const uid of sim.stats.uids()) {
            const built = sim.stats.uid(uid).machinesCreated;
            most = Math.max(most, built);
            if (built > 1) duplicated++;
          }
          return reply({
            totals: sim.stats.totals(),
            uids: sim.stats.uids().length,
            machines: sim.simulation.machines.size,
            mostMachinesPerUid: most,
            uidsWithDuplicates: duplicated,
            reports: sim.reporter.counts,
          });
        }
        case 'cpu':
          return reply(process.cpuUsage());
        case 'profile-start':
          session = new Session();
          session.connect();
          await session.post('Profiler.enable');
          await session.post('Profiler.setSamplingInterval', { interval: 1000 });
          await session.post('Profiler.start');
          return reply({});
        case 'profile-stop': {
          if (!session) throw new Error('no profile running');
          const { profile } = await session.post('Profiler.stop');
          await writeFile(msg.file!, JSON.stringify(profile));
          session.disconnect();
          session = undefined;
          return reply({});
        }
        case 'stop':
          await up.stop();
          reply({});
          setTimeout(() => process.exit(0), 50);
          return;
        default:
          throw new Error(`unknown command ${msg.cmd}`);
      }
    })().catch(fail);
  });
  process.send!({ ready: { url: up.standalone.url, token: up.standalone.token, caCert: up.standalone.caCert, simulator: sim.url } });
}

main().catch((err) => {
  process.stderr.write(`lifecycle bench process failed: ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});

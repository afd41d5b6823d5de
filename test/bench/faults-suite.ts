// The `faults` suite: VirtFlow through crashes and an unreliable world, with figures.
//
//  1. crash: `virtflow up` (on DATABASE_URL, the simulator in this process) killed with
//     SIGKILL a quarter of the way through provisioning BENCH_FAULT_VMS (500) VMs, and again
//     a quarter of the way through deleting BENCH_FAULT_DELETES (300) of them, each time
//     started again on the same home (test/e2e/up-crash-scenario.ts): time to converge after
//     each restart, time until the restarted process leads (renews the Lease), machines built
//     twice, machines or VMs left behind, cpu booked wrongly on hosts and quotas.
//  2. database: `virtflow up` on its embedded PostgreSQL, which is killed (SIGKILL) under
//     the write load of 8 clients (test/e2e/database-kill-scenario.ts): writes acknowledged
//     and lost, writes failed and how, time until writes and the Lease are back.
//  3. flaky: BENCH_FLAKY_VMS (200) VMs created and half of them deleted against an external
//     controller with 200 ms operations, 30% of calls failing, and status callbacks
//     duplicated and reordered (30% each): time to converge, duplicates, what is left.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { seededRandom } from '../../src/providers/simulator/index.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/store/embedded.js';
import { apiOf, killUnderWriteLoad, startUpOnEmbeddedPostgres, type EmbeddedUp } from '../e2e/database-kill-scenario.js';
import { runCrashScenario, type CrashFigures } from '../e2e/up-crash-scenario.js';
import { envNumber, progress, round, type FigureInfo, type Figures } from './suite.js';
import { createDatabase } from '../support/create-database.js';

export const name = 'faults';
export const description = 'virtflow up killed mid-provisioning and mid-deletion, its PostgreSQL killed under load, an unreliable external controller';

const VMS = envNumber('BENCH_FAULT_VMS', 500);
const DELETES = Math.min(VMS, envNumber('BENCH_FAULT_DELETES', 300));
const FLAKY_VMS = envNumber('BENCH_FLAKY_VMS', 200);
const TIMEOUT_MS = envNumber('BENCH_FAULT_DEADLINE_S', 300) * 1000;

const zero = { op: '<=' as const, value: 0 };
export const figures: Record<string, FigureInfo> = {
  crashVms: { label: 'crash: VMs created / deleted', unit: '' },
  crashBuiltAtKill: { label: 'crash: machines built when killed', unit: 'VMs' },
  crashProvisionConvergeS: { label: 'crash: restart -> every VM Running', unit: 's' },
  crashLeaseTakeoverS: { label: 'crash: restart ready -> leading again', unit: 's', goal: { op: '<=', value: 5 } },
  crashGoneAtKill: { label: 'crash: deleted VMs gone when killed', unit: 'VMs' },
  crashDeleteConvergeS: { label: 'crash: restart -> every deleted VM gone', unit: 's' },
  crashDeleteLeaseTakeoverS: { label: 'crash: restart ready -> leading again (deletes)', unit: 's', goal: { op: '<=', value: 5 } },
  crashDuplicates: { label: 'crash: uids built twice', unit: '', goal: zero },
  crashLeftBehind: { label: 'crash: machines or VMs left behind', unit: '', goal: zero },
  crashReservationMismatches: { label: 'crash: host/quota status fields off the VMs\' sum', unit: '', goal: zero },
  dbAcknowledged: { label: 'database killed: writes acknowledged', unit: '' },
  dbLost: { label: 'database killed: acknowledged writes lost', unit: '', goal: zero },
  dbFailed: { label: 'database killed: writes failed meanwhile', unit: '' },
  dbFailedNot5xx: { label: 'database killed: failed writes not answered 5xx', unit: '', goal: zero },
  dbWritesBackMs: { label: 'database killed: kill -> writes acknowledged again', unit: 'ms' },
  dbLeaseRenewedMs: { label: 'database killed: kill -> Lease renewed', unit: 'ms' },
  flakyVms: { label: 'flaky: VMs created / deleted', unit: '' },
  flakyProvisionConvergeS: { label: 'flaky: first create -> every VM Running', unit: 's' },
  flakyDeleteConvergeS: { label: 'flaky: first delete -> every deleted VM gone', unit: 's' },
  flakyDuplicates: { label: 'flaky: uids built twice', unit: '', goal: zero },
  flakyLeftBehind: { label: 'flaky: machines or VMs left behind', unit: '', goal: zero },
  flakyReservationMismatches: { label: 'flaky: host/quota status fields off the VMs\' sum', unit: '', goal: zero },
};

function scenarioFigures(prefix: string, f: CrashFigures, withKills: boolean): Figures {
  const out: Figures = {
    [`${prefix}ProvisionConvergeS`]: round(f.provisionConvergeS, 1),
    [`${prefix}DeleteConvergeS`]: round(f.deleteConvergeS, 1),
    [`${prefix}Duplicates`]: f.duplicates,
    [`${prefix}LeftBehind`]: f.leftBehind,
    [`${prefix}ReservationMismatches`]: f.reservationMismatches,
  };
  if (withKills) {
    Object.assign(out, {
      [`${prefix}BuiltAtKill`]: f.builtAtKill,
      [`${prefix}LeaseTakeoverS`]: round(f.leaseTakeoverS, 1),
      [`${prefix}GoneAtKill`]: f.goneAtKill,
      [`${prefix}DeleteLeaseTakeoverS`]: round(f.deleteLeaseTakeoverS, 1),
    });
  }
  return out;
}

export async function run(): Promise<Figures> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'virtflow-bench-faults-'));
  const log = (line: string) => progress(name, line);
  const out: Figures = {};
  let server: EmbeddedDatabase | undefined;
  let up: EmbeddedUp | undefined;
  try {
    server = await startEmbeddedPostgres(path.join(dir, 'pg'), { persistent: false });

    progress(name, `1. crash: ${VMS} VMs provisioning, ${DELETES} deleting, virtflow up killed each time`);
    const crash = await runCrashScenario({ databaseUrl: (await createDatabase(server.url, 'faults_crash')).toString(), home: path.join(dir, 'crash-home'), vms: VMS, deletes: DELETES, timeoutMs: TIMEOUT_MS, log });
    Object.assign(out, { crashVms: `${VMS} / ${DELETES}` }, scenarioFigures('crash', crash, true));

    progress(name, '2. database: the embedded PostgreSQL killed under write load');
    const home = path.join(dir, 'db-home');
    up = await startUpOnEmbeddedPostgres(home);
    const { call, close } = await apiOf(home, up);
    try {
      const db = await killUnderWriteLoad(home, call, { writers: 8, before: 2_000, after: 2_000, timeoutMs: TIMEOUT_MS });
      Object.assign(out, {
        dbAcknowledged: db.acknowledged,
        dbLost: db.lost,
        dbFailed: db.failed,
        dbFailedNot5xx: db.failedNot5xx,
        dbWritesBackMs: db.writesBackMs,
        dbLeaseRenewedMs: db.leaseRenewedMs,
      });
    } finally {
      await close();
      up.child.kill('SIGTERM');
      await up.exited;
      up = undefined;
    }

    progress(name, `3. flaky: ${FLAKY_VMS} VMs against an external controller failing 30% with 200 ms latency and misdelivered callbacks`);
    const flaky = await runCrashScenario({
      databaseUrl: (await createDatabase(server.url, 'faults_flaky')).toString(),
      home: path.join(dir, 'flaky-home'),
      vms: FLAKY_VMS,
      deletes: Math.floor(FLAKY_VMS / 2),
      kill: false,
      simulator: { latencyMs: 200, failureRate: 0.3, failureMode: 'both', misdelivery: { duplicateRate: 0.3, reorderRate: 0.3, reorderDelayMs: 500, random: seededRandom(15) } },
      timeoutMs: TIMEOUT_MS,
      log,
    });
    Object.assign(out, { flakyVms: `${FLAKY_VMS} / ${Math.floor(FLAKY_VMS / 2)}` }, scenarioFigures('flaky', flaky, false));
    return out;
  } finally {
    if (up) {
      up.child.kill('SIGKILL');
      await up.exited;
    }
    await server?.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

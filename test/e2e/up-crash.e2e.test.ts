// `virtflow up` killed (SIGKILL) mid-provisioning and mid-deletion and started again on the
// same home, at CI size (the same scenario runs at 500 / 300 in `npm run bench -- faults`):
// every VM converges, none is built twice, hosts and quotas account for exactly the placed
// VMs, nothing is left behind, and the restarted process takes its own Lease over at once
// rather than idling until the dead one's expires (15 s).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/database.js';
import { runCrashScenario } from './up-crash-scenario.js';

let home = '';
beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'virtflow-crash-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

/** The Lease's duration under `virtflow up`: what a restart waited before it kept its identity. */
const LEASE_DURATION_S = 15;

describe('virtflow up killed and started again on the same home', () => {
  it('converges every VM once, with exact accounting and nothing left behind', { timeout: 300_000 }, async () => {
    const log = (line: string) => process.stderr.write(`crash scenario: ${line}\n`);
    const figures = await runCrashScenario({ databaseUrl: await createTestDatabase(), home, vms: 60, deletes: 40, timeoutMs: 120_000, log });
    log(JSON.stringify(figures));
    // Killed mid-way, really.
    expect(figures.builtAtKill).toBeLessThan(60);
    expect(figures.goneAtKill).toBeLessThan(40);
    expect({
      duplicates: figures.duplicates,
      leftBehind: figures.leftBehind,
      reservationMismatches: figures.reservationMismatches,
      sameHolder: figures.sameHolder,
    }).toEqual({ duplicates: 0, leftBehind: 0, reservationMismatches: 0, sameHolder: true });
    expect(figures.leaseTakeoverS).toBeLessThan(LEASE_DURATION_S / 2);
    expect(figures.deleteLeaseTakeoverS).toBeLessThan(LEASE_DURATION_S / 2);
  });
});

// An external controller as unreliable as a real one on a bad day: 200 ms per operation, 30%
// of calls failing (half as 503 answers, half as operations reported Failed), and status
// callbacks duplicated and delivered out of order (an older report arriving after a newer
// one). VirtFlow still converges: every VM Running, then deleted, one machine per uid ever,
// and no reservation left on the hosts or the quota. The periodic observe is set far beyond
// the waits, so convergence comes from the reports, retries and the operation checks alone:
// 60 VMs are enough for a Running report sent again after the Succeeded one to strand some.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/providers/simulator/index.js';
import { waitUntil } from '../support/wait.js';
import { condition, startWorld, type World } from './lifecycle-harness.js';

const COUNT = 60;
const names = Array.from({ length: COUNT }, (_, i) => `shaky-${String(i + 1).padStart(2, '0')}`);

let w: World;

beforeAll(async () => {
  // A resync far longer than the waits below: every VM must converge on its reports, retries
  // and observes, never by waiting for the next periodic observe.
  w = await startWorld({ latencyMs: 200, failureRate: 0.3, failureMode: 'both', seed: 15, resyncMs: 600_000, hostCpu: 400, quotaCpu: 2000 });
  w.sim.reporter.misdeliver({ duplicateRate: 0.3, reorderRate: 0.3, reorderDelayMs: 500, random: seededRandom(16) });
});

afterAll(async () => {
  await w?.stop();
});

const running = (vm: any) => vm.status?.phase === 'Running' && condition(vm, 'Ready')?.status === 'True';

async function waitAll(what: string, check: (vm: any) => boolean, timeoutMs = 30_000) {
  let pending = names;
  await waitUntil(async () => {
    const vms = await Promise.all(pending.map(async (n) => [n, await w.getVm(n)] as const));
    pending = vms.filter(([, vm]) => !check(vm)).map(([n]) => n);
    return pending.length === 0;
  }, `every VM ${what}`, timeoutMs).catch(async (err) => {
    const sample = await w.getVm(pending[0]!);
    throw new Error(`${(err as Error).message}; not yet: ${pending.join(', ')}; ${pending[0]}: ${JSON.stringify(sample?.status)}`);
  });
}

describe('with failures, latency, and duplicated and reordered callbacks', () => {
  it('every VM converges to Running once the last stale report has arrived, with one machine per uid', async () => {
    const started = Date.now();
    await Promise.all(names.map((n) => w.createVm(n)));
    await waitAll('Running and Ready', (vm) => vm !== undefined && running(vm));
    const convergedS = (Date.now() - started) / 1000;
    // Reports still held back arrive after the newer ones: the VMs must end up Running anyway.
    await waitUntil(() => w.sim.reporter.replaysPending === 0, 'the held-back reports to be sent', 30_000);
    await waitAll('Running and Ready after the stale reports', (vm) => vm !== undefined && running(vm) && vm.status?.lastOperation?.state === 'Succeeded');
    const counts = w.sim.reporter.counts;
    process.stderr.write(`unreliable external controller: ${COUNT} VMs Running in ${convergedS.toFixed(1)} s; reports ${JSON.stringify(counts)}; ${JSON.stringify(w.sim.stats.totals())}\n`);
    expect(counts.duplicated).toBeGreaterThan(0);
    expect(counts.reordered).toBeGreaterThan(0);
    expect(w.sim.stats.totals().failures).toBeGreaterThan(0);
    const uids = await Promise.all(names.map(async (n) => (await w.getVm(n)).metadata.uid as string));
    for (const uid of uids) expect(w.sim.stats.uid(uid).machinesCreated, `machines built for ${uid}`).toBe(1);
    expect(w.sim.simulation.machines.size).toBe(COUNT);
  });

  it('every VM is deleted, every machine removed, and no reservation is left', async () => {
    const uids = await Promise.all(names.map(async (n) => (await w.getVm(n)).metadata.uid as string));
    await Promise.all(names.map((n) => w.deleteVm(n)));
    await waitAll('gone', (vm) => vm === undefined);
    expect(w.sim.simulation.machines.size).toBe(0);
    for (const uid of uids) expect(w.sim.stats.uid(uid).machinesCreated).toBe(1);
    await waitUntil(async () => (await w.quota()).status?.used?.cpu === 0, 'quota usage back to zero');
    for (const host of ['h1', 'h2']) {
      await waitUntil(async () => (await w.host(host)).status?.virtualMachines === 0, `${host} to hold no VM`);
      expect(Number((await w.host(host)).status?.allocated?.cpu ?? 0)).toBe(0);
    }
  });
});

// An external controller that fails 30% of what it is asked — half of those as 503 answers,
// half as operations reported Failed — and VirtFlow still converges: every VM Running, then
// stopped, then deleted, and no uid ever gets a second machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait.js';
import { condition, startWorld, type World } from './lifecycle-harness.js';

const COUNT = 12;
const names = Array.from({ length: COUNT }, (_, i) => `flaky-${String(i + 1).padStart(2, '0')}`);

let w: World;

beforeAll(async () => {
  w = await startWorld({ latencyMs: { create: 20, boot: 20, power: 20, delete: 20 }, failureRate: 0.3, failureMode: 'both', seed: 42 });
});

afterAll(async () => {
  await w?.stop();
});

async function waitAll(what: string, check: (vm: any) => boolean, timeoutMs = 45_000) {
  let pending: string[] = names;
  await waitUntil(async () => {
    const vms = await Promise.all(pending.map(async (n) => [n, await w.getVm(n)] as const));
    pending = vms.filter(([, vm]) => !vm || !check(vm)).map(([n]) => n);
    return pending.length === 0;
  }, `every VM ${what}`, timeoutMs).catch(async (err) => {
    const sample = await w.getVm(pending[0]!);
    throw new Error(`${(err as Error).message}; not yet: ${pending.join(', ')}; ${pending[0]}: ${JSON.stringify(sample?.status)}`);
  });
}

describe('with 30% of requests failing', () => {
  it('every VM still converges to Running, with exactly one machine per uid', async () => {
    await Promise.all(names.map((n) => w.createVm(n)));
    await waitAll('Running and Ready', (vm) => vm.status?.phase === 'Running' && condition(vm, 'Ready')?.status === 'True');
    const uids = await Promise.all(names.map(async (n) => (await w.getVm(n)).metadata.uid as string));
    for (const uid of uids) expect(w.sim.stats.uid(uid).machinesCreated, `machines built for ${uid}`).toBe(1);
    const totals = w.sim.stats.totals();
    // The failures were real, and repeated requests were answered without building again.
    expect(totals.failures).toBeGreaterThanOrEqual(3);
    expect(totals.creates).toBeGreaterThan(COUNT);
    expect(w.sim.simulation.machines.size).toBe(COUNT);

    // Both kinds of failure were reported on the VMs that met them.
    const reasons = new Set((await Promise.all(names.map((n) => w.events(n)))).flat().map((e: any) => e.reason));
    expect(reasons.has('CreateFailed') || reasons.has('PowerFailed'), [...reasons].join()).toBe(true);
    expect(reasons.has('ProviderRejected'), [...reasons].join()).toBe(true);
  });

  it('every VM stops when asked to, despite the failures', async () => {
    await Promise.all(names.map((n) => w.patchVm(n, { spec: { runStrategy: 'Halted' } })));
    await waitAll('Stopped', (vm) => vm.status?.phase === 'Stopped' && vm.status?.observedGeneration === vm.metadata.generation);
    for (const m of w.sim.simulation.machines.values()) expect(m.powerState).toBe('Off');
  });

  it('every VM is deleted, every machine removed, and the quota is back to zero', async () => {
    const uids = await Promise.all(names.map(async (n) => (await w.getVm(n)).metadata.uid as string));
    await Promise.all(names.map((n) => w.deleteVm(n)));
    await waitUntil(async () => (await Promise.all(names.map((n) => w.getVm(n)))).every((vm) => vm === undefined), 'every VM gone', 45_000);
    expect(w.sim.simulation.machines.size).toBe(0);
    for (const uid of uids) expect(w.sim.stats.uid(uid).machinesCreated).toBe(1);
    await waitUntil(async () => (await w.quota()).status?.used?.cpu === 0, 'quota usage back to zero');
  });
});

// Drain of a host in Maintenance, through the real server, database, controllers and the
// simulated external controller over HTTP: VMs moved by live migration (a simulator that can)
// or re-created (one that cannot), a tenant's disruption budget, the eviction annotation,
// and no room elsewhere. Reservations are recomputed from every VM version the watch
// delivers, so no host or quota is seen over its limit at any moment of the moves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDrain, runUncordon } from '../../src/cli/drain.js';
import { openWatch, type WatchStream } from '../support/api.js';
import { waitUntil } from '../support/wait.js';
import { GROUP, NS, ok, startWorld, vmPath, type World } from './lifecycle-harness.js';
import { waitForStatusesToMatch } from './placement-support.js';

const hostPath = (name: string) => `${GROUP}/baremetals/${name}`;
const mergePatch = { 'content-type': 'application/merge-patch+json' };
const CPU_PER_VM = 2;

async function patchHost(w: World, name: string, patch: unknown) {
  ok(await w.vf.call('PATCH', hostPath(name), patch, mergePatch), 200);
}

async function waitDrain(w: World, host: string, what: string, check: (drain: any) => boolean): Promise<any> {
  let last: any;
  try {
    await waitUntil(async () => check((last = (await w.host(host)).status?.drain) ?? {}), `${host}: ${what}`, 30_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nlast drain: ${JSON.stringify(last, null, 1)}`);
  }
  return last;
}

async function waitController(w: World, check: (xc: any) => boolean) {
  await waitUntil(async () => check(ok(await w.vf.call('GET', `${GROUP}/externalcontrollers/vm-service-tw`), 200)), 'the external controller probed');
}

/** Creates VMs while only h1 takes VMs, and waits until they run there. */
async function vmsOnH1(w: World, names: string[], extra: (name: string) => { spec?: any; metadata?: any } = () => ({})) {
  await patchHost(w, 'h2', { spec: { state: 'Offline' } });
  for (const name of names) await w.createVm(name, extra(name).spec ?? {}, extra(name).metadata ?? {});
  for (const name of names) await w.waitVm(name, 'Running on h1', (vm) => vm.status?.phase === 'Running' && vm.status?.placement?.baremetal === 'h1');
}

interface VmHistory {
  initial: any[];
  stream: WatchStream;
}

/** The VMs now, and a watch of every version after them. */
async function vmHistory(w: World): Promise<VmHistory> {
  const list = ok(await w.vf.call('GET', vmPath()), 200);
  const stream = await openWatch(w.vf as never, `${vmPath()}?watch=true&resourceVersion=${list.metadata.resourceVersion}`);
  return { initial: list.items, stream };
}

/**
 * Replays the VM versions a watch delivered, in order, and answers the most VMs seen moving
 * at once and every moment a host or the tenant held more than its limit (a VM being moved
 * holds its CPU on both hosts).
 */
function replay(from: VmHistory, hostCpu: number, quotaCpu: number): { maxMoving: number; peakTenant: number; over: string[] } {
  const { stream, initial } = from;
  const latest = new Map<string, any>(initial.map((vm) => [vm.metadata.name, vm]));
  let maxMoving = 0;
  let peakTenant = 0;
  const over: string[] = [];
  for (const e of stream.events) {
    if (e.type !== 'ADDED' && e.type !== 'MODIFIED' && e.type !== 'DELETED') continue;
    const name = e.object.metadata.name;
    if (e.type === 'DELETED') latest.delete(name);
    else latest.set(name, e.object);
    const perHost = new Map<string, number>();
    let tenant = 0;
    let moving = 0;
    for (const vm of latest.values()) {
      const at = vm.status?.placement?.baremetal;
      const m = vm.status?.migration;
      const to = m?.state === 'Running' && m.target?.baremetal !== at ? m.target?.baremetal : undefined;
      if (m?.state === 'Running') moving++;
      for (const h of [at, to]) {
        if (!h) continue;
        perHost.set(h, (perHost.get(h) ?? 0) + CPU_PER_VM);
        tenant += CPU_PER_VM;
      }
    }
    maxMoving = Math.max(maxMoving, moving);
    peakTenant = Math.max(peakTenant, tenant);
    for (const [h, cpu] of perHost) if (cpu > hostCpu) over.push(`${h}: ${cpu} > ${hostCpu} cores at rv ${e.object.metadata.resourceVersion}`);
    if (tenant > quotaCpu) over.push(`tenant: ${tenant} > ${quotaCpu} cores at rv ${e.object.metadata.resourceVersion}`);
  }
  return { maxMoving, peakTenant, over };
}

describe('drain with an external controller that can migrate', () => {
  let w: World;
  const hostCpu = 8;
  // Room for 3 moves at once (8 reserved + 3 x 2 in flight): only the budget stops the third.
  const quotaCpu = 16;
  beforeAll(async () => {
    w = await startWorld({ hostCpu, quotaCpu, latencyMs: { migrate: 600 } });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('moves every VM it may by live migration, at most the tenant budget at once, within every limit, and leaves the forbidden one', async () => {
    ok(await w.vf.call('PATCH', `${GROUP}/tenants/${NS}`, { spec: { disruptionBudget: { maxUnavailable: 2 } } }, mergePatch), 200);
    const names = ['a-1', 'a-2', 'a-3', 'keep'];
    await vmsOnH1(w, names, (n) => (n === 'keep' ? { metadata: { annotations: { 'virtflow.io/evict': 'false' } } } : {}));
    await waitController(w, (xc) => (xc.status?.capabilities ?? []).includes('migrate'));
    await patchHost(w, 'h2', { spec: { state: 'Available' } });

    const history = await vmHistory(w);
    const stream = history.stream;
    try {
      // The host would let 3 move at once; the tenant's budget is 2.
      const lines: string[] = [];
      const code = await runDrain(['h1', '--kubeconfig', w.vf.kubeconfig, '--max-unavailable', '3', '--wait', '--timeout', '60'], { write: (t) => lines.push(t) }, { pollMs: 100 });
      expect(code, lines.join('')).toBe(1);
      expect(lines.join('')).toContain('default/keep: EvictionForbidden'.replace('default', NS));

      const drain = await waitDrain(w, 'h1', 'Blocked by the one VM that may not move', (d) => d.phase === 'Blocked');
      expect({ moved: drain.moved, remaining: drain.remaining, blocked: drain.blocked, moving: drain.moving }).toEqual({ moved: 3, remaining: 1, blocked: 1, moving: 0 });
      expect(drain.leftovers).toEqual([expect.objectContaining({ namespace: NS, name: 'keep', reason: 'EvictionForbidden' })]);
      expect(drain.message).toContain('1 EvictionForbidden');
      // `kubectl get bm -o wide` shows the drain's phase and what is left.
      const table = ok(await w.vf.call('GET', `${hostPath('h1')}`, undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' }), 200);
      const cells = Object.fromEntries(table.columnDefinitions.map((c: any, i: number) => [c.name, table.rows[0].cells[i]]));
      expect([cells.Drain, cells.Left]).toEqual(['Blocked', 1]);
      await w.waitEvent('h1', 'DrainBlocked', '');

      for (const name of ['a-1', 'a-2', 'a-3']) {
        const vm = await w.waitVm(name, 'Running on h2 after the move', (v) => v.status?.placement?.baremetal === 'h2' && v.status?.phase === 'Running');
        expect(vm.status.migration).toMatchObject({ state: 'Succeeded', method: 'Migrate', source: { baremetal: 'h1' }, target: { baremetal: 'h2' } });
        // Live migration: the one machine moved; nothing was built twice.
        const stats = w.sim.stats.uid(vm.metadata.uid);
        expect(stats.migrates).toBeGreaterThanOrEqual(1);
        expect(stats.machinesCreated).toBe(1);
        expect(stats.deletes).toBe(0);
        expect(w.sim.simulation.machines.get(vm.metadata.uid)?.placement.baremetal).toBe('h2');
        await w.waitEvent(name, 'Migrated');
        // The operation's end is reported back (the callback under the controller's own identity).
        await w.waitVm(name, 'its Migrate reported Succeeded', (v) => v.status?.lastOperation?.type === 'Migrate' && v.status.lastOperation.state === 'Succeeded');
      }
      expect((await w.getVm('keep')).status.placement.baremetal).toBe('h1');

      const seen = replay(history, hostCpu, quotaCpu);
      expect(seen.over).toEqual([]);
      expect(seen.maxMoving).toBe(2);
      // 4 VMs of 2 cores, 2 of them held on both hosts at once.
      expect(seen.peakTenant).toBe(12);
    } finally {
      await stream.close();
    }

    // Afterwards the hosts and the quota count each VM once, where it runs.
    const world = await waitForStatusesToMatch(w.vf);
    const h1 = world.hosts.find((h) => h.metadata.name === 'h1');
    const h2 = world.hosts.find((h) => h.metadata.name === 'h2');
    expect([h1.status.virtualMachines, h1.status.allocated.cpu, h2.status.virtualMachines, h2.status.allocated.cpu]).toEqual([1, 2, 3, 6]);
    expect((await w.quota()).status.used.cpu).toBe(8);

    // Uncordon: the drain's status goes, and h1 takes VMs again.
    const out: string[] = [];
    expect(await runUncordon(['h1', '--kubeconfig', w.vf.kubeconfig], { write: (t) => out.push(t) })).toBe(0);
    await waitUntil(async () => (await w.host('h1')).status?.drain === undefined, 'h1 drain status cleared');
    expect((await w.host('h1')).spec.state).toBe('Available');
    await w.waitEvent('h1', 'DrainStopped', '');
  });

  it('holds both reservations while a VM moves, so a tight quota lets one move at a time', async () => {
    // 8 cores used of 10: a move needs 2 more until it ends, so a second one must wait.
    const tight = 10;
    ok(await w.vf.call('PATCH', `${GROUP}/tenantquotas/acme-general`, { spec: { limits: { cpu: tight } } }, mergePatch), 200);
    const history = await vmHistory(w);
    const stream = history.stream;
    try {
      const lines: string[] = [];
      const code = await runDrain(['h2', '--kubeconfig', w.vf.kubeconfig, '--max-unavailable', '3', '--wait', '--timeout', '60'], { write: (t) => lines.push(t) }, { pollMs: 100 });
      expect(code, lines.join('')).toBe(0);
      expect(lines.join('')).toContain('Drained: No VM is left on h2; 3 moved.');
      expect((await w.waitEvent('h2', 'Drained', '')).message).toBe('No VM is left on h2; 3 moved.');
      const seen = replay(history, hostCpu, tight);
      expect(seen.over).toEqual([]);
      expect(seen.maxMoving).toBe(1);
      expect(seen.peakTenant).toBe(tight);
    } finally {
      await stream.close();
    }
    const world = await waitForStatusesToMatch(w.vf);
    expect(world.hosts.map((h) => [h.metadata.name, h.status.virtualMachines, h.status.allocated.cpu]).sort()).toEqual([['h1', 4, 8], ['h2', 0, 0]]);
    expect((await w.quota()).status.used.cpu).toBe(8);
  });
  it('moves none of a tenant whose budget is 0, and a VM deleted mid-move gives back both reservations', async () => {
    // All four VMs are on h1 again (the test above drained h2 onto it).
    ok(await w.vf.call('PATCH', `${GROUP}/tenants/${NS}`, { spec: { disruptionBudget: { maxUnavailable: 0 } } }, mergePatch), 200);
    ok(await w.vf.call('PATCH', `${GROUP}/tenantquotas/acme-general`, { spec: { limits: { cpu: quotaCpu } } }, mergePatch), 200);
    expect(await runUncordon(['h2', '--kubeconfig', w.vf.kubeconfig], { write: () => {} })).toBe(0);
    await patchHost(w, 'h1', { spec: { state: 'Maintenance' } });
    const blocked = await waitDrain(w, 'h1', 'Blocked by the budget', (d) => d.phase === 'Blocked' && d.remaining === 4);
    expect(blocked.message).toBe('4 VM(s) left on h1, 0 moving: 3 DisruptionBudget, 1 EvictionForbidden.');

    // The simulator's clock is held, so a-1's live migration stays Running until it is deleted
    // (else the move may end, and the next one start, before the test looks).
    w.clock.hold();
    ok(await w.vf.call('PATCH', `${GROUP}/tenants/${NS}`, { spec: { disruptionBudget: { maxUnavailable: 1 } } }, mergePatch), 200);
    const moving = await w.waitVm('a-1', 'moving', (v) => v.status?.migration?.state === 'Running' && v.status.migration.startedAt >= blocked.startedAt);
    expect(moving.status.migration.target.baremetal).toBe('h2');
    // Both reservations: a-1 counts on h1 (with the other three) and on h2 until the move ends.
    await waitUntil(async () => (await w.host('h2')).status?.allocated?.cpu === CPU_PER_VM, 'h2 holds the moving VM');
    expect((await w.host('h1')).status.allocated.cpu).toBe(4 * CPU_PER_VM);
    await w.deleteVm('a-1');
    // Deleted mid-move: the machine is deleted once the move's operation ends (the simulator
    // refuses a delete meanwhile), and until it is gone the VM keeps both reservations.
    await w.waitVm('a-1', 'Terminating while it moves', (v) => v.metadata.deletionTimestamp !== undefined && v.status?.migration?.state === 'Running');
    expect((await w.host('h2')).status.allocated.cpu).toBe(CPU_PER_VM);
    w.clock.release();
    await w.waitGone('a-1');
    const world = await waitForStatusesToMatch(w.vf);
    expect(world.vms.every((v) => v.metadata.name !== 'a-1')).toBe(true);
    await waitDrain(w, 'h1', 'Blocked by the forbidden VM only', (d) => d.phase === 'Blocked' && d.remaining === 1);
    const settled = await waitForStatusesToMatch(w.vf);
    expect(settled.hosts.map((h) => [h.metadata.name, h.status.allocated.cpu]).sort()).toEqual([['h1', 2], ['h2', 4]]);
    expect((await w.quota()).status.used.cpu).toBe(6);
  });
});

describe('drain with an external controller that cannot migrate', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ hostCpu: 8, migrate: false });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('is Blocked with counted reasons while nothing fits, then re-creates (and says so) once room appears', async () => {
    await vmsOnH1(w, ['r-1', 'disk'], (n) => (n === 'disk' ? { spec: { dataDisk: 'Retain' } } : {}));
    await waitController(w, (xc) => xc.status?.reachable === true && !(xc.status?.capabilities ?? []).includes('migrate'));

    // h2 is Offline: nowhere to go.
    await patchHost(w, 'h1', { spec: { state: 'Maintenance' } });
    const blocked = await waitDrain(w, 'h1', 'Blocked', (d) => d.phase === 'Blocked');
    expect(blocked.message).toBe('2 VM(s) left on h1, 0 moving: 1 DataDiskRetained, 1 Unschedulable.');
    const unschedulable = blocked.leftovers.find((l: any) => l.name === 'r-1');
    expect(unschedulable.reason).toBe('Unschedulable');
    expect(unschedulable.message).toMatch(/^0\/2 hosts fit: /);
    expect(blocked.leftovers.find((l: any) => l.name === 'disk').reason).toBe('DataDiskRetained');
    const before = await w.getVm('r-1');
    expect(before.status.migration).toBeUndefined();
    await w.waitEvent('h1', 'DrainBlocked', '');

    // Room appears: the VM is deleted on h1 and built again on h2.
    await patchHost(w, 'h2', { spec: { state: 'Available' } });
    const vm = await w.waitVm('r-1', 'Running on h2 after the re-create', (v) => v.status?.placement?.baremetal === 'h2' && v.status?.phase === 'Running' && v.status?.migration?.state === 'Succeeded');
    expect(vm.status.migration).toMatchObject({ method: 'Recreate', source: { baremetal: 'h1' }, target: { baremetal: 'h2' } });
    const stats = w.sim.stats.uid(vm.metadata.uid);
    expect(stats.migrates).toBe(0);
    expect(stats.machinesCreated).toBe(2);
    expect(w.sim.simulation.machines.get(vm.metadata.uid)?.placement.baremetal).toBe('h2');
    const said = await w.waitEvent('r-1', 'Recreating');
    expect(said.type).toBe('Warning');
    expect(said.message).toContain('cannot migrate');
    await w.waitEvent('r-1', 'Recreated');

    const after = await waitDrain(w, 'h1', 'Blocked by the retained disk only', (d) => d.phase === 'Blocked' && d.remaining === 1);
    expect(after).toMatchObject({ moved: 1, blocked: 1, message: '1 VM(s) left on h1, 0 moving: 1 DataDiskRetained.' });
    expect((await w.getVm('disk')).status.placement.baremetal).toBe('h1');

    const world = await waitForStatusesToMatch(w.vf);
    expect(world.hosts.map((h) => [h.metadata.name, h.status.allocated.cpu]).sort()).toEqual([['h1', 2], ['h2', 2]]);
    expect((await w.quota()).status.used.cpu).toBe(4);
  });
});

describe('drain through an external controller that fails now and then', () => {
  let w: World;
  beforeAll(async () => {
    // Injected failures: operations reported Failed and requests answered 503, on every kind.
    w = await startWorld({ hostCpu: 8, failureRate: 0.35, failureMode: 'both', seed: 3, latencyMs: { migrate: 50 } });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('still moves every VM by live migration, each machine built once', async () => {
    await vmsOnH1(w, ['f-1', 'f-2']);
    await waitController(w, (xc) => (xc.status?.capabilities ?? []).includes('migrate'));
    await patchHost(w, 'h2', { spec: { state: 'Available' } });
    await patchHost(w, 'h1', { spec: { state: 'Maintenance' } });
    await waitDrain(w, 'h1', 'Drained', (d) => d.phase === 'Drained');
    let failures = 0;
    for (const name of ['f-1', 'f-2']) {
      const vm = await w.waitVm(name, 'Running on h2', (v) => v.status?.placement?.baremetal === 'h2' && v.status?.phase === 'Running');
      expect(vm.status.migration).toMatchObject({ state: 'Succeeded', method: 'Migrate' });
      const stats = w.sim.stats.uid(vm.metadata.uid);
      expect(stats.machinesCreated).toBe(1);
      failures += stats.failures;
    }
    // The seed makes some requests fail; the drain converged through them.
    expect(failures).toBeGreaterThan(0);
    await waitForStatusesToMatch(w.vf);
  });
});

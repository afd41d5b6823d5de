// A controller process killed (SIGKILL: no graceful shutdown, no lease released, its assume
// cache lost) while VMs are being created and placed, then started again: it converges and
// no capacity or quota is booked twice, and no VM is placed twice.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/kubectl.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  baremetal,
  create,
  createAll,
  datacenter,
  eventsByObject,
  flavor,
  group,
  image,
  inParallel,
  list,
  namespace,
  overbookings,
  placedOn,
  quota,
  rack,
  readWorld,
  runControllers,
  scheduledCondition,
  tenant,
  vm,
  waitForStatusesToMatch,
  waitUntil,
} from './placement-support.js';

let vf: TestServer;
let child: ChildProcess | undefined;
let restarted: ReturnType<typeof runControllers> | undefined;

beforeAll(async () => {
  vf = await startTestServer();
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await restarted?.stop();
  await vf?.stop();
});

/** `virtflow controller` as its own process, as an operator runs it. */
function startControllerProcess(kubeconfig: string): { process: ChildProcess; output: () => string } {
  const proc = spawn(process.execPath, [path.join(repoRoot, 'bin/virtflow.js'), 'controller', '--kubeconfig', kubeconfig, '--no-leader-election', '--metrics-port', '0'], {
    cwd: repoRoot,
    env: { ...process.env, VIRTFLOW_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  return { process: proc, output: () => out };
}

const decided = (v: any) => placedOn(v) !== undefined || v.status?.phase === 'Unschedulable';

describe('a controller process killed mid-run', () => {
  it('converges after a restart without booking anything twice', async () => {
    // 8 hosts x 8 cores = 64 cores; two quotas of 40 cores: both the hosts and the quotas bind.
    await createAll(vf, [
      datacenter('dc-1', 'north'),
      rack('rack-1', 'dc-1'),
      rack('rack-2', 'dc-1'),
      group('general', { strategy: 'Binpack' }),
      ...Array.from({ length: 8 }, (_, i) => baremetal(`bm-${i}`, `rack-${1 + (i % 2)}`, 'general', { cpu: 8, memory: '32Gi', storage: '1Ti' })),
      flavor('small', 1, '2Gi', '10Gi'),
      image('ubuntu'),
      tenant('acme'),
      tenant('globex'),
      namespace('acme'),
      namespace('globex'),
      quota('acme-general', 'acme', 'general', { cpu: 40 }),
      quota('globex-general', 'globex', 'general', { cpu: 40 }),
    ]);
    const limits = { 'acme/general': { cpu: 40 }, 'globex/general': { cpu: 40 } };

    const first = startControllerProcess(vf.kubeconfig);
    child = first.process;
    // The VMs are created once it runs (it has written the hosts' status), so that it dies
    // while VMs are still being created and placed.
    await waitUntil(async () => (await list(vf, 'baremetals')).every((h) => h.status?.phase === 'Ready'), 'the controller process to write the hosts\' status', 45_000).catch((err) => {
      throw new Error(`${(err as Error).message}; the process printed: ${first.output()}`);
    });
    const vms = Array.from({ length: 160 }, (_, i) => {
      const ns = i % 2 === 0 ? 'acme' : 'globex';
      return vm(ns, `${ns}-${String(i).padStart(3, '0')}`, { specification: 'small', group: 'general' });
    });
    const creating = inParallel(vms, 16, (v) => create(vf, v));

    await waitUntil(async () => (await list(vf, 'virtualmachines')).filter((v) => placedOn(v)).length >= 10, 'the first controller process to place VMs', 45_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    child = undefined;
    const atKill = await readWorld(vf);
    expect(atKill.vms.filter(decided).length).toBeLessThan(160); // it really died mid-run
    expect(overbookings(atKill, limits)).toEqual([]);
    await creating;

    restarted = runControllers(vf);
    await waitUntil(async () => (await list(vf, 'virtualmachines')).filter(decided).length === 160, 'every VM to be placed or Unschedulable after the restart', 45_000);
    const world = await readWorld(vf);
    expect(overbookings(world, limits)).toEqual([]);
    const placed = world.vms.filter((v) => placedOn(v));
    // Quotas add up to more than the hosts hold, so the hosts end up exactly full.
    expect(placed).toHaveLength(64);
    for (const v of world.vms.filter((x) => !placedOn(x))) {
      expect(scheduledCondition(v).message).toMatch(/^0\/8 hosts fit: 8 (over tenant quota|Insufficient cpu)$/);
    }
    // Every VM placed at most once: at most one Scheduled Event, naming the host it is on.
    // A VM placed by the killed process may have lost its Event (it is written after the
    // placement, and the process died in between); a VM placed after the restart has one.
    const placedByFirst = new Set(atKill.vms.filter((v) => placedOn(v)).map((v) => v.metadata.name));
    const eventsOf = async () => new Map([...(await eventsByObject(vf, 'acme')), ...(await eventsByObject(vf, 'globex'))]);
    const scheduledOf = (events: Map<string, any[]>, v: any) => (events.get(v.metadata.name) ?? []).filter((e) => e.reason === 'Scheduled');
    await waitUntil(async () => {
      const events = await eventsOf();
      return placed.every((v) => placedByFirst.has(v.metadata.name) || scheduledOf(events, v).length > 0);
    }, 'a Scheduled Event on every VM placed after the restart');
    const events = await eventsOf();
    for (const v of world.vms) {
      const scheduled = scheduledOf(events, v).map((e) => ({ count: e.count, host: /^Placed on ([^ ]+) /.exec(e.message)?.[1] }));
      if (!placedOn(v)) expect(scheduled).toEqual([]);
      else if (placedByFirst.has(v.metadata.name) && scheduled.length === 0) continue;
      else expect({ vm: v.metadata.name, scheduled }).toEqual({ vm: v.metadata.name, scheduled: [{ count: 1, host: placedOn(v) }] });
    }
    await waitForStatusesToMatch(vf);
  });
});

// examples/lab/ applied with kubectl to the real server, with the real controllers and the
// simulated external controller: every VM is placed where the lab's rules allow and ends
// Running, and the hosts', groups' and quotas' figures agree with an accounting recomputed
// here from the VMs' placements.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/providers/simulator/index.js';
import { repoRoot } from '../support/kubectl.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  expectedAccounting,
  get,
  list,
  placedOn,
  qty,
  res,
  runControllers,
  scheduledCondition,
  waitForStatusesToMatch,
  waitUntil,
} from './placement-support.js';

const run = promisify(execFile);
const lab = path.join(repoRoot, 'examples/lab');
const Gi = 2 ** 30;
const Ti = 2 ** 40;

let vf: TestServer;
let simulator: SimulatorHandle;
let controllers: ReturnType<typeof runControllers>;

beforeAll(async () => {
  vf = await startTestServer();
  // As `virtflow up` runs it: https with the API server's certificate, and a token in the
  // Secret the lab's ExternalController names.
  const token = 'placement-lab-simulator-token';
  simulator = await startSimulator({ port: 0, tls: vf.tls, token, callback: { apiServer: vf.url, caCert: vf.caCert, token: vf.statusToken } });
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'virtflow-simulator-token' }, stringData: { token } };
  const created = await vf.call('POST', '/api/v1/namespaces/virtflow-system/secrets', secret);
  if (created.status !== 201) throw new Error(`cannot create the simulator's Secret: ${created.text}`);
  controllers = runControllers(vf, { providerRetryMs: 200, resyncMs: 1_000 });
});

afterAll(async () => {
  await controllers?.stop();
  await simulator?.stop();
  await vf?.stop();
});

async function kubectl(args: string[], input?: string): Promise<string> {
  const child = run('kubectl', ['--kubeconfig', vf.kubeconfig, ...args], { cwd: repoRoot, timeout: 60_000 });
  if (input !== undefined) {
    child.child.stdin!.end(input);
  }
  const { stdout } = await child;
  return stdout;
}

describe('examples/lab/ with the controllers running', () => {
  it('places every VM where the lab allows, runs it, and accounts hosts, groups and quotas from the VMs', async () => {
    // Every file as it is, except that the VM service points at this test's simulator
    // rather than at 127.0.0.1:7480, where another `virtflow up` may be listening.
    const files = ['00-namespaces', '01-datacenter', '02-baremetals', '03-tenants', '04-catalog', '05-workloads', '06-maintainers'];
    await kubectl(['apply', ...files.flatMap((f) => ['-f', path.join(lab, `${f}.yaml`)])]);
    const services = await readFile(path.join(lab, '07-external-controllers.yaml'), 'utf8');
    expect(services).toContain('https://127.0.0.1:7480');
    await kubectl(['apply', '-f', '-'], services.replaceAll('https://127.0.0.1:7480', simulator.url));

    const labVms = ['acme/acme-web-1', 'acme/acme-web-2', 'globex/globex-db-1'];
    await waitUntil(
      async () => {
        const vms = await list(vf, 'virtualmachines');
        return labVms.every((k) => vms.find((v) => `${v.metadata.namespace}/${v.metadata.name}` === k)?.status?.phase === 'Running');
      },
      'every lab VM to be Running',
      45_000,
    );

    const world = await waitForStatusesToMatch(vf);
    const vms = new Map(world.vms.map((v) => [`${v.metadata.namespace}/${v.metadata.name}`, v]));
    expect([...vms.keys()].sort()).toEqual(labVms);
    const hosts = new Map(world.hosts.map((h) => [h.metadata.name, h]));
    const rackOf = (v: any) => hosts.get(placedOn(v))?.spec.rack;

    // Placement follows the lab's rules.
    const web1 = vms.get('acme/acme-web-1')!;
    const web2 = vms.get('acme/acme-web-2')!;
    const db = vms.get('globex/globex-db-1')!;
    expect(placedOn(db)).toBe('bm-tw-001'); // pinned
    for (const web of [web1, web2]) {
      expect(hosts.get(placedOn(web))?.spec.group).toBe('tw-general');
      expect(placedOn(web)).not.toBe('bm-tw-004'); // in maintenance
      expect(scheduledCondition(web)).toMatchObject({ status: 'True', reason: 'Scheduled' });
      expect(web.status.placement).toMatchObject({ region: 'tw', datacenter: 'tw-hsinchu-1', rack: rackOf(web) });
    }
    expect(rackOf(web1)).not.toBe(rackOf(web2)); // spreadAcross Rack with one spreadKey
    expect(res(db.status.resources)).toEqual({ cpu: 16, memory: 64 * Gi, storage: 500 * Gi, gpu: 0 });

    // Host phases and locations.
    expect(world.hosts.map((h) => [h.metadata.name, h.status?.phase]).sort()).toEqual([
      ['bm-tw-001', 'Ready'],
      ['bm-tw-002', 'Ready'],
      ['bm-tw-003', 'Ready'],
      ['bm-tw-004', 'Maintenance'],
      ['bm-tw-005', 'Ready'],
      ['bm-tw-006', 'Ready'],
    ]);
    expect(hosts.get('bm-tw-003')!.status.location).toMatchObject({ region: 'tw', datacenter: 'tw-hsinchu-1', room: '3F-A', rack: 'tw-hsinchu-1-r02' });

    // Group totals: capacity of its Ready hosts, x overcommit, and what its VMs take.
    const general = world.groups.find((g) => g.metadata.name === 'tw-general')!;
    expect(general.status.baremetals).toBe(4);
    expect(res(general.status.capacity)).toEqual({ cpu: 192, memory: 1536 * Gi, storage: 24 * Ti, gpu: 0 });
    expect(res(general.status.allocatable)).toEqual({ cpu: 768, memory: 1536 * Gi, storage: 24 * Ti, gpu: 0 });
    expect(res(general.status.allocated)).toEqual({ cpu: 24, memory: 96 * Gi, storage: 700 * Gi, gpu: 0 });
    const gpu = world.groups.find((g) => g.metadata.name === 'tw-gpu')!;
    expect(res(gpu.status.allocated)).toEqual({ cpu: 0, memory: 0, storage: 0, gpu: 0 });

    // Percent limits resolve against the group's allocatable.
    const quotas = new Map(world.quotas.map((q) => [q.metadata.name, q.status]));
    expect(qty(quotas.get('acme-tw-general').limits.cpu)).toBe(Math.floor(768 * 0.4));
    // Printed as quantities a person reads (30% of 1536Gi is 460.8Gi), not byte counts.
    expect(quotas.get('globex-tw-general').limits.memory).toBe('461Gi');
    expect(quotas.get('globex-tw-general').limits.storage).toBe(`${Math.round(24 * 1024 * 0.3)}Gi`);
    const e = expectedAccounting(world);
    expect(e.used.get('acme/tw-general')).toEqual({ cpu: 8, memory: 32 * Gi, storage: 200 * Gi, gpu: 0 });
    expect(e.used.get('globex/tw-general')).toEqual({ cpu: 16, memory: 64 * Gi, storage: 500 * Gi, gpu: 0 });
    expect(quotas.get('globex-tw-gpu').used).toMatchObject({ cpu: 0 });

    // Each placement was recorded as an Event on its VM.
    for (const v of [web1, web2, db]) {
      const events = await list(vf, 'events', v.metadata.namespace);
      const scheduled = events.find((ev) => ev.involvedObject?.name === v.metadata.name && ev.reason === 'Scheduled');
      expect(scheduled?.message).toContain(`Placed on ${placedOn(v)}`);
    }
    const tenant = await get(vf, 'tenants', 'acme');
    expect(tenant.status).toMatchObject({ phase: 'Active', namespace: 'acme', virtualMachines: 2 });
  });
});

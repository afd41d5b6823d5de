// `virtflow up` killed (SIGKILL, a crash) and started again on the same home and database:
// its simulator finds the machines it built in $VIRTFLOW_HOME/simulator/state.json, so the
// controllers, reconciling every VM on start, find each machine where it was. Before, every
// VM was rebuilt as drift, the dataDisk: Retain VM got a fresh disk, and external ids were
// handed out again.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, startVirtflow, type VirtflowProcess } from '../support/kubectl.js';

const LAB_VMS = ['acme/acme-web-1', 'acme/acme-web-2', 'globex/globex-db-1'];
const files = ['00-namespaces', '01-datacenter', '02-baremetals', '03-tenants', '04-catalog', '05-workloads'];
let vf: VirtflowProcess | undefined;
let home: string | undefined;

afterAll(async () => {
  await vf?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

async function vms(p: VirtflowProcess): Promise<Map<string, any>> {
  const res = await p.kubectl(['get', 'vm', '-A', '-o', 'json']);
  expect(res.code, res.stderr).toBe(0);
  return new Map(JSON.parse(res.stdout).items.map((vm: any) => [`${vm.metadata.namespace}/${vm.metadata.name}`, vm]));
}

const ready = (vm: any) => vm?.status?.phase === 'Running' && vm.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

/** The simulator's counters, asked as VirtFlow asks it: https with VirtFlow's CA and the token. */
async function simulatorStats(p: VirtflowProcess): Promise<any> {
  const endpoint = (await p.kubectl(['get', 'externalcontroller', 'virtflow-simulator', '-o', 'jsonpath={.spec.endpoint}'])).stdout;
  const ca = await readFile(path.join(p.home, 'pki', 'ca.crt'), 'utf8');
  const token = (await readFile(path.join(p.home, 'simulator-token'), 'utf8')).trim();
  const dispatcher = new Agent({ connect: { ca } });
  try {
    const res = await request(`${endpoint}/v1/_stats`, { dispatcher, headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    return await res.body.json();
  } finally {
    await dispatcher.close();
  }
}

describe('virtflow up after a crash', () => {
  it('rebuilds no VM: same external ids and addresses, no drift, nothing created', async () => {
    vf = await startVirtflow({ keepHome: true });
    home = vf.home;
    const applied = await vf.kubectl(['apply', ...files.flatMap((f) => ['-f', `examples/lab/${f}.yaml`])]);
    expect(applied.code, applied.stderr).toBe(0);
    const before = await eventually('every lab VM Ready', async () => {
      const seen = await vms(vf!);
      return LAB_VMS.every((k) => ready(seen.get(k))) ? seen : undefined;
    }, 90_000);
    // The state is written a moment after each change: wait until it holds every machine.
    await eventually('the simulator state on disk', async () => {
      const text = await readFile(path.join(home!, 'simulator', 'state.json'), 'utf8').catch(() => '');
      return text && JSON.parse(text).machines.length === LAB_VMS.length ? true : undefined;
    }, 10_000);
    const { databaseUrl } = vf;
    await vf.stop('SIGKILL');

    vf = await startVirtflow({ home, databaseUrl, keepHome: true });
    const uids = LAB_VMS.map((k) => before.get(k).metadata.uid as string);
    // The controllers reconcile every VM on start and again a resync (30 s) later: a machine
    // the simulator had forgotten would have been re-created by then.
    const stats = await eventually('every VM observed twice after the restart', async () => {
      const s = await simulatorStats(vf!);
      return uids.every((uid) => (s.byUid[uid]?.observes ?? 0) >= 2) ? s : undefined;
    }, 120_000);
    expect(stats.totals.machinesCreated).toBe(0);
    expect(stats.machines).toBe(LAB_VMS.length);
    const after = await vms(vf);
    for (const key of LAB_VMS) {
      const [was, is] = [before.get(key), after.get(key)];
      expect(ready(is), `${key}: ${JSON.stringify(is.status)}`).toBe(true);
      expect(is.status.externalId).toBe(was.status.externalId);
      expect(is.status.addresses).toEqual(was.status.addresses);
    }
    const drift = await vf.kubectl(['get', 'events', '-A', '--field-selector', 'reason=ExternalDrift', '-o', 'name']);
    expect(drift.stdout.trim()).toBe('');
  }, 300_000);
});

// `virtflow up` stopped and started again on the same home: its simulator remembers the
// machines it built (its state file), so VirtFlow finds every VM's machine where it was and
// rebuilds nothing. Before, a restart answered "no machine" for every VM: each was rebuilt as
// drift, the dataDisk: Retain VM got a fresh disk, and external ids were handed out again.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUp, type Up } from '../../src/cli/up.js';
import { createTestDatabase } from '../support/database.js';
import { repoRoot } from '../support/kubectl.js';
import { waitUntil } from '../support/wait.js';

const run = promisify(execFile);
const lab = path.join(repoRoot, 'examples/lab');
const LAB_VMS = ['acme/acme-web-1', 'acme/acme-web-2', 'globex/globex-db-1'];

let home: string;
let databaseUrl: string;
let up: Up | undefined;

const start = () => startUp({ home, port: 0, databaseUrl, simulatorPort: 0, vmResyncMs: 300 });

async function kubectl(args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', ['--kubeconfig', up!.standalone.kubeconfig, ...args], { cwd: repoRoot, timeout: 60_000 });
  return stdout;
}

async function vms(): Promise<Map<string, any>> {
  const list = JSON.parse(await kubectl(['get', 'vm', '-A', '-o', 'json']));
  return new Map(list.items.map((vm: any) => [`${vm.metadata.namespace}/${vm.metadata.name}`, vm]));
}

const isRunning = (vm: any) => vm?.status?.phase === 'Running' && vm.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'virtflow-up-restart-'));
  databaseUrl = await createTestDatabase();
});

afterAll(async () => {
  await up?.stop();
  await rm(home, { recursive: true, force: true });
});

describe('virtflow up, restarted', () => {
  it('finds every VM it built where it was: nothing re-created, ids and disks unchanged', async () => {
    up = await start();
    expect(up.simulator!.url).toMatch(/^https:/);
    expect(existsSync(path.join(home, 'status-writer.kubeconfig'))).toBe(true);
    // The lab without its own ExternalController: up's simulator serves every region.
    const files = ['00-namespaces', '01-datacenter', '02-baremetals', '03-tenants', '04-catalog', '05-workloads'];
    await kubectl(['apply', ...files.flatMap((f) => ['-f', path.join(lab, `${f}.yaml`)])]);
    await waitUntil(async () => {
      const seen = await vms();
      return LAB_VMS.every((k) => isRunning(seen.get(k)));
    }, 'every lab VM Running', 60_000);
    const before = await vms();
    const machinesBefore = new Map([...up.simulator!.simulation.machines].map(([uid, m]) => [uid, { ...m }]));
    expect(machinesBefore.size).toBe(LAB_VMS.length);
    await up.stop();
    up = undefined;

    up = await start();
    const sim = up.simulator!;
    // Several resyncs of every VM against the restarted simulator.
    await waitUntil(() => LAB_VMS.every((_, i) => sim.stats.uid([...machinesBefore.keys()][i]!).observes >= 3), 'three observes of every VM', 60_000);
    const after = await vms();
    for (const key of LAB_VMS) {
      const [was, is] = [before.get(key), after.get(key)];
      expect(isRunning(is), `${key}: ${JSON.stringify(is.status)}`).toBe(true);
      expect(is.metadata.uid).toBe(was.metadata.uid);
      expect(is.status.externalId).toBe(was.status.externalId);
      expect(is.status.addresses).toEqual(was.status.addresses);
      expect(sim.stats.uid(is.metadata.uid)).toMatchObject({ creates: 0, machinesCreated: 0 });
    }
    // The same machines, disks included (globex-db-1 has dataDisk: Retain).
    expect(new Map([...sim.simulation.machines].map(([uid, m]) => [uid, { ...m }]))).toEqual(machinesBefore);
    const ids = [...after.values()].map((vm) => vm.status.externalId);
    expect(new Set(ids).size).toBe(ids.length);
    const drift = JSON.parse(await kubectl(['get', 'events', '-A', '--field-selector', 'reason=ExternalDrift', '-o', 'json']));
    expect(drift.items).toEqual([]);
  });
});

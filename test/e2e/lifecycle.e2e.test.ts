// The VM lifecycle end to end: the real kubectl against the real `virtflow up` process (its
// controllers and its simulated external controller in the same process). Apply the lab,
// wait for every VM to be Ready, stop one, restart one, delete one, and after each step
// read the accounting on hosts and quotas back through kubectl's jsonpath output.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startVirtflow, type VirtflowProcess } from '../support/kubectl.js';
import { expectOk, lines } from './support.js';

let vf: VirtflowProcess;

beforeAll(async () => {
  vf = await startVirtflow();
});

afterEach((context) => {
  // What the process said is the first thing to read when a step did not converge.
  if (context.task.result?.state === 'fail') process.stderr.write(`virtflow up output (last 4 KB):\n${vf?.output().slice(-4000)}\n`);
});

afterAll(async () => {
  await vf?.stop();
});

/** The VMs of examples/lab/05-workloads.yaml, as namespace/name. */
const LAB_VMS = ['acme/acme-web-1', 'acme/acme-web-2', 'globex/globex-db-1'];
/** Their flavors: c4m16-g2 for acme's, c16m64-g2 for globex's. */
const CPU: Record<string, number> = { 'acme/acme-web-1': 4, 'acme/acme-web-2': 4, 'globex/globex-db-1': 16 };
const MEMORY_GI: Record<string, number> = { 'acme/acme-web-1': 16, 'acme/acme-web-2': 16, 'globex/globex-db-1': 64 };
const tenantOf = (vm: string) => vm.split('/')[0]!;

async function jsonpath(args: string[], path: string): Promise<string> {
  return expectOk(await vf.kubectl(['get', ...args, '-o', `jsonpath=${path}`])).stdout;
}

/** name -> value, from a jsonpath printing "name=value" per line. */
async function table(args: string[], field: string): Promise<Record<string, string>> {
  const out = await jsonpath(args, `{range .items[*]}{.metadata.name}={${field}}{"\\n"}{end}`);
  return Object.fromEntries(lines(out).map((l) => l.split('=') as [string, string]));
}

async function placements(): Promise<Record<string, string>> {
  const out = await jsonpath(['vm', '-A'], '{range .items[*]}{.metadata.namespace}/{.metadata.name}={.status.placement.baremetal}{"\\n"}{end}');
  return Object.fromEntries(lines(out).map((l) => l.split('=') as [string, string]));
}

const gi = (quantity: string | undefined) => {
  if (!quantity || quantity === '0') return 0;
  const m = /^(\d+)(Gi|Ti)$/.exec(quantity);
  if (!m) throw new Error(`unexpected quantity ${quantity}`);
  return Number(m[1]) * (m[2] === 'Ti' ? 1024 : 1);
};

/**
 * What hosts and quotas must say for the VMs that hold a reservation: per host the sum of its
 * VMs' cpu and memory, per quota (tenant x tw-general) the sum of the tenant's.
 */
function expected(held: string[], placed: Record<string, string>) {
  const hosts: Record<string, { cpu: number; memoryGi: number; vms: number }> = {};
  const quotas: Record<string, { cpu: number; memoryGi: number }> = { 'acme-tw-general': { cpu: 0, memoryGi: 0 }, 'globex-tw-general': { cpu: 0, memoryGi: 0 }, 'globex-tw-gpu': { cpu: 0, memoryGi: 0 } };
  for (const bm of ['bm-tw-001', 'bm-tw-002', 'bm-tw-003', 'bm-tw-004', 'bm-tw-005', 'bm-tw-006']) hosts[bm] = { cpu: 0, memoryGi: 0, vms: 0 };
  for (const vm of held) {
    const h = hosts[placed[vm]!]!;
    h.cpu += CPU[vm]!;
    h.memoryGi += MEMORY_GI[vm]!;
    h.vms += 1;
    const q = quotas[`${tenantOf(vm)}-tw-general`]!;
    q.cpu += CPU[vm]!;
    q.memoryGi += MEMORY_GI[vm]!;
  }
  return { hosts, quotas };
}

/** Waits until hosts and quotas, read through kubectl, account for exactly `held`. */
async function expectAccounting(held: string[], placed: Record<string, string>) {
  const want = expected(held, placed);
  let seen: unknown;
  await eventually(
    `hosts and quotas accounting for ${held.join(', ') || 'nothing'}`,
    async () => {
      const [hostCpu, hostMemory, hostVms, quotaCpu, quotaMemory] = await Promise.all([
        table(['baremetals'], '.status.allocated.cpu'),
        table(['baremetals'], '.status.allocated.memory'),
        table(['baremetals'], '.status.virtualMachines'),
        table(['tenantquotas'], '.status.used.cpu'),
        table(['tenantquotas'], '.status.used.memory'),
      ]);
      const hosts = Object.fromEntries(
        Object.keys(want.hosts).map((h) => [h, { cpu: Number(hostCpu[h] || 0), memoryGi: gi(hostMemory[h]), vms: Number(hostVms[h] || 0) }]),
      );
      const quotas = Object.fromEntries(Object.keys(want.quotas).map((q) => [q, { cpu: Number(quotaCpu[q] || 0), memoryGi: gi(quotaMemory[q]) }]));
      seen = { hosts, quotas };
      return JSON.stringify(seen) === JSON.stringify(want) ? true : undefined;
    },
    30_000,
    200,
  ).catch((err) => {
    throw new Error(`${(err as Error).message}\nwant ${JSON.stringify(want)}\nseen ${JSON.stringify(seen)}`);
  });
}

const vmArgs = (vm: string) => ['vm', vm.split('/')[1]!, '-n', tenantOf(vm)];

describe('the VM lifecycle with kubectl', () => {
  let placed: Record<string, string>;

  it('kubectl apply -R -f examples/lab/, then kubectl wait --for=condition=Ready on every VM', async () => {
    // The lab's vm-service-tw expects `virtflow up`'s simulator on its default port 7480; this
    // one listens on a free port (several servers may run at once), so that ExternalController
    // is pointed at it once applied. VMs that tried 7480 meanwhile retry and converge.
    expectOk(await vf.kubectl(['apply', '-R', '-f', 'examples/lab/']));
    const simulator = await jsonpath(['externalcontroller', 'virtflow-simulator'], '{.spec.endpoint}');
    expect(simulator).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expectOk(await vf.kubectl(['patch', 'externalcontroller', 'vm-service-tw', '--type=merge', '-p', JSON.stringify({ spec: { endpoint: simulator } })]));
    const listed = lines(await jsonpath(['vm', '-A'], '{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}'));
    expect(listed.sort()).toEqual([...LAB_VMS].sort());
    for (const vm of LAB_VMS) {
      const waited = await vf.kubectl(['wait', '--for=condition=Ready', ...vmArgs(vm), '--timeout=90s'], { timeoutMs: 100_000 });
      expect(waited.code, `${vm} not Ready:\n${waited.stderr}\n${vf.output().slice(-2000)}`).toBe(0);
      expect(waited.stdout).toBe(`virtualmachine.virtflow.io/${vm.split('/')[1]} condition met\n`);
    }
    const phases = await jsonpath(['vm', '-A'], '{range .items[*]}{.status.phase}/{.status.powerState}/{.status.lastOperation.type}/{.status.lastOperation.state}{"\\n"}{end}');
    expect(lines(phases)).toEqual(['Running/On/Create/Succeeded', 'Running/On/Create/Succeeded', 'Running/On/Create/Succeeded']);

    placed = await placements();
    // The pinned VM is where it was pinned; acme's two web VMs are spread across the racks.
    expect(placed['globex/globex-db-1']).toBe('bm-tw-001');
    const rackOf = await table(['baremetals'], '.spec.rack');
    expect(rackOf[placed['acme/acme-web-1']!]).not.toBe(rackOf[placed['acme/acme-web-2']!]);
    await expectAccounting(LAB_VMS, placed);

    // The printer columns show the phase and the host.
    const table2 = expectOk(await vf.kubectl(['get', 'vm', '-n', 'acme'])).stdout;
    expect(table2).toMatch(new RegExp(`^acme-web-1\\s+Running\\s+${placed['acme/acme-web-1']}\\s`, 'm'));
  });

  it('kubectl patch runStrategy Halted stops a VM; its reservation is still held', async () => {
    const vm = 'acme/acme-web-2';
    expectOk(await vf.kubectl(['patch', ...vmArgs(vm), '--type=merge', '-p', '{"spec":{"runStrategy":"Halted"}}']));
    const waited = await vf.kubectl(['wait', '--for=jsonpath={.status.phase}=Stopped', ...vmArgs(vm), '--timeout=60s'], { timeoutMs: 70_000 });
    expect(waited.code, waited.stderr).toBe(0);
    expect(await jsonpath(vmArgs(vm), '{.status.powerState} {.status.conditions[?(@.type=="Ready")].status} {.status.lastOperation.message}')).toBe(
      'Off False shut down gracefully',
    );
    expect(await jsonpath(vmArgs(vm), '{.metadata.generation} {.status.observedGeneration}')).toBe('2 2');
    await expectAccounting(LAB_VMS, placed);
  });

  it('kubectl patch restartAt restarts a VM: status.restartedAt records it, and it is Ready again', async () => {
    const vm = 'acme/acme-web-1';
    const restartAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    expectOk(await vf.kubectl(['patch', ...vmArgs(vm), '--type=merge', '-p', JSON.stringify({ spec: { restartAt } })]));
    const waited = await vf.kubectl(['wait', `--for=jsonpath={.status.restartedAt}=${restartAt}`, ...vmArgs(vm), '--timeout=60s'], { timeoutMs: 70_000 });
    expect(waited.code, waited.stderr).toBe(0);
    expectOk(await vf.kubectl(['wait', '--for=condition=Ready', ...vmArgs(vm), '--timeout=60s'], { timeoutMs: 70_000 }));
    expect(await jsonpath(vmArgs(vm), '{.status.phase} {.status.lastOperation.type} {.status.lastOperation.message}')).toBe('Running Power restarted gracefully');
    const events = expectOk(await vf.kubectl(['get', 'events', '-n', 'acme', '--field-selector', 'involvedObject.name=acme-web-1', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}'])).stdout;
    expect(lines(events)).toEqual(expect.arrayContaining(['Restarting', 'Restarted']));
    await expectAccounting(LAB_VMS, placed);
  });

  it('kubectl delete removes a VM through its external controller and releases the host and the quota', async () => {
    const vm = 'globex/globex-db-1';
    const deleted = await vf.kubectl(['delete', ...vmArgs(vm), '--timeout=60s'], { timeoutMs: 70_000 });
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe('virtualmachine.virtflow.io "globex-db-1" deleted\n');
    const gone = await vf.kubectl(['get', ...vmArgs(vm)]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('NotFound');
    const remaining = LAB_VMS.filter((v) => v !== vm);
    await expectAccounting(remaining, placed);
    // The lab's globex-db-1 keeps its data disk (dataDisk: Retain), and the Event says where.
    const released = expectOk(
      await vf.kubectl(['get', 'events', '-n', 'globex', '--field-selector', 'involvedObject.name=globex-db-1,reason=Released', '-o', 'jsonpath={.items[*].message}']),
    ).stdout;
    expect(released).toMatch(/data disk disk-\d+ retained/);
    expect(released).toContain('Released the reservation on bm-tw-001 (16 cpu, 64Gi memory, 500Gi storage)');
  });
});

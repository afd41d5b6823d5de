// Deleting VMs through real HTTP: the finalizer holds the VM while the external controller
// removes the machine (deleting or retaining its data disk), and only then is the
// reservation released — the host's allocation and the tenant's quota usage drop. A VM whose
// external controller is gone stays until an operator says, with an annotation, to let it go.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait.js';
import { GROUP, condition, ok, startWorld, type World } from './lifecycle-harness.js';

let w: World;

beforeAll(async () => {
  w = await startWorld({ latencyMs: { create: 100, power: 100, delete: 150 } });
});

afterAll(async () => {
  await w?.stop();
});

const running = (vm: any) => vm.status?.phase === 'Running' && condition(vm, 'Ready')?.status === 'True';

/** What the accounting says: cpu allocated on the host, cpu used in the quota, VMs counted. */
async function accounting(host: string) {
  const h = await w.host(host);
  const q = await w.quota();
  return { hostCpu: h.status?.allocated?.cpu ?? 0, hostVms: h.status?.virtualMachines ?? 0, quotaCpu: q.status?.used?.cpu ?? 0, quotaVms: q.status?.virtualMachines ?? 0 };
}

async function waitAccounting(host: string, want: { hostCpu: number; quotaCpu: number }) {
  let last: unknown;
  await waitUntil(async () => {
    const a = await accounting(host);
    last = a;
    return a.hostCpu === want.hostCpu && a.quotaCpu === want.quotaCpu;
  }, `accounting ${JSON.stringify(want)} on ${host}`).catch((err) => {
    throw new Error(`${(err as Error).message}; last ${JSON.stringify(last)}`);
  });
}

async function runningVm(name: string, spec: Record<string, unknown> = {}) {
  await w.createVm(name, spec);
  return w.waitVm(name, 'Running', running);
}

describe('deleting a VM', () => {
  it('dataDisk Delete: Terminating while the machine is deleted, then the host and the quota are released', async () => {
    const vm = await runningVm('del-1');
    const uid = vm.metadata.uid;
    const host = vm.status.placement.baremetal;
    await waitAccounting(host, { hostCpu: 2, quotaCpu: 2 });

    w.clock.hold();
    await w.deleteVm('del-1');
    const terminating = await w.waitVm('del-1', 'Terminating with the delete running', (v) => v.status?.phase === 'Terminating' && v.status?.lastOperation?.type === 'Delete');
    expect(terminating.metadata.finalizers).toContain('virtflow.io/vm-protection');
    expect(terminating.status.lastOperation).toMatchObject({ state: 'Running' });
    expect(condition(terminating, 'Ready')).toMatchObject({ status: 'False', reason: 'Deprovisioning' });
    expect(condition(terminating, 'Ready').message).toContain('data disk Delete');
    // The reservation holds while the machine still exists.
    expect(w.sim.simulation.machines.has(uid)).toBe(true);
    expect(await accounting(host)).toMatchObject({ hostCpu: 2, quotaCpu: 2 });

    w.clock.release();
    await w.waitGone('del-1');
    expect(w.sim.simulation.machines.has(uid)).toBe(false);
    expect(w.sim.simulation.retainedDisks.has(uid)).toBe(false);
    expect(w.sim.stats.uid(uid)).toMatchObject({ machinesCreated: 1 });
    await waitAccounting(host, { hostCpu: 0, quotaCpu: 0 });
    const released = await w.waitEvent('del-1', 'Released');
    expect(released.message).toContain('deleted with its data disk');
    expect(released.message).toContain(`Released the reservation on ${host} (2 cpu, 4Gi memory, 20Gi storage)`);
  });

  it('dataDisk Retain: the machine goes, its data disk is kept and said where, and the reservation is released', async () => {
    const vm = await runningVm('keep-1', { dataDisk: 'Retain' });
    const uid = vm.metadata.uid;
    const host = vm.status.placement.baremetal;
    await waitAccounting(host, { hostCpu: 2, quotaCpu: 2 });
    const disk = w.sim.simulation.machines.get(uid)!.dataDisk;
    await w.deleteVm('keep-1');
    await w.waitGone('keep-1');
    expect(w.sim.simulation.machines.has(uid)).toBe(false);
    expect(w.sim.simulation.retainedDisks.get(uid)).toEqual(disk);
    const released = await w.waitEvent('keep-1', 'Released');
    expect(released.message).toContain(`data disk ${disk.id} retained`);
    await waitAccounting(host, { hostCpu: 0, quotaCpu: 0 });
  });

  it('a VM deleted while its create is still running waits for it, then deletes the one machine built', async () => {
    w.clock.hold();
    await w.createVm('early-1');
    const vm = await w.waitVm('early-1', 'the create running', (v) => v.status?.lastOperation?.type === 'Create' && v.status.lastOperation.state === 'Running');
    const uid = vm.metadata.uid;
    await w.deleteVm('early-1');
    const waiting = await w.waitVm('early-1', 'Terminating, waiting for the create', (v) => v.status?.phase === 'Terminating');
    expect(condition(waiting, 'Ready').message).toMatch(/Waiting for operation create-\S+ \(Create\)/);
    expect(w.sim.stats.uid(uid).deletes).toBe(0);
    w.clock.release();
    await w.waitGone('early-1');
    expect(w.sim.stats.uid(uid)).toMatchObject({ machinesCreated: 1 });
    expect(w.sim.simulation.machines.has(uid)).toBe(false);
    // The uid is deleted for good: a late, repeated create cannot build it again.
    const late = await fetch(`${w.sim.url}/v1/virtualmachines`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        uid,
        generation: 1,
        namespace: 'acme',
        name: 'early-1',
        placement: vm.status.placement,
        resources: vm.status.resources,
        image: { name: 'ubuntu', source: { url: 'https://images.example/ubuntu.qcow2' }, format: 'qcow2' },
        specification: 'small',
        callback: { statusPath: '/apis/virtflow.io/v1alpha1/namespaces/acme/virtualmachines/early-1/status' },
      }),
    });
    expect(late.status).toBe(410);
  });
});

describe('a VM whose external controller is gone', () => {
  it('is never released by accident: it stays Terminating, holding its reservation, and says how to let it go', async () => {
    const vm = await runningVm('orphan-1');
    const uid = vm.metadata.uid;
    const host = vm.status.placement.baremetal;
    await waitAccounting(host, { hostCpu: 2, quotaCpu: 2 });
    const xc = ok(await w.vf.call('GET', `${GROUP}/externalcontrollers/vm-service-tw`), 200);
    ok(await w.vf.call('DELETE', `${GROUP}/externalcontrollers/vm-service-tw`), 200);

    await w.deleteVm('orphan-1');
    const held = await w.waitVm('orphan-1', 'NoExternalController reported', (v) => condition(v, 'Ready')?.reason === 'NoExternalController');
    expect(held.status.phase).toBe('Terminating');
    expect(held.metadata.finalizers).toContain('virtflow.io/vm-protection');
    expect(condition(held, 'Ready').message).toContain('virtflow.io/skip-deprovision=true');
    const warning = await w.waitEvent('orphan-1', 'NoExternalController');
    expect(warning.type).toBe('Warning');
    expect(await accounting(host)).toMatchObject({ hostCpu: 2, quotaCpu: 2 });

    // Reconciled again and again (with back-off), and still held.
    const reconciles = await w.vmReconciles();
    await waitUntil(async () => (await w.vmReconciles()) >= reconciles + 3, 'three more reconciles');
    expect((await w.getVm('orphan-1'))?.metadata.finalizers).toContain('virtflow.io/vm-protection');
    expect(await accounting(host)).toMatchObject({ hostCpu: 2, quotaCpu: 2 });

    // The operator's decision, written down on the object.
    await w.patchVm('orphan-1', { metadata: { annotations: { 'virtflow.io/skip-deprovision': 'true' } } });
    await w.waitGone('orphan-1');
    const skipped = await w.waitEvent('orphan-1', 'DeprovisionSkipped');
    expect(skipped.type).toBe('Warning');
    expect(skipped.message).toContain(vm.status.externalId);
    await waitAccounting(host, { hostCpu: 0, quotaCpu: 0 });
    // Nothing was asked of any external controller: the machine is left where it was.
    expect(w.sim.stats.uid(uid).deletes).toBe(0);
    expect(w.sim.simulation.machines.has(uid)).toBe(true);

    // The controller comes back for whatever follows.
    ok(await w.vf.call('POST', `${GROUP}/externalcontrollers`, { apiVersion: xc.apiVersion, kind: xc.kind, metadata: { name: 'vm-service-tw' }, spec: xc.spec }), 201);
    await runningVm('after-1');
  });
});

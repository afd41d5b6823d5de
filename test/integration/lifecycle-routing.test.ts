// A VM stays with the ExternalController that holds its machine: a controller added later
// that routing would now prefer must never get a second create for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/providers/simulator/index.js';
import { GROUP, condition, ok, startWorld, type World } from './lifecycle-harness.js';

let w: World;
let other: SimulatorHandle;

beforeAll(async () => {
  w = await startWorld();
  other = await startSimulator({ port: 0, allowUnauthenticated: true });
});

afterAll(async () => {
  await other?.stop();
  await w?.stop();
});

const running = (vm: any) => vm.status?.phase === 'Running' && condition(vm, 'Ready')?.status === 'True';

describe('routing of a provisioned VM', () => {
  it('records the ExternalController before creating, and keeps using it when routing would choose another', async () => {
    const created = await w.createVm('stays-1');
    const vm = await w.waitVm('stays-1', 'Running', running);
    expect(vm.status.externalController).toBe('vm-service-tw');

    // Sorted first by name and naming the same region: routing alone would now pick it.
    ok(
      await w.vf.call('POST', `${GROUP}/externalcontrollers`, {
        apiVersion: 'virtflow.io/v1alpha1',
        kind: 'ExternalController',
        metadata: { name: 'aaa-vm-service-tw' },
        spec: { service: 'VirtualMachine', regions: ['tw'], endpoint: other.url, allowInsecureHttp: true },
      }),
      201,
    );
    // Make the VM reconcile several times against the new routing table.
    const before = await w.vmReconciles();
    await w.patchVm('stays-1', { metadata: { labels: { touched: 'yes' } } });
    await w.waitVm('stays-1', 'reconciled after the new controller appeared', () => true);
    const { waitUntil } = await import('../support/wait.js');
    await waitUntil(async () => (await w.vmReconciles()) >= before + 3, 'three more reconciles');

    const after = await w.getVm('stays-1');
    expect(after.status.externalController).toBe('vm-service-tw');
    expect(running(after)).toBe(true);
    expect(other.stats.uid(created.metadata.uid).creates).toBe(0);
    expect(w.sim.stats.uid(created.metadata.uid).machinesCreated).toBe(1);
  });
});

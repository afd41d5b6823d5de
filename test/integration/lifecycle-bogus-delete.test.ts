// A delete VirtFlow did not make: without the simulator's token it is refused and nothing
// changes; with it (a leaked token, an operator's mistake at the external controller's own
// console) the machine goes, and the VM comes back instead of staying Failed for good.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { condition, credentialsSecret, ok, startWorld, type World } from './lifecycle-harness.js';

const TOKEN = 'bogus-delete-test-token';
let w: World;

beforeAll(async () => {
  w = await startWorld({ token: TOKEN });
  ok(
    await w.vf.call('POST', `/api/v1/namespaces/${credentialsSecret.namespace}/secrets`, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: credentialsSecret.name },
      stringData: { token: TOKEN },
    }),
    201,
  );
});

afterAll(async () => {
  await w?.stop();
});

const running = (vm: any) => vm.status?.phase === 'Running' && condition(vm, 'Ready')?.status === 'True';
const remove = (uid: string, headers: Record<string, string>) =>
  fetch(`${w.sim.url}/v1/virtualmachines/${uid}?requestId=not-from-virtflow&dataDisk=Delete`, { method: 'DELETE', headers });

describe('a delete VirtFlow did not ask for', () => {
  it('is refused without the token, and with it the VM is built again and runs, never left Failed', async () => {
    const created = await w.createVm('victim-1');
    const uid = created.metadata.uid as string;
    const before = await w.waitVm('victim-1', 'Running', running);

    expect((await remove(uid, {})).status).toBe(401);
    expect((await remove(uid, { authorization: 'Bearer guessed' })).status).toBe(401);
    expect(w.sim.simulation.machines.has(uid)).toBe(true);

    expect((await remove(uid, { authorization: `Bearer ${TOKEN}` })).status).toBe(202);
    const event = await w.waitEvent('victim-1', 'DeletedExternally');
    expect(event.type).toBe('Warning');
    expect(event.message).toContain('by a request VirtFlow did not make');
    const after = await w.waitVm('victim-1', 'Running again', (vm) => running(vm) && vm.status.externalId !== before.status.externalId);
    expect(after.status.phase).toBe('Running');
    expect(w.sim.stats.uid(uid).machinesCreated).toBe(2);
    expect(w.sim.simulation.machines.get(uid)?.powerState).toBe('On');
  });
});

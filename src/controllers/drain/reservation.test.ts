import { describe, expect, it } from 'vitest';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import { hostAllocated, quotaUsage } from '../shared/accounting.js';
import { host, listersOf, placed, twoRackWorld } from '../testing/fixtures.js';
import { buildSnapshot, migrationKey, Placer } from '../virtualmachine/placer.js';
import { migrationTarget } from './reservation.js';

const Gi = 1024 ** 3;
const world = twoRackWorld();

/** A VM on bm1 with a move to bm2 in the given state. */
function moving(state: 'Running' | 'Succeeded', name = 'a'): VirtualMachine {
  const vm = placed('acme', name, 'bm1', 4, '8Gi');
  vm.status!.migration = { state, method: 'Migrate', source: { baremetal: 'bm1' }, target: { baremetal: 'bm2' } };
  return vm;
}

describe('the reservations of a VM being moved', () => {
  it('are on both hosts and twice in the quota while the move runs, once after', () => {
    const during = listersOf({ ...world, vms: [moving('Running')] });
    const snapshot = buildSnapshot(during);
    expect(snapshot.hosts.map((h) => [h.name, h.allocated.cpu])).toEqual([['bm1', 4], ['bm2', 4]]);
    expect(snapshot.quotas[0]!.used.cpu).toBe(8);
    expect([hostAllocated('bm1', during).allocated.cpu, hostAllocated('bm2', during).allocated.cpu]).toEqual([4, 4]);
    expect(quotaUsage(world.quotas[0]!, during).used.cpu).toBe(8);

    const after = listersOf({ ...world, vms: [moving('Succeeded')] });
    expect(buildSnapshot(after).hosts.map((h) => [h.name, h.allocated.cpu])).toEqual([['bm1', 4], ['bm2', 0]]);
    expect(quotaUsage(world.quotas[0]!, after).used.cpu).toBe(4);
  });

  it('is one reservation once the target is the placement (a re-create switched it)', () => {
    const vm = moving('Running');
    vm.status!.placement = { baremetal: 'bm2' };
    expect(migrationTarget(vm)).toBeUndefined();
    expect(buildSnapshot(listersOf({ ...world, vms: [vm] })).quotas[0]!.used.cpu).toBe(4);
  });

  it('keeps a move decided and not yet shown by the cache assumed, then counts it from the VM', () => {
    const a = placed('acme', 'a', 'bm1', 4, '8Gi');
    // bm1 is drained: the move can only go to bm2.
    const listers = listersOf({ ...world, hosts: [host('bm1', 'r1', 'general', 8, '64Gi', { state: 'Maintenance' }), world.hosts[1]!], vms: [a] });
    const placer = new Placer(listers);
    const decided = placer.place(migrationKey('acme/a'), { vm: migrationKey('acme/a'), tenant: 'acme', group: 'general', resources: { cpu: 4, memory: Gi, storage: Gi, gpu: 0 } });
    expect(decided.ok && decided.host).toBe('bm2');
    // 4 placed + 4 moving of 12: another 4 fit, 8 do not.
    const big = { vm: 'acme/b', tenant: 'acme', group: 'general', resources: { cpu: 8, memory: Gi, storage: Gi, gpu: 0 } };
    expect(placer.place('acme/b', big).ok).toBe(false);
    // The cache shows the move: the assumption goes, a rebuilt snapshot counts the VM twice.
    const shown = moving('Running');
    listers.vms.list = () => [shown];
    placer.observeVm('acme/a', shown, a);
    expect(placer.isAssumed(migrationKey('acme/a'))).toBeUndefined();
    placer.invalidate();
    expect(placer.place('acme/b', big).ok).toBe(false);
    expect(placer.place('acme/c', { ...big, vm: 'acme/c', resources: { ...big.resources, cpu: 4 } }).ok).toBe(true);
  });
});

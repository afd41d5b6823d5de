// While a VM is moved off a host (drain), it holds a reservation on both hosts: where it runs
// (status.placement) and where it goes (status.migration.target). Every count of what is
// reserved where (hosts, groups, quotas, the scheduler's snapshot) reads the second one here,
// so no host or quota can be promised the capacity the move needs.
import type { VirtualMachine } from '../../kinds/virtualmachine.js';

/** The host a VM being moved holds its second reservation on; undefined when not moving. */
export function migrationTarget(vm: VirtualMachine | undefined): string | undefined {
  const m = vm?.status?.migration;
  if (m?.state !== 'Running') return undefined;
  const target = m.target?.baremetal;
  return target && target !== vm?.status?.placement?.baremetal ? target : undefined;
}

/** Every host a VM holds a reservation on: its placement, and its move's target. */
export function reservedHosts(vm: VirtualMachine): string[] {
  const placed = vm.status?.placement?.baremetal;
  const target = migrationTarget(vm);
  return [...(placed ? [placed] : []), ...(target ? [target] : [])];
}

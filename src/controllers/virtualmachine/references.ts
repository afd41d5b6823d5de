// What a VM names that does not exist: before placement it waits for them; once placed it
// keeps running on what it was given, and ReferencesResolved says what went missing since.
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import { tenantOfNamespace } from '../shared/accounting.js';
import type { Cond } from '../shared/context.js';
import type { Listers } from '../shared/listers.js';

export function missingReferences(vm: VirtualMachine, listers: Listers): string[] {
  const missing: string[] = [];
  if (!listers.specifications.get(vm.spec.specification)) missing.push(`VirtualMachineSpecification "${vm.spec.specification}"`);
  if (!listers.images.get(vm.spec.image)) missing.push(`VirtualMachineImage "${vm.spec.image}"`);
  if (vm.spec.group && !listers.groups.get(vm.spec.group)) missing.push(`BaremetalGroup "${vm.spec.group}"`);
  if (vm.spec.baremetal && !listers.hosts.get(vm.spec.baremetal)) missing.push(`Baremetal "${vm.spec.baremetal}"`);
  if (vm.spec.cluster && !listers.clusters.get(`${vm.metadata.namespace}/${vm.spec.cluster}`)) missing.push(`K8sCluster "${vm.spec.cluster}"`);
  if (!tenantOfNamespace(vm.metadata.namespace!, listers)) missing.push(`Tenant owning namespace "${vm.metadata.namespace}"`);
  return missing;
}

/** ReferencesResolved of a placed VM: what it names and was placed with, and what went since. */
export function placedReferencesCondition(vm: VirtualMachine, listers: Listers): Cond {
  const missing = missingReferences(vm, listers);
  return missing.length === 0
    ? { type: 'ReferencesResolved', status: 'True', reason: 'Resolved', message: 'Every referenced object exists.' }
    : {
        type: 'ReferencesResolved',
        status: 'False',
        reason: 'ReferencesDeleted',
        message: `${missing.join(', ')} no longer exist${missing.length === 1 ? 's' : ''}; the VM keeps what it was placed with.`,
      };
}

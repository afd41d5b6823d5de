// VirtualMachineSpecification: counts the VMs that use it, and holds its own deletion (a
// finalizer, like pvc-protection) while any does. A flavor deleted under running VMs left
// them naming nothing, and re-creating it with other sizes got round the rule that sizes are
// fixed while VMs use them.
import type { VirtualMachineSpecification } from '../../kinds/virtualmachinespecification.js';
import { keyString, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import { ready, writeStatus, nextStatus, type ControllerContext } from '../shared/context.js';
import { Kinds } from '../shared/resources-of-kinds.js';
import { statusReconciler } from '../shared/status-reconciler.js';

export const SPECIFICATION_FINALIZER = 'virtflow.io/specification-protection';

/** At most this many VMs are named in a condition. */
const SHOWN = 5;

function usersOf(ctx: ControllerContext, spec: VirtualMachineSpecification): string[] {
  return ctx.listers.vms
    .byIndex('bySpecification', spec.metadata.name!)
    .map((vm) => `${vm.metadata.namespace}/${vm.metadata.name}`)
    .sort();
}

export function specificationReconciler(ctx: ControllerContext): Reconciler {
  const observe = statusReconciler(ctx, Kinds.VirtualMachineSpecification, () => ctx.listers.specifications, (spec) => {
    const users = usersOf(ctx, spec).length;
    return {
      fields: { virtualMachines: users },
      conditions: [ready(true, 'Available', users > 0 ? `${users} VM(s) use this flavor; its sizes are fixed while they do.` : 'No VM uses this flavor.')],
    };
  });
  return {
    async reconcile(rc, key: ObjectKey): Promise<Result> {
      const spec = ctx.listers.specifications.get(keyString(key));
      if (!spec) return observe.reconcile(rc, key);
      const finalizers = spec.metadata.finalizers ?? [];
      if (!spec.metadata.deletionTimestamp) {
        if (finalizers.includes(SPECIFICATION_FINALIZER)) return observe.reconcile(rc, key);
        await ctx.client.patch(Kinds.VirtualMachineSpecification, key, 'merge', {
          metadata: { finalizers: [...finalizers, SPECIFICATION_FINALIZER], resourceVersion: spec.metadata.resourceVersion },
        });
        return {};
      }
      const users = usersOf(ctx, spec);
      if (users.length > 0) {
        const shown = users.slice(0, SHOWN).join(', ') + (users.length > SHOWN ? `, and ${users.length - SHOWN} more` : '');
        const message = `Deletion waits until no VM uses this flavor: ${users.length} VirtualMachine(s) remain (${shown}).`;
        const status = nextStatus(spec as never, { virtualMachines: users.length }, [
          { type: 'InUse', status: 'True', reason: 'DeletionBlocked', message },
          { type: 'Ready', status: 'False', reason: 'DeletionBlocked', message },
        ], ctx.now());
        await writeStatus(ctx, Kinds.VirtualMachineSpecification, spec as never, status);
        return {};
      }
      if (finalizers.includes(SPECIFICATION_FINALIZER)) {
        await ctx.client.patch(Kinds.VirtualMachineSpecification, key, 'merge', {
          metadata: { finalizers: finalizers.filter((f) => f !== SPECIFICATION_FINALIZER), resourceVersion: spec.metadata.resourceVersion },
        });
      }
      return {};
    },
  };
}

// Bastions seen from both sides (issue 12): a K8sCluster names its bastion VMs in
// spec.bastions, and reports them in status.bastions with a label per bastion (the cluster
// controller's part); each bastion VM says which clusters it serves, in status.bastionFor and
// in a label per cluster (this controller's part), so each side is one query:
//   kubectl get k8s -l bastion.virtflow.io/jump-1        the clusters jump-1 serves
//   kubectl get vm -l cluster.virtflow.io/prod=bastion   the bastions of prod
// Keyed by VM and read from the clusters of its namespace, so a cluster that goes, or stops
// naming the VM, is noticed from state, not from an event.
import type { K8sCluster } from '../../kinds/k8scluster.js';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import { keyString, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import { isNotFound } from '../../runtime/client.js';
import type { ControllerContext } from '../shared/context.js';
import { Kinds } from '../shared/resources-of-kinds.js';
import { BASTION_OF_PREFIX } from './nodes.js';

const BASTION = 'bastion';

/** The clusters (names, sorted) that name `vm` among their bastions. */
export function clustersServedBy(vm: VirtualMachine, clusters: readonly K8sCluster[]): string[] {
  return clusters
    .filter((c) => c.metadata.namespace === vm.metadata.namespace && (c.spec.bastions ?? []).includes(vm.metadata.name!))
    .map((c) => c.metadata.name!)
    .sort();
}

/**
 * Keeps a VM's bastion labels and status.bastionFor. Labels first, as the maintainers do: a
 * status patch right after a metadata patch would only race it, and the patch's event brings
 * the VM back.
 */
export function bastionReconciler(ctx: ControllerContext): Reconciler {
  return {
    async reconcile(_rc, key: ObjectKey): Promise<Result> {
      const vm = ctx.listers.vms.get(keyString(key));
      if (!vm || vm.metadata.deletionTimestamp) return {};
      const served = clustersServedBy(vm, ctx.listers.clusters.list(vm.metadata.namespace));
      const labels = vm.metadata.labels ?? {};
      const patch: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(labels)) if (k.startsWith(BASTION_OF_PREFIX) && v === BASTION && !served.includes(k.slice(BASTION_OF_PREFIX.length))) patch[k] = null;
      for (const c of served) if (labels[BASTION_OF_PREFIX + c] !== BASTION) patch[BASTION_OF_PREFIX + c] = BASTION;
      try {
        if (Object.keys(patch).length > 0) {
          await ctx.client.patch(Kinds.VirtualMachine, key, 'merge', { metadata: { labels: patch } });
          return {};
        }
        if (served.join('\n') === (vm.status?.bastionFor ?? []).join('\n')) return {};
        await ctx.client.patch(Kinds.VirtualMachine, key, 'merge', { status: { bastionFor: served.length > 0 ? served : null } }, { subresource: 'status' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return {};
    },
  };
}

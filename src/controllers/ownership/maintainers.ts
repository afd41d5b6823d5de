// Ownership both ways (seed 001 §6): who maintains an object, directly or through a maintainer
// group, read from the MaintainerAssignments that name it; and what a maintainer looks after.
// The maintained kinds (Baremetal, VirtualMachine, K8sCluster) carry status.maintainers and a
// label per maintainer, maintainer.virtflow.io/<maintainer> = direct | group, so that one
// query answers "what does alice look after":
//   kubectl get bm,vm,k8s -A -l maintainer.virtflow.io/alice
import type { MaintainerAssignment } from '../../kinds/maintainerassignment.js';
import type { KubeObject } from '../../machinery/object.js';
import { keyString, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import type { ResourceType } from '../../runtime/resource.js';
import type { ControllerContext } from '../shared/context.js';
import type { Lister, Listers } from '../shared/listers.js';

export const MAINTAINER_LABEL_PREFIX = 'maintainer.virtflow.io/';

/** How a maintainer comes to maintain an object: named in an assignment, or a member of a named group. */
export type Via = 'direct' | 'group';

/** The assignments index key of an object. */
export function maintainedKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

export function assignmentTarget(a: MaintainerAssignment): string {
  return maintainedKey(a.spec?.resource?.kind ?? '', a.spec?.resource?.namespace, a.spec?.resource?.name ?? '');
}

/** The maintainers an assignment gives its object, each with how. */
export function maintainersOfAssignment(a: MaintainerAssignment, listers: Listers): Map<string, Via> {
  const who = new Map<string, Via>();
  for (const g of a.spec.groups ?? []) {
    const group = listers.maintainerGroups.get(g);
    if (!group) continue;
    for (const m of [group.spec.manager, ...(group.spec.members ?? [])]) if (m) who.set(m, 'group');
  }
  for (const m of a.spec.maintainers ?? []) who.set(m, 'direct');
  return who;
}

/** Every maintainer of an object, direct winning over through a group. */
export function maintainersOf(kind: string, namespace: string | undefined, name: string, listers: Listers): Map<string, Via> {
  const who = new Map<string, Via>();
  for (const a of listers.assignments.byIndex('byResource', maintainedKey(kind, namespace, name))) {
    for (const [m, via] of maintainersOfAssignment(a, listers)) if (who.get(m) !== 'direct') who.set(m, via);
  }
  return who;
}

/** A label key can hold a maintainer name of at most 63 characters (a DNS label or so). */
function labelKey(maintainer: string): string | undefined {
  return maintainer.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(maintainer) ? MAINTAINER_LABEL_PREFIX + maintainer : undefined;
}

export type Maintained = KubeObject & { status?: { maintainers?: string[] } };

/**
 * Keeps status.maintainers and the maintainer labels of one maintained kind. Labels first: a
 * status patch after a metadata patch would only race it, and the patch's event brings the
 * object back.
 */
export function maintainedReconciler(ctx: ControllerContext, resource: ResourceType, lister: () => Lister<Maintained>): Reconciler {
  return {
    async reconcile(_rc, key: ObjectKey): Promise<Result> {
      const obj = lister().get(keyString(key));
      if (!obj || obj.metadata.deletionTimestamp) return {};
      const who = maintainersOf(resource.kind, obj.metadata.namespace, obj.metadata.name!, ctx.listers);
      const labels = obj.metadata.labels ?? {};
      const patch: Record<string, string | null> = {};
      const wanted = new Map<string, string>();
      for (const [m, via] of who) {
        const k = labelKey(m);
        if (k) wanted.set(k, via);
      }
      for (const k of Object.keys(labels)) if (k.startsWith(MAINTAINER_LABEL_PREFIX) && !wanted.has(k)) patch[k] = null;
      for (const [k, v] of wanted) if (labels[k] !== v) patch[k] = v;
      if (Object.keys(patch).length > 0) {
        await ctx.client.patch(resource, key, 'merge', { metadata: { labels: patch } });
        return {};
      }
      const names = [...who.keys()].sort();
      const current = obj.status?.maintainers ?? [];
      if (names.join('\n') === current.join('\n')) return {};
      await ctx.client.patch(resource, key, 'merge', { status: { maintainers: names.length > 0 ? names : null } }, { subresource: 'status' });
      return {};
    },
  };
}

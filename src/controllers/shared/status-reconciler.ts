// Most VirtFlow kinds' controllers only observe: they compute status from the caches and
// write it when it differs. This is that reconciler, given the computation.
import type { KubeObject } from '../../machinery/object.js';
import { keyString, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import type { ResourceType } from '../../runtime/resource.js';
import { forgetWrites, isStaleCache, nextStatus, writeStatus, type ControllerContext, type Cond } from './context.js';
import type { Lister } from './listers.js';

export interface ObservedStatus {
  fields: Record<string, unknown>;
  conditions: Cond[];
  requeueAfterMs?: number;
}

/**
 * Reconciles an object whose status is derived from the caches. With `ctx.statusIntervalMs`,
 * each object is recomputed (and written, when its status changed) at most that often: a
 * burst of changes (a hundred VMs placed on one host or in one quota, or their lifecycle
 * writes) becomes one computation with the final figures instead of one per change. The
 * first change after a quiet spell is handled at once; later ones wait for the interval.
 */
export function statusReconciler<T extends KubeObject>(
  ctx: ControllerContext,
  resource: ResourceType,
  lister: () => Lister<T>,
  observe: (obj: T) => ObservedStatus,
): Reconciler {
  const lastRunAt = new Map<string, number>();
  return {
    async reconcile(_rc, key: ObjectKey): Promise<Result> {
      const k = keyString(key);
      const obj = lister().get(k);
      if (!obj) {
        lastRunAt.delete(k);
        return {};
      }
      if (obj.metadata.deletionTimestamp) {
        forgetWrites(ctx, resource, obj);
        return {};
      }
      const later = (ms?: number) => (ms ? { requeueAfterMs: ms } : {});
      const interval = ctx.statusIntervalMs ?? 0;
      if (interval > 0) {
        // Deferred before anything is computed: the computation (a group's or a quota's
        // figures over every host and VM) is what a burst would otherwise repeat per change.
        const now = ctx.now().getTime();
        const wait = (lastRunAt.get(k) ?? -Infinity) + interval - now;
        if (wait > 0) return later(wait);
        lastRunAt.set(k, now);
      }
      const observed = observe(obj);
      const status = nextStatus(obj as never, observed.fields, observed.conditions, ctx.now());
      try {
        await writeStatus(ctx, resource, obj as never, status);
      } catch (err) {
        // The event of this controller's own last write will bring the key back.
        if (isStaleCache(err)) return later(observed.requeueAfterMs);
        throw err;
      }
      return later(observed.requeueAfterMs);
    },
  };
}

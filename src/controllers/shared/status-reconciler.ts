// Most VirtFlow kinds' controllers only observe: they compute status from the caches and
// write it when it differs. This is that reconciler, given the computation.
import type { ConditionUpdate } from '../../machinery/conditions.js';
import type { KubeObject } from '../../machinery/object.js';
import { keyString, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import type { ResourceType } from '../../runtime/resource.js';
import { nextStatus, writeStatus, type ControllerContext } from './context.js';
import type { Lister } from './listers.js';

export interface ObservedStatus {
  fields: Record<string, unknown>;
  conditions: Omit<ConditionUpdate, 'observedGeneration'>[];
  requeueAfterMs?: number;
}

export function statusReconciler<T extends KubeObject>(
  ctx: ControllerContext,
  resource: ResourceType,
  lister: () => Lister<T>,
  observe: (obj: T) => ObservedStatus,
): Reconciler {
  return {
    async reconcile(_rc, key: ObjectKey): Promise<Result> {
      const obj = lister().get(keyString(key));
      if (!obj || obj.metadata.deletionTimestamp) return {};
      const observed = observe(obj);
      const status = nextStatus(obj as never, observed.fields, observed.conditions, ctx.now());
      await writeStatus(ctx, resource, obj as never, status);
      return observed.requeueAfterMs ? { requeueAfterMs: observed.requeueAfterMs } : {};
    },
  };
}

// ExternalController: probes the endpoint and reports whether it is reachable, so an
// operator sees a broken integration before VMs start to wait on it.
import type { ExternalController } from '../../kinds/externalcontroller.js';
import type { ProbeResult } from '../../providers/http-provider.js';
import { keyString, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import { nextStatus, writeStatus, type ControllerContext } from '../shared/context.js';
import type { ExternalControllerIdentities } from './identity.js';
import { Kinds } from '../shared/resources-of-kinds.js';

export function externalControllerReconciler(
  ctx: ControllerContext,
  probe: (controller: ExternalController) => Promise<ProbeResult>,
  opts: { intervalMs?: number; identities?: ExternalControllerIdentities } = {},
): Reconciler {
  const intervalMs = opts.intervalMs ?? 30_000;
  return {
    async reconcile(_rc, key: ObjectKey): Promise<Result> {
      const controller = ctx.listers.externalControllers.get(keyString(key));
      if (!controller || controller.metadata.deletionTimestamp) return {};
      await opts.identities?.ensure(controller);
      const result = await probe(controller);
      const wasReachable = controller.status?.reachable;
      // Capabilities are what the endpoint said when it last answered; an unreachable one keeps them.
      const said = result.health?.capabilities;
      const capabilities = result.reachable ? (Array.isArray(said) ? said.filter((c) => typeof c === 'string').slice(0, 16) : undefined) : controller.status?.capabilities;
      const status = nextStatus(controller as never, { reachable: result.reachable, lastProbeTime: result.lastProbeTime, capabilities }, [
        result.reachable
          ? { type: 'Ready', status: 'True', reason: 'Reachable', message: `${controller.spec.endpoint} answers: ${result.message}.` }
          : { type: 'Ready', status: 'False', reason: result.reason ?? 'Unreachable', message: `${controller.spec.endpoint}: ${result.message}` },
      ], ctx.now());
      await writeStatus(ctx, Kinds.ExternalController, controller as never, status);
      if (wasReachable !== result.reachable) {
        ctx.events.record(
          controller,
          result.reachable ? 'Normal' : 'Warning',
          result.reachable ? 'Reachable' : (result.reason ?? 'Unreachable'),
          result.reachable ? `${controller.spec.endpoint} is reachable.` : `${controller.spec.endpoint} is not reachable: ${result.message}`,
        );
      }
      return { requeueAfterMs: intervalMs };
    },
  };
}

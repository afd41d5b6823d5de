// The VirtualMachine controller, as named steps with early returns (crossplane style):
//   get -> deletion (deprovision, release, drop finalizer) -> finalizer -> references ->
//   placement -> route to the external controller -> observe -> create / update ->
//   power (runStrategy, restartAt) -> status.
// Every failure branch does the same three things: a Warning Event with a constant reason,
// a condition carrying that reason, and a retry. Reservations are VMs' status.placement.
// Placement is here; everything after it (the external controller, power, drift and
// deprovisioning on delete) is in lifecycle.ts.
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import type { VirtualMachineProvider } from '../../providers/external-client.js';
import { ApiError } from '../../machinery/errors.js';
import { jitter } from '../../runtime/backoff.js';
import { keyOf, keyString, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import { hostLocation, tenantOfNamespace, understatedReservation } from '../shared/accounting.js';
import { isStaleCache, reportStatus, type Cond, type ControllerContext, type EventSpec } from '../shared/context.js';
import { Kinds } from '../shared/resources-of-kinds.js';
import { fromAmounts, toAmounts } from '../shared/resources.js';
import { VM_FINALIZER, vmLifecycle } from './lifecycle.js';
import { placementRequest, type Placer } from './placer.js';
import { missingReferences } from './references.js';
import { vmMover } from '../drain/move.js';
import { routeExternalController } from '../../providers/routing.js';

// The external lifecycle and deprovisioning live in lifecycle.ts.
export { SKIP_DEPROVISION_ANNOTATION, VM_FINALIZER } from './lifecycle.js';

export const reasons = {
  waitingForReferences: 'WaitingForReferences',
  scheduled: 'Scheduled',
  unschedulable: 'Unschedulable',
  provisioning: 'Provisioning',
  provisioned: 'Provisioned',
  cannotProvision: 'CannotProvision',
  running: 'Running',
  notRunning: 'NotRunning',
  drift: 'ExternalDrift',
  deprovisioning: 'Deprovisioning',
} as const;

export interface VmControllerOptions {
  /** The provider for an ExternalController; tests inject a fake. */
  providerFor: (controller: import('../../kinds/externalcontroller.js').ExternalController) => VirtualMachineProvider;
  /** How often a VM is observed for drift when nothing else happens. */
  resyncMs?: number;
  /** Provider failures are retried after this long (with jitter), not with the queue's back-off. */
  providerRetryMs?: number;
  /** The source of jitter, in [0, 1); tests fix it. */
  random?: () => number;
}

/** A write the server certainly did not make: refused with a 4xx, or never sent. */
function refused(err: unknown): boolean {
  return isStaleCache(err) || (err instanceof ApiError && err.code >= 400 && err.code < 500);
}

function isoNow(ctx: ControllerContext): string {
  return ctx.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The VM reconciler, which also reads every VM version the watch delivers (register.ts). */
export interface VirtualMachineReconciler extends Reconciler {
  noteVm(vm: VirtualMachine): void;
}

export function virtualMachineReconciler(ctx: ControllerContext, placer: Placer, opts: VmControllerOptions): VirtualMachineReconciler {
  const resyncMs = opts.resyncMs ?? 30_000;
  const retryMs = opts.providerRetryMs ?? 2_000;

  const random = opts.random ?? Math.random;
  /** The shared status writer: Events only when a condition's reason changes (or Normal ones). */
  const report = async (vm: VirtualMachine, fields: Record<string, unknown>, conditions: Cond[], event?: EventSpec): Promise<boolean> =>
    (await reportStatus(ctx, Kinds.VirtualMachine, vm, fields, conditions, event)).wrote;

  const external = vmLifecycle(ctx, { providerFor: opts.providerFor, resyncMs, providerRetryMs: retryMs, random });
  const mover = vmMover(ctx, { providerFor: opts.providerFor, resyncMs, providerRetryMs: retryMs, random });

  const place = async (key: string, vm: VirtualMachine, signal: AbortSignal): Promise<Result> => {
    const uncertain = placer.uncertain(key);
    if (uncertain !== undefined) {
      // The last placement write may have landed: ask the server, not the cache.
      const live = await ctx.client.get<VirtualMachine>(Kinds.VirtualMachine, { namespace: vm.metadata.namespace, name: vm.metadata.name! });
      if (live.status?.placement?.baremetal === uncertain) return { requeueAfterMs: 1000 };
      placer.forget(key);
    } else if (placer.isAssumed(key)) {
      // Decided and written; the cache has not shown the write yet.
      return { requeueAfterMs: 1000 };
    }
    const flavor = ctx.listers.specifications.get(vm.spec.specification)!;
    const resources = fromAmounts(flavor.spec as never);
    const request = placementRequest(key, vm, resources, tenantOfNamespace(vm.metadata.namespace!, ctx.listers)!);
    // A process that has lost the lease must not decide: another leader may already be.
    if (signal.aborted) return {};
    const result = placer.place(key, request);
    if (!result.ok) {
      try {
        await report(
          vm,
          { phase: 'Unschedulable' },
          [
            { type: 'Scheduled', status: 'False', reason: reasons.unschedulable, message: result.diagnosis.message },
            { type: 'Ready', status: 'False', reason: reasons.unschedulable, message: 'The VM is not placed.' },
          ],
          { type: 'Warning', reason: 'FailedScheduling', message: result.diagnosis.message },
        );
      } catch (err) {
        if (isStaleCache(err)) return {};
        throw err;
      }
      // Capacity and quota changes requeue it too; this is only a safety net.
      return { requeueAfterMs: jitter(resyncMs, random) };
    }
    const host = ctx.listers.hosts.get(result.host)!;
    const { location } = hostLocation(host, ctx.listers);
    // The ExternalController is recorded with the placement when one serves the region: a
    // write less per VM than recording it just before the create. One recorded already holds
    // the machine, if there is one, and stays.
    const route = vm.status?.externalController ? undefined : routeExternalController(ctx.listers.externalControllers.list(), 'VirtualMachine', location.region ?? '');
    const recorded = route?.found ? route.controller.metadata.name : undefined;
    try {
      await report(
        vm,
        {
          ...(recorded ? { externalController: recorded } : {}),
          phase: 'Provisioning',
          placement: {
            baremetal: result.host,
            rack: location.rack,
            datacenter: location.datacenter,
            region: location.region,
            scheduledAt: isoNow(ctx),
          },
          resources: toAmounts(resources),
        },
        [
          { type: 'Scheduled', status: 'True', reason: reasons.scheduled, message: `Placed on ${result.host}: ${result.explanation.message}` },
          { type: 'Provisioned', status: 'False', reason: reasons.provisioning, message: 'Waiting for the external controller.' },
          { type: 'Ready', status: 'False', reason: reasons.provisioning, message: 'The VM is being provisioned.' },
        ],
        { type: 'Normal', reason: 'Scheduled', message: `Placed on ${result.host} (${location.region}/${location.datacenter}/${location.rack}): ${result.explanation.message}` },
      );
    } catch (err) {
      if (!refused(err)) {
        // No answer, or a server error: the write may have landed. The capacity stays
        // taken until that is known, so it is never promised twice.
        placer.markUncertain(key, vm.metadata.resourceVersion ?? '');
        throw err;
      }
      placer.forget(key);
      // The cache is behind this controller's own last write of the VM (e.g. its
      // Unschedulable status): that write's event brings the VM back to decide again.
      if (isStaleCache(err)) return {};
      throw err;
    }
    if (recorded) external.unbuilt(key);
    return {};
  };

  return {
    noteVm: (vm) => external.noteReport(keyString(keyOf(vm)), vm),
    async reconcile(rc, objectKey: ObjectKey): Promise<Result> {
      const key = keyString(objectKey);
      const vm = ctx.listers.vms.get(key);
      if (!vm) {
        placer.forget(key);
        external.forget(key);
        return {};
      }
      if (vm.metadata.deletionTimestamp) return external.deprovision(objectKey, vm);
      // Placement comes before the finalizer: the reservation is the VM's own status, and a
      // VM deleted before anything exists outside VirtFlow releases it just by going away.
      // The finalizer guards the external side effects, so it is added before the first of
      // them (below), and placing a VM does not wait behind a metadata write.
      const placed = vm.status?.placement?.baremetal;
      if (!placed) {
        const missing = missingReferences(vm, ctx.listers);
        if (missing.length > 0) {
          const message = `Waiting for ${missing.join(', ')} to exist.`;
          await report(vm, { phase: 'Pending' }, [
            { type: 'ReferencesResolved', status: 'False', reason: 'MissingReferences', message },
            { type: 'Scheduled', status: 'False', reason: reasons.waitingForReferences, message },
            { type: 'Ready', status: 'False', reason: reasons.waitingForReferences, message },
          ], { type: 'Warning', reason: reasons.waitingForReferences, message });
          return {};
        }
        return place(key, vm, rc.signal);
      }
      // A reservation this controller did not write (status.resources lowered by someone
      // else) is put back: hosts and quotas count the flavor anyway (reservedBy).
      const reservation = understatedReservation(vm, ctx.listers);
      if (reservation) {
        const message = `status.resources (${JSON.stringify(vm.status?.resources ?? {})}) was less than specification ${vm.spec.specification} reserves; restored.`;
        if (await report(vm, { resources: toAmounts(reservation) }, [])) ctx.events.record(vm, 'Warning', 'ReservationRepaired', message);
        return {};
      }
      const finalizers = vm.metadata.finalizers ?? [];
      if (!finalizers.includes(VM_FINALIZER)) {
        await ctx.client.patch(Kinds.VirtualMachine, objectKey, 'merge', {
          metadata: { finalizers: [...finalizers, VM_FINALIZER], resourceVersion: vm.metadata.resourceVersion },
        });
        return {};
      }
      // A move off a host in Maintenance (drain.ts) owns the VM until the machine is on the new host.
      if (vm.status?.migration?.state === 'Running') return mover.step(vm);
      return external.lifecycle(key, vm);
    },
  };
}

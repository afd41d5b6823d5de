// The external half of the VirtualMachine controller: a placed VM's machine at its external
// controller (docs/external-controller-protocol.md, section 6), and deprovisioning on delete.
// reconciler.ts places a VM, then hands it here on every reconcile.
//
// Level-based: each reconcile observes the machine first and decides from what exists now,
// never from what it asked for before. Requests are idempotent by key, so a repeat after a
// crash, a timeout or a lost answer is the same operation (create by uid + generation,
// power by requestId, delete by deletionTimestamp):
//
//   no machine, no create running  -> create (an Event; drift when it had been provisioned)
//   a create running               -> Provisioning, then Starting once the machine is built
//   machine older than generation  -> update
//   restartAt newer than restartedAt -> restart (Restarting), then status.restartedAt
//   runStrategy Always and Off     -> start (Starting; ExternalDrift when it was Running)
//   runStrategy Halted and On      -> stop, graceful or forced per stopPolicy (Stopping)
//   otherwise                      -> Running or Stopped; Manual never changes power
//   deleted                        -> wait for a running operation, delete (Retain or Delete
//                                     the data disk), then release the reservation
//
// Intent before side effects: a request that changes the phase (Starting, Stopping,
// Restarting, Terminating, a re-create after drift) is preceded by the status write that
// says so, and nothing is written after it in the same reconcile: the result arrives as the
// external controller's status report (or the next observe). So the phase is never lost to
// the race with the controller's own report, and a crash between the write and the request
// only repeats the request, which is idempotent.
//
// Every failure does the same three things: a condition with the provider's constant reason,
// a Warning Event when that reason is new, and a retry with per-VM exponential back-off.
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import { getCondition, type Condition, type ConditionUpdate } from '../../machinery/conditions.js';
import {
  providerReasons,
  isProviderError,
  ProviderRejected,
  type Observation,
  type Operation,
  type OperationRef,
  type VirtualMachineProvider,
} from '../../providers/external-client.js';
import { errorCodes } from '../../providers/protocol.js';
import { routeVirtualMachine, type Route } from '../../providers/routing.js';
import type { ExternalController } from '../../kinds/externalcontroller.js';
import { isConflict, isNotFound } from '../../runtime/client.js';
import { keyString, type ObjectKey } from '../../runtime/keys.js';
import type { Result } from '../../runtime/reconciler.js';
import { nextStatus, statusDiffers, type ControllerContext, type EventType } from '../shared/context.js';
import { Kinds } from '../shared/resources-of-kinds.js';
import { placedReferencesCondition } from './references.js';

export const VM_FINALIZER = 'virtflow.io/vm-protection';
/**
 * Set to "true" by an operator to delete a VM whose external controller is gone for good:
 * the finalizer is then removed without deprovisioning (docs/operations.md).
 */
export const SKIP_DEPROVISION_ANNOTATION = 'virtflow.io/skip-deprovision';

/** Condition and Event reasons of the lifecycle (the provider's own come from providerReasons). */
export const lifecycleReasons = {
  provisioning: 'Provisioning',
  provisioned: 'Provisioned',
  starting: 'Starting',
  running: 'Running',
  stopping: 'Stopping',
  stopped: 'Stopped',
  restarting: 'Restarting',
  restarted: 'Restarted',
  updating: 'Updating',
  drift: 'ExternalDrift',
  deletedExternally: 'DeletedExternally',
  powerChanged: 'PowerChangedExternally',
  deprovisioning: 'Deprovisioning',
  deprovisionSkipped: 'DeprovisionSkipped',
  released: 'Released',
  missingImage: 'WaitingForReferences',
  createFailed: 'CreateFailed',
  updateFailed: 'UpdateFailed',
  powerFailed: 'PowerFailed',
  deleteFailed: 'DeleteFailed',
} as const;

const failedReason: Record<Operation['type'], string> = {
  Create: lifecycleReasons.createFailed,
  Update: lifecycleReasons.updateFailed,
  Power: lifecycleReasons.powerFailed,
  Delete: lifecycleReasons.deleteFailed,
  Migrate: 'MigrateFailed',
};

type Cond = Omit<ConditionUpdate, 'observedGeneration'>;
type Fields = Record<string, unknown>;
interface EventSpec {
  type: EventType;
  reason: string;
  message: string;
}

export interface LifecycleOptions {
  providerFor: (controller: ExternalController) => VirtualMachineProvider;
  /** How often a VM is observed for drift when nothing else happens. */
  resyncMs: number;
  /** First retry after a provider failure; doubles per failure in a row, up to 32 times. */
  providerRetryMs: number;
}

export interface VmLifecycle {
  /** A placed VM that is not being deleted. */
  lifecycle(key: string, vm: VirtualMachine): Promise<Result>;
  /** A VM with a deletionTimestamp. */
  deprovision(key: ObjectKey, vm: VirtualMachine): Promise<Result>;
  /** The VM is gone: drops what is remembered about it. */
  forget(key: string): void;
}

const isActive = (op: Operation): boolean => op.state === 'Pending' || op.state === 'Running';

function jitter(ms: number): number {
  return Math.max(1, Math.round(ms * (0.9 + Math.random() * 0.2)));
}

/** Is `value` a time later than `than` (an absent `than` is the beginning of time)? */
function isNewer(value: string | undefined, than: string | undefined): boolean {
  if (!value) return false;
  const t = Date.parse(value);
  if (Number.isNaN(t)) return false;
  if (!than) return true;
  const ref = Date.parse(than);
  return Number.isNaN(ref) || t > ref;
}

function restate(vm: VirtualMachine, type: string): Cond | undefined {
  const c = getCondition(vm.status?.conditions as Condition[] | undefined, type);
  return c ? { type: c.type, status: c.status, reason: c.reason, message: c.message } : undefined;
}


function conditionOf(vm: VirtualMachine, type: string): Condition | undefined {
  return getCondition(vm.status?.conditions as Condition[] | undefined, type);
}

export function vmLifecycle(ctx: ControllerContext, opts: LifecycleOptions): VmLifecycle {
  const { resyncMs, providerRetryMs: retryMs } = opts;
  /** Provider failures in a row, per VM key: the back-off exponent. */
  const failures = new Map<string, number>();
  /** Per VM key, the id of the last Failed operation an Event was recorded for. */
  const failedOpsReported = new Map<string, string>();
  /**
   * Per VM key, the resourceVersion this process's last write replaced. A cached VM still at
   * that version is stale: a write from it could only answer 409. The watch event of that
   * write is on its way and queues the VM again, on fresher data.
   */
  const replaced = new Map<string, string>();
  const vmKey = (vm: VirtualMachine) => keyString({ namespace: vm.metadata.namespace, name: vm.metadata.name! });
  const isStale = (key: string, vm: VirtualMachine) => vm.metadata.resourceVersion !== undefined && replaced.get(key) === vm.metadata.resourceVersion;

  const backoff = (key: string): number => {
    const n = Math.min((failures.get(key) ?? 0) + 1, 6);
    failures.set(key, n);
    return jitter(retryMs * 2 ** (n - 1));
  };
  const resync = (): Result => ({ requeueAfterMs: jitter(resyncMs) });

  /**
   * Writes the status (fields, conditions, observedGeneration) when it differs, and answers
   * the VM as written (or as it was), so a reconcile can go on with a fresh resourceVersion.
   * A stale resourceVersion answers 409 and the queue retries on fresher data. A Warning
   * Event is recorded when the reason of a condition it is about changes, a Normal one
   * whenever the write happened; so a failure repeated by retries is one Event.
   */
  const report = async (vm: VirtualMachine, fields: Fields, conditions: Cond[], event?: EventSpec): Promise<VirtualMachine> => {
    const status = nextStatus(vm as never, fields, conditions, ctx.now());
    if (!statusDiffers(vm as never, status)) return vm;
    const written = await ctx.client.replaceStatus(Kinds.VirtualMachine, { ...vm, status } as VirtualMachine);
    if (vm.metadata.resourceVersion !== undefined) replaced.set(vmKey(vm), vm.metadata.resourceVersion);
    if (event) {
      const changed = conditions.some((c) => conditionOf(vm, c.type)?.reason !== c.reason);
      if (event.type === 'Normal' || changed) ctx.events.record(vm, event.type, event.reason, event.message);
    }
    return written;
  };

  /** A Failed operation seen for the first time: one Warning Event saying what failed. */
  const noteFailedOperation = (key: string, vm: VirtualMachine, last: Operation | undefined) => {
    if (!last || last.state !== 'Failed' || failedOpsReported.get(key) === last.id) return;
    failedOpsReported.set(key, last.id);
    ctx.events.record(vm, 'Warning', failedReason[last.type], `Operation ${last.id} (${last.type}) failed: ${last.message ?? 'no message'}; trying again.`);
  };

  /**
   * A provider call failed. "Another operation is running", "no such machine" and "stale
   * generation" only mean observe again soon; anything else becomes a condition with the
   * provider's reason, an Event, and a retry with back-off. While the machine's state is
   * unknown (observe failed on a provisioned VM), Ready is Unknown rather than False.
   */
  const providerFailure = async (key: string, vm: VirtualMachine, err: unknown, what: string, base: Cond[], extra: Fields = {}): Promise<Result> => {
    if (!isProviderError(err)) throw err;
    if (err instanceof ProviderRejected && ([errorCodes.operationInProgress, errorCodes.notFound, errorCodes.staleGeneration] as string[]).includes(err.code ?? '')) {
      return { requeueAfterMs: jitter(retryMs) };
    }
    const deleting = vm.metadata.deletionTimestamp !== undefined;
    const provisioned = conditionOf(vm, 'Provisioned')?.status === 'True';
    const message = `Cannot ${what}: ${err.message}${deleting ? `. To delete the VM without deprovisioning it, annotate it ${SKIP_DEPROVISION_ANNOTATION}=true (docs/operations.md).` : ''}`;
    const conditions: Cond[] = [...base];
    if (!provisioned && !deleting) conditions.push({ type: 'Provisioned', status: 'False', reason: err.reason, message });
    const unknown = provisioned && what.startsWith('observe');
    conditions.push({ type: 'Ready', status: unknown ? 'Unknown' : 'False', reason: err.reason, message });
    const fields: Fields = { ...extra };
    if (!err.retryable && !deleting && !provisioned) fields.phase = 'Failed';
    await report(vm, fields, conditions, { type: 'Warning', reason: err.reason, message });
    return { requeueAfterMs: backoff(key) };
  };

  /** A VM stays with the ExternalController recorded before its first create. */
  const routeOf = (vm: VirtualMachine): Route => {
    const holder = vm.status?.externalController;
    if (!holder) return routeVirtualMachine(ctx.listers.externalControllers.list(), vm);
    const controller = ctx.listers.externalControllers.get(holder);
    if (controller && !controller.metadata.deletionTimestamp) return { found: true, controller };
    return {
      found: false,
      reason: providerReasons.noExternalController,
      service: 'VirtualMachine',
      region: vm.status?.placement?.region ?? '',
      message: `the ExternalController "${holder}" that holds this VM's machine no longer exists; re-create it (another controller cannot see the machine)`,
    };
  };

  // -------------------------------------------------------------------------------------

  async function lifecycle(key: string, current: VirtualMachine): Promise<Result> {
    if (isStale(key, current)) return {};
    let vm = current;
    const refs: Cond = placedReferencesCondition(vm, ctx.listers);
    const scheduled = restate(vm, 'Scheduled');
    // Conditions set by placement are stated again, so each carries the current generation.
    const base: Cond[] = scheduled ? [refs, scheduled] : [refs];
    const provisionedBefore = conditionOf(vm, 'Provisioned')?.status === 'True';

    const route = routeOf(vm);
    if (!route.found) {
      const conditions: Cond[] = provisionedBefore
        ? [...base, { type: 'Ready', status: 'Unknown', reason: route.reason, message: route.message }]
        : [...base, { type: 'Provisioned', status: 'False', reason: route.reason, message: route.message }, { type: 'Ready', status: 'False', reason: route.reason, message: route.message }];
      await report(vm, {}, conditions, { type: 'Warning', reason: route.reason, message: route.message });
      return { requeueAfterMs: backoff(key) };
    }
    const xc = route.controller.metadata.name!;
    const provider = opts.providerFor(route.controller);
    const host = vm.status?.placement?.baremetal;

    let observed: Observation;
    try {
      observed = await provider.observe(vm);
    } catch (err) {
      return providerFailure(key, vm, err, `observe the VM at external controller ${xc}`, base);
    }
    failures.delete(key);

    const generation = vm.metadata.generation ?? 1;
    const strategy = vm.spec.runStrategy ?? 'Always';
    const stopPolicy = vm.spec.stopPolicy ?? 'Graceful';
    const last = observed.lastOperation;
    const busy = last !== undefined && isActive(last);
    noteFailedOperation(key, vm, last);
    const fields: Fields = last ? { lastOperation: last } : {};

    // -- no machine: create it, or wait for the create that is running --------------------
    if (!observed.exists) {
      if (busy && last.type !== 'Create') return resync();
      const driftBefore = conditionOf(vm, 'Provisioned')?.reason === lifecycleReasons.drift;
      if (busy) {
        const reason = driftBefore ? lifecycleReasons.drift : lifecycleReasons.provisioning;
        const message = `${driftBefore ? 'Re-creating the machine that disappeared' : 'Building the machine'} at ${xc} (operation ${last.id}).`;
        await report(vm, { ...fields, phase: 'Provisioning' }, [
          ...base,
          { type: 'Provisioned', status: 'False', reason, message },
          { type: 'Ready', status: 'False', reason, message: 'The VM is being provisioned.' },
        ]);
        return resync();
      }
      const image = ctx.listers.images.get(vm.spec.image);
      if (!image) {
        const message = `Waiting for VirtualMachineImage "${vm.spec.image}" to exist to create the machine.`;
        await report(vm, { phase: 'Provisioning' }, [
          { type: 'ReferencesResolved', status: 'False', reason: 'MissingReferences', message },
          { type: 'Provisioned', status: 'False', reason: lifecycleReasons.missingImage, message },
          { type: 'Ready', status: 'False', reason: lifecycleReasons.missingImage, message },
        ], { type: 'Warning', reason: lifecycleReasons.missingImage, message });
        return {};
      }
      // A machine that had been provisioned and is gone without a delete: drift, repaired.
      if (provisionedBefore) {
        const message = `The machine no longer exists at ${xc}; re-creating it on ${host}.`;
        vm = await report(
          vm,
          { ...fields, phase: 'Provisioning', powerState: undefined, externalId: undefined, addresses: undefined },
          [...base, { type: 'Provisioned', status: 'False', reason: lifecycleReasons.drift, message }, { type: 'Ready', status: 'False', reason: lifecycleReasons.drift, message }],
          { type: 'Warning', reason: lifecycleReasons.drift, message },
        );
      } else if (vm.status?.phase !== 'Provisioning' && vm.status?.phase !== 'Failed') {
        vm = await report(vm, { ...fields, phase: 'Provisioning' }, base);
      }
      if (vm.status?.externalController !== xc) {
        // Recorded before the request, so a crash after it cannot lead to a second machine elsewhere.
        vm = await report(vm, { ...fields, phase: 'Provisioning', externalController: xc }, base);
      }
      const provision = {
        image: { name: image.metadata.name!, source: image.spec.source as never, format: (image.spec.format ?? 'qcow2') as never },
        powerOn: strategy !== 'Halted',
      };
      try {
        await provider.create(vm, vm.status!.placement as never, provision);
      } catch (err) {
        if (!(err instanceof ProviderRejected && err.code === errorCodes.deleted)) {
          return providerFailure(key, vm, err, `create the VM at external controller ${xc}`, base);
        }
        // The uid's machine was deleted through the protocol, and not by VirtFlow: this VM is
        // not being deleted. Checked on the API server itself, not the cache, so a stale copy
        // of a VM deleted since can never bring its machine back.
        const fresh = await ctx.client.find<VirtualMachine>(Kinds.VirtualMachine, { namespace: vm.metadata.namespace, name: vm.metadata.name! });
        if (!fresh || fresh.metadata.uid !== vm.metadata.uid || fresh.metadata.deletionTimestamp) return {};
        const message = `The machine was deleted at ${xc} by a request VirtFlow did not make; building it again on ${host}.`;
        vm = await report(vm, { phase: 'Provisioning' }, [
          ...base,
          { type: 'Provisioned', status: 'False', reason: lifecycleReasons.deletedExternally, message },
          { type: 'Ready', status: 'False', reason: lifecycleReasons.deletedExternally, message },
        ], { type: 'Warning', reason: lifecycleReasons.deletedExternally, message });
        try {
          await provider.create(vm, vm.status!.placement as never, { ...provision, recreate: true });
        } catch (again) {
          return providerFailure(key, vm, again, `create the VM at external controller ${xc}`, base);
        }
      }
      // No Event for the request: the Provisioned condition names the operation while it
      // runs (from the report that follows), and its outcome is an Event (Running, Stopped,
      // CreateFailed).
      return resync();
    }

    // -- the machine exists ---------------------------------------------------------------
    fields.externalId = observed.externalId;
    fields.addresses = observed.addresses;
    fields.powerState = observed.powerState;
    const on = observed.powerState === 'On';

    if (busy && last.type === 'Create') {
      // Built, not finished yet (booting, when it is to run).
      const phase = strategy !== 'Halted' ? 'Starting' : 'Provisioning';
      const message = `Built by ${xc} on ${host}; ${phase === 'Starting' ? 'booting' : 'finishing'} (operation ${last.id}).`;
      await report(vm, { ...fields, phase }, [
        ...base,
        { type: 'Provisioned', status: 'False', reason: lifecycleReasons.provisioning, message },
        { type: 'Ready', status: 'False', reason: phase === 'Starting' ? lifecycleReasons.starting : lifecycleReasons.provisioning, message },
      ]);
      return resync();
    }
    const provisioned: Cond = {
      type: 'Provisioned',
      status: 'True',
      reason: lifecycleReasons.provisioned,
      message: `Provisioned by ${xc} on ${host}${observed.externalId ? ` as ${observed.externalId}` : ''}.`,
    };
    const withProvisioned = [...base, provisioned];
    // The first time the machine is seen provisioned: an Event, folded into the Running or
    // Stopped one when the VM settles at once (one Event instead of two).
    const after: EventSpec[] = provisionedBefore ? [] : [{ type: 'Normal', reason: lifecycleReasons.provisioned, message: provisioned.message }];
    const recordAfter = () => {
      for (const e of after) ctx.events.record(vm, e.type, e.reason, e.message);
    };

    if (!observed.upToDate) {
      vm = await report(vm, fields, withProvisioned);
      recordAfter();
      if (busy) return resync();
      try {
        await provider.update(vm);
      } catch (err) {
        return providerFailure(key, vm, err, `update the VM at external controller ${xc}`, withProvisioned);
      }
      return resync();
    }

    // -- power: restart requests, then runStrategy -----------------------------------------
    const restartAt = vm.spec.restartAt;
    if (strategy !== 'Halted' && isNewer(restartAt, vm.status?.restartedAt ?? vm.metadata.creationTimestamp)) {
      const message = `Restarting as requested at ${restartAt} (${stopPolicy}).`;
      const restarting: Cond[] = [...withProvisioned, { type: 'Ready', status: 'False', reason: lifecycleReasons.restarting, message }];
      if (busy) {
        // A power operation running now is the restart (or one before it): Restarting.
        if (last.type === 'Power') await report(vm, { ...fields, phase: 'Restarting' }, restarting);
        return resync();
      }
      const wasRestarting = vm.status?.phase === 'Restarting';
      if (!wasRestarting) {
        vm = await report(vm, { ...fields, phase: 'Restarting' }, restarting, { type: 'Normal', reason: lifecycleReasons.restarting, message });
      }
      let op: OperationRef;
      try {
        op = await provider.power(vm, 'restart', { force: stopPolicy === 'Force', requestId: `restart:${restartAt}` });
      } catch (err) {
        return providerFailure(key, vm, err, `restart the VM at external controller ${xc}`, withProvisioned);
      }
      // Running: the result arrives by report. Succeeded: this restartAt's restart was done
      // (the request answered the finished operation); record it, once the status is fresh.
      if (op.state !== 'Succeeded' || !wasRestarting) return op.state === 'Succeeded' ? { requeueAfterMs: 1 } : resync();
      fields.restartedAt = restartAt;
      after.push({ type: 'Normal', reason: lifecycleReasons.restarted, message: `Restarted as requested at ${restartAt} (operation ${op.operationId}).` });
    }

    const action = strategy === 'Always' && !on ? 'start' : strategy === 'Halted' && on ? 'stop' : undefined;
    if (action) {
      const phase = action === 'start' ? 'Starting' : 'Stopping';
      // Found in the opposite state of the one last reported, without an operation of ours.
      const drift =
        action === 'start'
          ? vm.status?.phase === 'Running' && vm.status?.powerState === 'On'
          : vm.status?.phase === 'Stopped' && vm.status?.powerState === 'Off';
      const keepDrift = vm.status?.phase === phase && conditionOf(vm, 'Ready')?.reason === lifecycleReasons.drift;
      const driftMessage =
        action === 'start'
          ? `The VM was found off while runStrategy is Always; starting it.`
          : `The VM was found on while runStrategy is Halted; stopping it (${stopPolicy}).`;
      const message = drift || keepDrift ? driftMessage : action === 'start' ? 'The VM is starting.' : `The VM is stopping (${stopPolicy}).`;
      const reason = drift || keepDrift ? lifecycleReasons.drift : phase;
      const event: EventSpec | undefined = drift
        ? { type: 'Warning', reason: lifecycleReasons.drift, message: driftMessage }
        : vm.status?.phase !== phase
          ? { type: 'Normal', reason: phase, message }
          : undefined;
      // A failure of an earlier attempt stays reported until this one answers.
      const failedBefore = vm.status?.phase === phase && !busy && conditionOf(vm, 'Ready')?.reason !== reason;
      if (!failedBefore) {
        vm = await report(vm, { ...fields, phase }, [...withProvisioned, { type: 'Ready', status: 'False', reason, message }], event);
      }
      recordAfter();
      if (busy) return resync();
      try {
        await provider.power(vm, action, {
          force: action === 'stop' && stopPolicy === 'Force',
          // New after each operation on the uid, so a repair of drift is a new request,
          // while a repeat (crash, timeout) before anything else happened is the same one.
          requestId: `${action}:g${generation}:after:${last?.id ?? 'none'}`,
        });
      } catch (err) {
        return providerFailure(key, vm, err, `${action} the VM at external controller ${xc}`, withProvisioned);
      }
      return resync();
    }

    // -- steady: Running or Stopped ---------------------------------------------------------
    const phase = on ? 'Running' : 'Stopped';
    const ready: Cond = on
      ? { type: 'Ready', status: 'True', reason: lifecycleReasons.running, message: 'The VM is running.' }
      : { type: 'Ready', status: 'False', reason: lifecycleReasons.stopped, message: `The VM is stopped (runStrategy ${strategy}).` };
    let event: EventSpec | undefined;
    if (vm.status?.phase !== phase) {
      const outside = strategy === 'Manual' && !busy && (vm.status?.phase === 'Running' || vm.status?.phase === 'Stopped');
      const first = after.findIndex((e) => e.reason === lifecycleReasons.provisioned);
      if (first >= 0) after.splice(first, 1);
      event = outside
        ? { type: 'Normal', reason: lifecycleReasons.powerChanged, message: `The VM was switched ${on ? 'on' : 'off'} outside VirtFlow; runStrategy Manual leaves it so.` }
        : { type: 'Normal', reason: phase, message: first >= 0 ? `${provisioned.message} ${ready.message}` : ready.message };
    }
    vm = await report(vm, { ...fields, phase }, [...withProvisioned, ready], event);
    recordAfter();
    return resync();
  }

  // -------------------------------------------------------------------------------------

  async function deprovision(objectKey: ObjectKey, current: VirtualMachine): Promise<Result> {
    let vm = current;
    const key = keyString(objectKey);
    if (!(vm.metadata.finalizers ?? []).includes(VM_FINALIZER) || isStale(key, vm)) return {};
    const host = vm.status?.placement?.baremetal;
    const release = async (how: string): Promise<Result> => {
      // A JSON patch that tests the finalizers it replaces: it fails (and is retried) only when
      // another finalizer changed meanwhile, not when the status did (the external
      // controller's last report usually lands just before).
      const finalizers = vm.metadata.finalizers ?? [];
      try {
        await ctx.client.patch(Kinds.VirtualMachine, objectKey, 'json', [
          { op: 'test', path: '/metadata/finalizers', value: finalizers },
          { op: 'replace', path: '/metadata/finalizers', value: finalizers.filter((f) => f !== VM_FINALIZER) },
        ]);
      } catch (err) {
        // Gone already: this released it a moment ago and the cache had not caught up.
        if (!isNotFound(err)) throw err;
        forget(key);
        return {};
      }
      const r = vm.status?.resources;
      const what = host ? ` Released the reservation on ${host}${r ? ` (${r.cpu} cpu, ${r.memory} memory, ${r.storage} storage${r.gpu ? `, ${r.gpu} gpu` : ''})` : ''}.` : '';
      ctx.events.record(vm, 'Normal', lifecycleReasons.released, `${how}${what}`);
      forget(key);
      return {};
    };
    if (!host) return release('Nothing was provisioned.');
    if (vm.metadata.annotations?.[SKIP_DEPROVISION_ANNOTATION] === 'true') {
      ctx.events.record(
        vm,
        'Warning',
        lifecycleReasons.deprovisionSkipped,
        `Deleted without deprovisioning, as annotation ${SKIP_DEPROVISION_ANNOTATION} asks: the machine on ${host} (${vm.status?.externalId ?? 'no external id'}) is left to its external controller.`,
      );
      return release('Not deprovisioned.');
    }

    const route = routeOf(vm);
    const dataDisk = vm.spec.dataDisk ?? 'Delete';
    if (!route.found) {
      const message = `Cannot deprovision: ${route.message}. To delete the VM without deprovisioning it, annotate it ${SKIP_DEPROVISION_ANNOTATION}=true (docs/operations.md).`;
      await report(vm, { phase: 'Terminating' }, [{ type: 'Ready', status: 'False', reason: route.reason, message }], {
        type: 'Warning',
        reason: route.reason,
        message,
      });
      return { requeueAfterMs: backoff(key) };
    }
    const xc = route.controller.metadata.name!;
    const provider = opts.providerFor(route.controller);
    let observed: Observation;
    try {
      observed = await provider.observe(vm);
    } catch (err) {
      return providerFailure(key, vm, err, `observe the VM at external controller ${xc} to deprovision it`, [], { phase: 'Terminating' });
    }
    failures.delete(key);
    const last = observed.lastOperation;
    noteFailedOperation(key, vm, last);
    const fields: Fields = last ? { lastOperation: last } : {};
    if (!observed.exists && last?.type === 'Delete' && last.state === 'Succeeded') {
      return release(`Deprovisioned by ${xc}${last.message ? ` (${last.message})` : ''}.`);
    }
    if (last && isActive(last)) {
      // A delete (ours) runs, or another operation must finish before the machine can go.
      const message =
        last.type === 'Delete'
          ? `Deprovisioning at ${xc} (operation ${last.id}, data disk ${dataDisk}).`
          : `Waiting for operation ${last.id} (${last.type}) at ${xc} to finish before deprovisioning.`;
      await report(vm, { ...fields, phase: 'Terminating' }, [{ type: 'Ready', status: 'False', reason: lifecycleReasons.deprovisioning, message }]);
      return resync();
    }
    // The deletionTimestamp is the intent; phase Terminating is written once the delete is
    // seen running (just above, on the report that wakes the next reconcile), so a delete that
    // finishes at once costs no status write. No Event either: the deletion is the user's own
    // request, and Released reports the outcome.
    let op: OperationRef;
    try {
      op = await provider.delete(vm, { dataDisk });
    } catch (err) {
      return providerFailure(key, vm, err, `deprovision the VM at external controller ${xc}`, [], { phase: 'Terminating' });
    }
    if (op.state === 'Succeeded') return release(`Deprovisioned by ${xc}${op.message ? ` (${op.message})` : ''}.`);
    return resync();
  }

  function forget(key: string): void {
    failures.delete(key);
    failedOpsReported.delete(key);
    replaced.delete(key);
  }

  /**
   * A write that lost a race (409: the external controller's report, or another write, came
   * first) is not an error to back off from: the watch event of that newer version queues
   * the VM again, and its reconcile decides afresh. Thrown, it would also go through the
   * queue's shared retry budget (10 per second for all keys), which 409s alone can exhaust
   * when thousands of VMs change at once.
   */
  const requeueOnConflict = async (work: () => Promise<Result>): Promise<Result> => {
    try {
      return await work();
    } catch (err) {
      if (isConflict(err)) return resync();
      throw err;
    }
  };

  return {
    lifecycle: (key, vm) => requeueOnConflict(() => lifecycle(key, vm)),
    deprovision: (key, vm) => requeueOnConflict(() => deprovision(key, vm)),
    forget,
  };
}

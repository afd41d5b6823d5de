// The external half of the VirtualMachine controller: a placed VM's machine at its external
// controller (docs/external-controller-protocol.md, section 6), and deprovisioning on delete.
// reconciler.ts places a VM, then hands it here on every reconcile.
//
// Level-based: each reconcile decides from what the machine is now: as observed, or as the
// status reports of this process's own last request say between observes (machine-ledger.ts,
// which tells when to observe). Requests are idempotent by key, so a repeat after a crash, a
// timeout or a lost answer is the same operation (create by uid + generation, power by
// requestId, delete by deletionTimestamp):
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
// lifecycle() reads as its steps, each a function below: route (unrouted), observe, then
// create / awaitCreate / recreateDeletedExternally while there is no machine, and awaitBoot,
// update, restart, power and settle (Running or Stopped) once there is; deprovision on delete.
//
// Every failure does the same three things: a condition with the provider's constant reason,
// a Warning Event when that reason is new (shared/context.ts reportStatus), and a retry
// with per-VM exponential back-off.
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import { getCondition, type Condition } from '../../machinery/conditions.js';
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
import { jitter } from '../../runtime/backoff.js';
import { keyString, parseKey, type ObjectKey } from '../../runtime/keys.js';
import type { Result } from '../../runtime/reconciler.js';
import { cacheIsBehind, forgetWrites, isStaleCache, reportStatus, type Cond, type ControllerContext, type EventSpec } from '../shared/context.js';
import { Kinds } from '../shared/resources-of-kinds.js';
import { MachineLedger } from './machine-ledger.js';
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

type Fields = Record<string, unknown>;

/** A running operation is observed when its reports have not ended it within this time. */
export const OPERATION_CHECK_MS = 5_000;

export interface LifecycleOptions {
  providerFor: (controller: ExternalController) => VirtualMachineProvider;
  /** How often a VM is observed for drift when nothing else happens. */
  resyncMs: number;
  /** First retry after a provider failure; doubles per failure in a row, up to 32 times. */
  providerRetryMs: number;
  /** How long a running operation is taken from its reports before it is observed (default OPERATION_CHECK_MS). */
  operationCheckMs?: number;
  /** The source of jitter, in [0, 1); tests fix it. */
  random?: () => number;
}

export interface VmLifecycle {
  /** A placed VM that is not being deleted. */
  lifecycle(key: string, vm: VirtualMachine): Promise<Result>;
  /** A VM with a deletionTimestamp. */
  deprovision(key: ObjectKey, vm: VirtualMachine): Promise<Result>;
  /** The VM is gone: drops what is remembered about it. */
  forget(key: string): void;
  /** The VM was just placed and nothing sent for it: it has no machine (no observe needed). */
  unbuilt(key: string): void;
  /** A version of the VM from the watch, whether or not a reconcile will see it. */
  noteReport(key: string, vm: VirtualMachine): void;
}

/** What one reconcile of a placed VM knows once its machine is observed. */
interface Turn {
  key: string;
  /** The VM as last written by this reconcile (or as cached). */
  vm: VirtualMachine;
  xc: string;
  provider: VirtualMachineProvider;
  host: string | undefined;
  observed: Observation;
  last: Operation | undefined;
  /** The operation running at the external controller, if one is. */
  running: Operation | undefined;
  generation: number;
  strategy: NonNullable<VirtualMachine['spec']['runStrategy']>;
  stopPolicy: NonNullable<VirtualMachine['spec']['stopPolicy']>;
  /** Conditions set by placement, stated again so each carries the current generation. */
  base: Cond[];
  /** Status fields this reconcile reports (lastOperation, then what the machine shows). */
  fields: Fields;
  provisionedBefore: boolean;
}

/** A Turn whose machine exists. */
interface MachineTurn extends Turn {
  on: boolean;
  provisioned: Cond;
  withProvisioned: Cond[];
  /** Events recorded after the next status write (Provisioned, Restarted). */
  after: EventSpec[];
}

const isActive = (op: Operation): boolean => op.state === 'Pending' || op.state === 'Running';

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
  const c = conditionOf(vm, type);
  return c ? { type: c.type, status: c.status, reason: c.reason, message: c.message } : undefined;
}

function conditionOf(vm: VirtualMachine, type: string): Condition | undefined {
  return getCondition(vm.status?.conditions as Condition[] | undefined, type);
}

export function vmLifecycle(ctx: ControllerContext, opts: LifecycleOptions): VmLifecycle {
  const { resyncMs, providerRetryMs: retryMs } = opts;
  const operationCheckMs = opts.operationCheckMs ?? OPERATION_CHECK_MS;
  const random = opts.random ?? Math.random;
  /**
   * Provider failures in a row, per VM key: the back-off exponent. Not the work queue's
   * back-off: a failure is reported (condition, Event) and answered with a delay, because the
   * queue's retries start at 5 ms and share one budget (10 per second) across all keys, which
   * one failing external controller with thousands of VMs would exhaust for every other VM.
   */
  const failures = new Map<string, number>();
  /** What is known of each machine without asking (machine-ledger.ts). */
  const ledger = new MachineLedger({ resyncMs, activeTrustMs: operationCheckMs, now: () => ctx.now().getTime() });
  /** Per VM key, the id of the last Failed operation an Event was recorded for. */
  const failedOpsReported = new Map<string, string>();

  const backoff = (key: string): number => {
    const n = Math.min((failures.get(key) ?? 0) + 1, 6);
    failures.set(key, n);
    return jitter(retryMs * 2 ** (n - 1), random);
  };
  const resync = (): Result => ({ requeueAfterMs: jitter(resyncMs, random) });
  /**
   * An operation runs, or was just asked for: its reports should end it, but one may be lost,
   * refused or delivered out of order (a Running report sent again after the Succeeded one).
   * So the VM is looked at again within operationCheckMs, and observed then if its status
   * still shows the operation running (machine-ledger.ts).
   */
  const awaitOperation = (): Result => ({ requeueAfterMs: jitter(Math.min(resyncMs, operationCheckMs), random) });

  /** The shared status writer (shared/context.ts), answering the VM as written or as it was. */
  const report = async (vm: VirtualMachine, fields: Fields, conditions: Cond[], event?: EventSpec): Promise<VirtualMachine> =>
    (await reportStatus(ctx, Kinds.VirtualMachine, vm, fields, conditions, event)).obj;

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
    ledger.forget(key);
    if (err instanceof ProviderRejected && ([errorCodes.operationInProgress, errorCodes.notFound, errorCodes.staleGeneration] as string[]).includes(err.code ?? '')) {
      return { requeueAfterMs: jitter(retryMs, random) };
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

  // -- the steps of lifecycle() ------------------------------------------------------------

  /** Route: no ExternalController serves the VM (or the one that holds it is gone). */
  async function unrouted(key: string, vm: VirtualMachine, route: Extract<Route, { found: false }>, base: Cond[]): Promise<Result> {
    const conditions: Cond[] = conditionOf(vm, 'Provisioned')?.status === 'True'
      ? [...base, { type: 'Ready', status: 'Unknown', reason: route.reason, message: route.message }]
      : [...base, { type: 'Provisioned', status: 'False', reason: route.reason, message: route.message }, { type: 'Ready', status: 'False', reason: route.reason, message: route.message }];
    await report(vm, {}, conditions, { type: 'Warning', reason: route.reason, message: route.message });
    return { requeueAfterMs: backoff(key) };
  }

  /**
   * The machine as the ledger knows it from the status reports, or as observed now (and
   * recorded). Throws what observe throws.
   */
  async function machineOf(key: string, vm: VirtualMachine, provider: VirtualMachineProvider): Promise<Observation> {
    const known = ledger.observation(key, vm);
    if (known) return known;
    const observed = await provider.observe(vm);
    failures.delete(key);
    ledger.observed(key, vm, observed);
    return observed;
  }

  /** Observe: the machine at its external controller, and what the reconcile knows from it. */
  async function observe(key: string, vm: VirtualMachine, controller: ExternalController, base: Cond[]): Promise<Turn | Result> {
    const xc = controller.metadata.name!;
    const provider = opts.providerFor(controller);
    // The external controller is recorded before the first create is sent (create()), so a VM
    // without one has no machine anywhere: nothing to ask. A create of a machine that exists
    // after all is answered as done, never built twice (protocol §2, rule 3).
    if (!vm.status?.externalController) return turn(key, vm, xc, provider, base, { exists: false, upToDate: false, addresses: [] });
    let observed: Observation;
    try {
      observed = await machineOf(key, vm, provider);
    } catch (err) {
      return providerFailure(key, vm, err, `observe the VM at external controller ${xc}`, base);
    }
    return turn(key, vm, xc, provider, base, observed);
  }

  function turn(key: string, vm: VirtualMachine, xc: string, provider: VirtualMachineProvider, base: Cond[], observed: Observation): Turn {
    const last = observed.lastOperation;
    noteFailedOperation(key, vm, last);
    return {
      key,
      vm,
      xc,
      provider,
      host: vm.status?.placement?.baremetal,
      observed,
      last,
      running: last && isActive(last) ? last : undefined,
      generation: vm.metadata.generation ?? 1,
      strategy: vm.spec.runStrategy ?? 'Always',
      stopPolicy: vm.spec.stopPolicy ?? 'Graceful',
      base,
      fields: last ? { lastOperation: last } : {},
      provisionedBefore: conditionOf(vm, 'Provisioned')?.status === 'True',
    };
  }

  /** Await-create: no machine yet, the create that builds it is running. */
  async function awaitCreate(t: Turn, op: Operation): Promise<Result> {
    const driftBefore = conditionOf(t.vm, 'Provisioned')?.reason === lifecycleReasons.drift;
    const reason = driftBefore ? lifecycleReasons.drift : lifecycleReasons.provisioning;
    const message = `${driftBefore ? 'Re-creating the machine that disappeared' : 'Building the machine'} at ${t.xc} (operation ${op.id}).`;
    await report(t.vm, { ...t.fields, phase: 'Provisioning' }, [
      ...t.base,
      { type: 'Provisioned', status: 'False', reason, message },
      { type: 'Ready', status: 'False', reason, message: 'The VM is being provisioned.' },
    ]);
    return awaitOperation();
  }

  /** Create: no machine and nothing running; intent is written first, then the request. */
  async function create(t: Turn): Promise<Result> {
    const image = ctx.listers.images.get(t.vm.spec.image);
    if (!image) {
      const message = `Waiting for VirtualMachineImage "${t.vm.spec.image}" to exist to create the machine.`;
      await report(t.vm, { phase: 'Provisioning' }, [
        { type: 'ReferencesResolved', status: 'False', reason: 'MissingReferences', message },
        { type: 'Provisioned', status: 'False', reason: lifecycleReasons.missingImage, message },
        { type: 'Ready', status: 'False', reason: lifecycleReasons.missingImage, message },
      ], { type: 'Warning', reason: lifecycleReasons.missingImage, message });
      return {};
    }
    // A machine that had been provisioned and is gone without a delete: drift, repaired.
    if (t.provisionedBefore) {
      const message = `The machine no longer exists at ${t.xc}; re-creating it on ${t.host}.`;
      t.vm = await report(
        t.vm,
        { ...t.fields, phase: 'Provisioning', powerState: undefined, externalId: undefined, addresses: undefined },
        [...t.base, { type: 'Provisioned', status: 'False', reason: lifecycleReasons.drift, message }, { type: 'Ready', status: 'False', reason: lifecycleReasons.drift, message }],
        { type: 'Warning', reason: lifecycleReasons.drift, message },
      );
    } else if (t.vm.status?.phase !== 'Provisioning' && t.vm.status?.phase !== 'Failed') {
      t.vm = await report(t.vm, { ...t.fields, phase: 'Provisioning' }, t.base);
    }
    if (t.vm.status?.externalController !== t.xc) {
      // Recorded before the request, so a crash after it cannot lead to a second machine elsewhere.
      t.vm = await report(t.vm, { ...t.fields, phase: 'Provisioning', externalController: t.xc }, t.base);
    }
    const provision = {
      image: { name: image.metadata.name!, source: image.spec.source as never, format: (image.spec.format ?? 'qcow2') as never },
      powerOn: t.strategy !== 'Halted',
    };
    try {
      const op = await t.provider.create(t.vm, t.vm.status!.placement as never, provision);
      ledger.requested(t.key, t.vm, op, { exists: false, upToDate: false, addresses: [] }, t.generation);
    } catch (err) {
      if (!(err instanceof ProviderRejected && err.code === errorCodes.deleted)) {
        return providerFailure(t.key, t.vm, err, `create the VM at external controller ${t.xc}`, t.base);
      }
      return recreateDeletedExternally(t, provision);
    }
    // No Event for the request: the Provisioned condition names the operation while it
    // runs (from the report that follows), and its outcome is an Event (Running, Stopped,
    // CreateFailed).
    return awaitOperation();
  }

  /**
   * Create, answered "deleted": the uid's machine was deleted through the protocol, and not by
   * VirtFlow, since this VM is not being deleted. Checked on the API server itself, not the
   * cache, so a stale copy of a VM deleted since can never bring its machine back.
   */
  async function recreateDeletedExternally(t: Turn, provision: Parameters<VirtualMachineProvider['create']>[2]): Promise<Result> {
    const fresh = await ctx.client.find<VirtualMachine>(Kinds.VirtualMachine, { namespace: t.vm.metadata.namespace, name: t.vm.metadata.name! });
    if (!fresh || fresh.metadata.uid !== t.vm.metadata.uid || fresh.metadata.deletionTimestamp) return {};
    const message = `The machine was deleted at ${t.xc} by a request VirtFlow did not make; building it again on ${t.host}.`;
    t.vm = await report(t.vm, { phase: 'Provisioning' }, [
      ...t.base,
      { type: 'Provisioned', status: 'False', reason: lifecycleReasons.deletedExternally, message },
      { type: 'Ready', status: 'False', reason: lifecycleReasons.deletedExternally, message },
    ], { type: 'Warning', reason: lifecycleReasons.deletedExternally, message });
    try {
      const op = await t.provider.create(t.vm, t.vm.status!.placement as never, { ...provision, recreate: true });
      ledger.requested(t.key, t.vm, op, { exists: false, upToDate: false, addresses: [] }, t.generation);
    } catch (again) {
      return providerFailure(t.key, t.vm, again, `create the VM at external controller ${t.xc}`, t.base);
    }
    return awaitOperation();
  }

  /** The machine exists: what it shows becomes status fields, and Provisioned is True. */
  function machine(t: Turn): MachineTurn {
    const { observed } = t;
    t.fields.externalId = observed.externalId;
    t.fields.addresses = observed.addresses;
    t.fields.powerState = observed.powerState;
    const provisioned: Cond = {
      type: 'Provisioned',
      status: 'True',
      reason: lifecycleReasons.provisioned,
      message: `Provisioned by ${t.xc} on ${t.host}${observed.externalId ? ` as ${observed.externalId}` : ''}.`,
    };
    return {
      ...t,
      on: observed.powerState === 'On',
      provisioned,
      withProvisioned: [...t.base, provisioned],
      // The first time the machine is seen provisioned: an Event, folded into the Running or
      // Stopped one when the VM settles at once (one Event instead of two).
      after: t.provisionedBefore ? [] : [{ type: 'Normal', reason: lifecycleReasons.provisioned, message: provisioned.message }],
    };
  }

  const recordAfter = (t: MachineTurn) => {
    for (const e of t.after) ctx.events.record(t.vm, e.type, e.reason, e.message);
  };

  /** Await-create: built, the create not finished yet (booting, when it is to run). */
  async function awaitBoot(t: Turn, op: Operation): Promise<Result> {
    const phase = t.strategy !== 'Halted' ? 'Starting' : 'Provisioning';
    const message = `Built by ${t.xc} on ${t.host}; ${phase === 'Starting' ? 'booting' : 'finishing'} (operation ${op.id}).`;
    await report(t.vm, { ...t.fields, phase }, [
      ...t.base,
      { type: 'Provisioned', status: 'False', reason: lifecycleReasons.provisioning, message },
      { type: 'Ready', status: 'False', reason: phase === 'Starting' ? lifecycleReasons.starting : lifecycleReasons.provisioning, message },
    ]);
    return awaitOperation();
  }

  /** Reconcile-spec: the machine is older than the VM's generation; update it. */
  async function update(t: MachineTurn): Promise<Result> {
    t.vm = await report(t.vm, t.fields, t.withProvisioned);
    recordAfter(t);
    if (t.running) return awaitOperation();
    try {
      const op = await t.provider.update(t.vm);
      ledger.requested(t.key, t.vm, op, t.observed, t.generation);
    } catch (err) {
      return providerFailure(t.key, t.vm, err, `update the VM at external controller ${t.xc}`, t.withProvisioned);
    }
    return awaitOperation();
  }

  /**
   * Power, restart: restartAt is newer than the last restart. Answers a Result, or undefined
   * when this restartAt's restart is done and the reconcile goes on (recording restartedAt).
   */
  async function restart(t: MachineTurn): Promise<Result | undefined> {
    const restartAt = t.vm.spec.restartAt;
    if (t.strategy === 'Halted' || !isNewer(restartAt, t.vm.status?.restartedAt ?? t.vm.metadata.creationTimestamp)) return undefined;
    const message = `Restarting as requested at ${restartAt} (${t.stopPolicy}).`;
    const restarting: Cond[] = [...t.withProvisioned, { type: 'Ready', status: 'False', reason: lifecycleReasons.restarting, message }];
    if (t.running) {
      // A power operation running now is the restart (or one before it): Restarting.
      if (t.running.type === 'Power') await report(t.vm, { ...t.fields, phase: 'Restarting' }, restarting);
      return awaitOperation();
    }
    const wasRestarting = t.vm.status?.phase === 'Restarting';
    if (!wasRestarting) {
      t.vm = await report(t.vm, { ...t.fields, phase: 'Restarting' }, restarting, { type: 'Normal', reason: lifecycleReasons.restarting, message });
    }
    let op: OperationRef;
    try {
      op = await t.provider.power(t.vm, 'restart', { force: t.stopPolicy === 'Force', requestId: `restart:${restartAt}` });
      ledger.requested(t.key, t.vm, op, t.observed);
    } catch (err) {
      return providerFailure(t.key, t.vm, err, `restart the VM at external controller ${t.xc}`, t.withProvisioned);
    }
    // Running: the result arrives by report. Succeeded: this restartAt's restart was done
    // (the request answered the finished operation); record it, once the status is fresh.
    if (op.state !== 'Succeeded' || !wasRestarting) return op.state === 'Succeeded' ? { requeueAfterMs: 1 } : awaitOperation();
    t.fields.restartedAt = restartAt;
    t.after.push({ type: 'Normal', reason: lifecycleReasons.restarted, message: `Restarted as requested at ${restartAt} (operation ${op.operationId}).` });
    return undefined;
  }

  /** Power: runStrategy Always and off -> start; Halted and on -> stop (ExternalDrift when it was the other way). */
  async function power(t: MachineTurn, action: 'start' | 'stop'): Promise<Result> {
    const { vm, stopPolicy } = t;
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
    const failedBefore = vm.status?.phase === phase && !t.running && conditionOf(vm, 'Ready')?.reason !== reason;
    if (!failedBefore) {
      t.vm = await report(vm, { ...t.fields, phase }, [...t.withProvisioned, { type: 'Ready', status: 'False', reason, message }], event);
    }
    recordAfter(t);
    if (t.running) return awaitOperation();
    try {
      const op = await t.provider.power(t.vm, action, {
        force: action === 'stop' && stopPolicy === 'Force',
        // New after each operation on the uid, so a repair of drift is a new request,
        // while a repeat (crash, timeout) before anything else happened is the same one.
        requestId: `${action}:g${t.generation}:after:${t.last?.id ?? 'none'}`,
      });
      ledger.requested(t.key, t.vm, op, t.observed);
    } catch (err) {
      return providerFailure(t.key, t.vm, err, `${action} the VM at external controller ${t.xc}`, t.withProvisioned);
    }
    return awaitOperation();
  }

  /** Ready: steady, Running or Stopped; Manual never changes power. */
  async function settle(t: MachineTurn): Promise<Result> {
    const phase = t.on ? 'Running' : 'Stopped';
    const ready: Cond = t.on
      ? { type: 'Ready', status: 'True', reason: lifecycleReasons.running, message: 'The VM is running.' }
      : { type: 'Ready', status: 'False', reason: lifecycleReasons.stopped, message: `The VM is stopped (runStrategy ${t.strategy}).` };
    let event: EventSpec | undefined;
    if (t.vm.status?.phase !== phase) {
      const outside = t.strategy === 'Manual' && !t.running && (t.vm.status?.phase === 'Running' || t.vm.status?.phase === 'Stopped');
      const first = t.after.findIndex((e) => e.reason === lifecycleReasons.provisioned);
      if (first >= 0) t.after.splice(first, 1);
      event = outside
        ? { type: 'Normal', reason: lifecycleReasons.powerChanged, message: `The VM was switched ${t.on ? 'on' : 'off'} outside VirtFlow; runStrategy Manual leaves it so.` }
        : { type: 'Normal', reason: phase, message: first >= 0 ? `${t.provisioned.message} ${ready.message}` : ready.message };
    }
    t.vm = await report(t.vm, { ...t.fields, phase }, [...t.withProvisioned, ready], event);
    recordAfter(t);
    return resync();
  }

  /** The lifecycle of a placed VM, as the steps above: route, observe, create, update, power, ready. */
  async function lifecycle(key: string, vm: VirtualMachine): Promise<Result> {
    if (cacheIsBehind(ctx, Kinds.VirtualMachine, vm)) return {};
    const scheduled = restate(vm, 'Scheduled');
    const refs = placedReferencesCondition(vm, ctx.listers);
    const base: Cond[] = scheduled ? [refs, scheduled] : [refs];

    const route = routeOf(vm);
    if (!route.found) return unrouted(key, vm, route, base);
    const t = await observe(key, vm, route.controller, base);
    if (!('observed' in t)) return t;

    if (!t.observed.exists) {
      if (t.running?.type === 'Create') return awaitCreate(t, t.running);
      // Another operation (a delete, say) must finish first.
      if (t.running) return awaitOperation();
      return create(t);
    }
    const m = machine(t);
    if (m.running?.type === 'Create') return awaitBoot(m, m.running);
    if (!m.observed.upToDate) return update(m);
    const restarted = await restart(m);
    if (restarted) return restarted;
    const action = m.strategy === 'Always' && !m.on ? 'start' : m.strategy === 'Halted' && m.on ? 'stop' : undefined;
    if (action) return power(m, action);
    return settle(m);
  }

  // -------------------------------------------------------------------------------------

  async function deprovision(objectKey: ObjectKey, current: VirtualMachine): Promise<Result> {
    let vm = current;
    const key = keyString(objectKey);
    if (!(vm.metadata.finalizers ?? []).includes(VM_FINALIZER) || cacheIsBehind(ctx, Kinds.VirtualMachine, vm)) return {};
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
      observed = await machineOf(key, vm, provider);
    } catch (err) {
      return providerFailure(key, vm, err, `observe the VM at external controller ${xc} to deprovision it`, [], { phase: 'Terminating' });
    }
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
      return awaitOperation();
    }
    // The deletionTimestamp is the intent; phase Terminating is written once the delete is
    // seen running (just above, on the report that wakes the next reconcile), so a delete that
    // finishes at once costs no status write. No Event either: the deletion is the user's own
    // request, and Released reports the outcome.
    let op: OperationRef;
    try {
      op = await provider.delete(vm, { dataDisk });
      ledger.requested(key, vm, op, observed);
    } catch (err) {
      return providerFailure(key, vm, err, `deprovision the VM at external controller ${xc}`, [], { phase: 'Terminating' });
    }
    if (op.state === 'Succeeded') return release(`Deprovisioned by ${xc}${op.message ? ` (${op.message})` : ''}.`);
    return awaitOperation();
  }

  function forget(key: string): void {
    failures.delete(key);
    ledger.forget(key);
    failedOpsReported.delete(key);
    forgetWrites(ctx, Kinds.VirtualMachine, parseKey(key));
  }

  /**
   * A write that lost a race (409: the external controller's report, or another write, came
   * first; or a stale cache, which would answer 409) is not an error to back off from: the watch event of that newer version queues
   * the VM again, and its reconcile decides afresh. Thrown, it would also go through the
   * queue's shared retry budget (10 per second for all keys), which 409s alone can exhaust
   * when thousands of VMs change at once.
   */
  const requeueOnConflict = async (work: () => Promise<Result>): Promise<Result> => {
    try {
      return await work();
    } catch (err) {
      if (isConflict(err) || isStaleCache(err)) return resync();
      throw err;
    }
  };

  return {
    lifecycle: (key, vm) => requeueOnConflict(() => lifecycle(key, vm)),
    deprovision: (key, vm) => requeueOnConflict(() => deprovision(key, vm)),
    forget,
    unbuilt: (key) => ledger.unbuilt(key),
    noteReport: (key, vm) => ledger.noteReport(key, vm),
  };
}

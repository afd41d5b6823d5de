// The VirtualMachine controller, as named steps with early returns (crossplane style):
//   get -> deletion (deprovision, release, drop finalizer) -> finalizer -> references ->
//   placement -> route to the external controller -> observe -> create / update ->
//   power (runStrategy, restartAt) -> status.
// Every failure branch does the same three things: a Warning Event with a constant reason,
// a condition carrying that reason, and a retry. Reservations are VMs' status.placement.
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import { getCondition, type ConditionUpdate } from '../../machinery/conditions.js';
import type { VirtualMachineProvider, Observation, OperationRef } from '../../providers/external-client.js';
import { isProviderError } from '../../providers/external-client.js';
import { routeVirtualMachine } from '../../providers/routing.js';
import { keyString, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import type { PlacementRequest } from '../../scheduler/types.js';
import { hostLocation, tenantOfNamespace } from '../inventory/accounting.js';
import { nextStatus, writeStatus, type ControllerContext } from '../shared/context.js';
import { Kinds } from '../shared/resources-of-kinds.js';
import { fromAmounts, toAmounts } from '../shared/resources.js';
import type { Placer } from './placer.js';

export const VM_FINALIZER = 'virtflow.io/vm-protection';
/** Set to "true" by an operator to delete a VM whose external controller is gone for good. */
export const SKIP_DEPROVISION_ANNOTATION = 'virtflow.io/skip-deprovision';

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

type Cond = Omit<ConditionUpdate, 'observedGeneration'>;

export interface VmControllerOptions {
  /** The provider for an ExternalController; tests inject a fake. */
  providerFor: (controller: import('../../kinds/externalcontroller.js').ExternalController) => VirtualMachineProvider;
  /** How often a VM is observed for drift when nothing else happens. */
  resyncMs?: number;
  /** Provider failures are retried after this long (with jitter), not with the queue's back-off. */
  providerRetryMs?: number;
}

function isoNow(ctx: ControllerContext): string {
  return ctx.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function jitter(ms: number): number {
  return Math.round(ms * (0.9 + Math.random() * 0.2));
}

export function virtualMachineReconciler(ctx: ControllerContext, placer: Placer, opts: VmControllerOptions): Reconciler {
  const resyncMs = opts.resyncMs ?? 30_000;
  const retryMs = opts.providerRetryMs ?? 2_000;

  /** Writes status with conditions and phase; Events only when a condition's reason changes. */
  const report = async (vm: VirtualMachine, fields: Record<string, unknown>, conditions: Cond[], event?: { type: 'Normal' | 'Warning'; reason: string; message: string }) => {
    const status = nextStatus(vm as never, fields, conditions, ctx.now());
    const wrote = await writeStatus(ctx, Kinds.VirtualMachine, vm as never, status);
    if (event && wrote) {
      const before = conditions.map((c) => getCondition(vm.status?.conditions as never, c.type)?.reason);
      const after = conditions.map((c) => c.reason);
      if (before.join() !== after.join() || event.type === 'Normal') ctx.events.record(vm, event.type, event.reason, event.message);
    }
    return wrote;
  };

  const resolveReferences = (vm: VirtualMachine): string[] => {
    const missing: string[] = [];
    if (!ctx.listers.specifications.get(vm.spec.specification)) missing.push(`VirtualMachineSpecification "${vm.spec.specification}"`);
    if (!ctx.listers.images.get(vm.spec.image)) missing.push(`VirtualMachineImage "${vm.spec.image}"`);
    if (vm.spec.group && !ctx.listers.groups.get(vm.spec.group)) missing.push(`BaremetalGroup "${vm.spec.group}"`);
    if (vm.spec.baremetal && !ctx.listers.hosts.get(vm.spec.baremetal)) missing.push(`Baremetal "${vm.spec.baremetal}"`);
    if (vm.spec.cluster && !ctx.listers.clusters.get(`${vm.metadata.namespace}/${vm.spec.cluster}`)) missing.push(`K8sCluster "${vm.spec.cluster}"`);
    if (!tenantOfNamespace(vm.metadata.namespace!, ctx.listers)) missing.push(`Tenant owning namespace "${vm.metadata.namespace}"`);
    return missing;
  };

  const place = async (key: string, vm: VirtualMachine): Promise<Result> => {
    if (placer.isAssumed(key)) return { requeueAfterMs: 1000 };
    const flavor = ctx.listers.specifications.get(vm.spec.specification)!;
    const resources = fromAmounts(flavor.spec as never);
    const request: PlacementRequest = {
      vm: key,
      tenant: tenantOfNamespace(vm.metadata.namespace!, ctx.listers)!,
      group: vm.spec.group,
      pinnedHost: vm.spec.baremetal,
      resources,
      strategy: vm.spec.placement?.strategy,
      regions: vm.spec.placement?.regions as string[] | undefined,
      datacenters: vm.spec.placement?.datacenters,
      racks: vm.spec.placement?.racks,
      spreadAcross: vm.spec.placement?.spreadAcross,
      spreadKey: vm.spec.placement?.spreadKey,
    };
    const result = placer.place(key, request);
    if (!result.ok) {
      await report(
        vm,
        { phase: 'Unschedulable' },
        [
          { type: 'Scheduled', status: 'False', reason: reasons.unschedulable, message: result.diagnosis.message },
          { type: 'Ready', status: 'False', reason: reasons.unschedulable, message: 'The VM is not placed.' },
        ],
        { type: 'Warning', reason: 'FailedScheduling', message: result.diagnosis.message },
      );
      // Capacity and quota changes requeue it too; this is only a safety net.
      return { requeueAfterMs: jitter(resyncMs) };
    }
    const host = ctx.listers.hosts.get(result.host)!;
    const { location } = hostLocation(host, ctx.listers);
    try {
      await report(
        vm,
        {
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
      placer.forget(key);
      throw err;
    }
    return {};
  };

  const providerFailure = async (vm: VirtualMachine, err: unknown, conditionType: 'Provisioned' | 'Ready', what: string): Promise<Result> => {
    if (!isProviderError(err)) throw err;
    await report(
      vm,
      {},
      [{ type: conditionType, status: 'False', reason: err.reason, message: `Cannot ${what}: ${err.message}` }],
      { type: 'Warning', reason: err.reason, message: `Cannot ${what}: ${err.message}` },
    );
    return { requeueAfterMs: jitter(retryMs) };
  };

  const deprovision = async (key: ObjectKey, vm: VirtualMachine): Promise<Result> => {
    const finalizers = vm.metadata.finalizers ?? [];
    if (!finalizers.includes(VM_FINALIZER)) return {};
    const release = async () => {
      await ctx.client.patch(Kinds.VirtualMachine, key, 'merge', {
        metadata: { finalizers: finalizers.filter((f) => f !== VM_FINALIZER), resourceVersion: vm.metadata.resourceVersion },
      });
      ctx.events.record(vm, 'Normal', 'Released', `Released the reservation on ${vm.status?.placement?.baremetal ?? 'no host'}.`);
    };
    const placed = vm.status?.placement?.baremetal;
    if (!placed || vm.metadata.annotations?.[SKIP_DEPROVISION_ANNOTATION] === 'true') {
      if (placed) ctx.events.record(vm, 'Warning', 'DeprovisionSkipped', `Deleted without deprovisioning on ${placed}, as annotation ${SKIP_DEPROVISION_ANNOTATION} asks.`);
      await release();
      return {};
    }
    const route = routeVirtualMachine(ctx.listers.externalControllers.list(), vm);
    if (!route.found) {
      await report(vm, { phase: 'Terminating' }, [{ type: 'Ready', status: 'False', reason: route.reason, message: `Cannot deprovision: ${route.message}. To delete without deprovisioning, annotate ${SKIP_DEPROVISION_ANNOTATION}=true.` }], {
        type: 'Warning',
        reason: route.reason,
        message: route.message,
      });
      return { requeueAfterMs: jitter(retryMs * 5) };
    }
    const provider = opts.providerFor(route.controller);
    let observed: Observation;
    try {
      observed = await provider.observe(vm);
      if (!observed.exists) {
        await release();
        return {};
      }
      const op = await provider.delete(vm, { dataDisk: vm.spec.dataDisk ?? 'Delete' });
      await report(vm, { phase: 'Terminating', lastOperation: operationStatus(op, vm, ctx) }, [
        { type: 'Ready', status: 'False', reason: reasons.deprovisioning, message: `Deprovisioning (data disk: ${vm.spec.dataDisk ?? 'Delete'}).` },
      ]);
      return { requeueAfterMs: jitter(retryMs) };
    } catch (err) {
      return providerFailure(vm, err, 'Ready', 'deprovision the VM');
    }
  };

  return {
    async reconcile(_rc, objectKey: ObjectKey): Promise<Result> {
      const key = keyString(objectKey);
      const vm = ctx.listers.vms.get(key);
      if (!vm) {
        placer.forget(key);
        return {};
      }
      if (vm.metadata.deletionTimestamp) return deprovision(objectKey, vm);
      const finalizers = vm.metadata.finalizers ?? [];
      if (!finalizers.includes(VM_FINALIZER)) {
        await ctx.client.patch(Kinds.VirtualMachine, objectKey, 'merge', {
          metadata: { finalizers: [...finalizers, VM_FINALIZER], resourceVersion: vm.metadata.resourceVersion },
        });
        return {};
      }
      const placed = vm.status?.placement?.baremetal;
      if (!placed) {
        const missing = resolveReferences(vm);
        if (missing.length > 0) {
          const message = `Waiting for ${missing.join(', ')} to exist.`;
          await report(vm, { phase: 'Pending' }, [
            { type: 'ReferencesResolved', status: 'False', reason: 'MissingReferences', message },
            { type: 'Scheduled', status: 'False', reason: reasons.waitingForReferences, message },
            { type: 'Ready', status: 'False', reason: reasons.waitingForReferences, message },
          ], { type: 'Warning', reason: reasons.waitingForReferences, message });
          return {};
        }
        return place(key, vm);
      }
      return lifecycle(vm);
    },
  };

  async function lifecycle(vm: VirtualMachine): Promise<Result> {
    const route = routeVirtualMachine(ctx.listers.externalControllers.list(), vm);
    const refs: Cond = { type: 'ReferencesResolved', status: 'True', reason: 'Resolved', message: 'Every referenced object exists.' };
    if (!route.found) {
      await report(vm, {}, [refs, { type: 'Provisioned', status: 'False', reason: route.reason, message: route.message }], {
        type: 'Warning',
        reason: route.reason,
        message: route.message,
      });
      return { requeueAfterMs: jitter(retryMs * 5) };
    }
    const provider = opts.providerFor(route.controller);
    let observed: Observation;
    try {
      observed = await provider.observe(vm);
    } catch (err) {
      return providerFailure(vm, err, 'Provisioned', `reach external controller ${route.controller.metadata.name}`);
    }
    const generation = vm.metadata.generation ?? 1;

    if (!observed.exists) {
      const wasProvisioned = getCondition(vm.status?.conditions as never, 'Provisioned')?.status === 'True';
      const last = observed.lastOperation;
      if (last && last.type === 'Create' && (last.state === 'Pending' || last.state === 'Running')) {
        await report(vm, { phase: 'Provisioning', lastOperation: last }, [refs]);
        return { requeueAfterMs: jitter(resyncMs) };
      }
      const image = ctx.listers.images.get(vm.spec.image);
      if (!image) return {};
      try {
        const op = await provider.create(vm, vm.status!.placement as never, {
          image: { name: image.metadata.name!, source: image.spec.source as never, format: (image.spec.format ?? 'qcow2') as never },
          powerOn: (vm.spec.runStrategy ?? 'Always') !== 'Halted',
        });
        const conditions: Cond[] = [refs, { type: 'Provisioned', status: 'False', reason: reasons.provisioning, message: `Create requested from ${route.controller.metadata.name} (operation ${op.operationId}).` }];
        await report(vm, { phase: 'Provisioning', lastOperation: operationStatus(op, vm, ctx) }, conditions,
          wasProvisioned
            ? { type: 'Warning', reason: reasons.drift, message: `The external controller no longer has this VM; re-creating it on ${vm.status?.placement?.baremetal}.` }
            : { type: 'Normal', reason: 'CreateRequested', message: `Asked ${route.controller.metadata.name} to create the VM (operation ${op.operationId}).` });
        return { requeueAfterMs: jitter(resyncMs) };
      } catch (err) {
        return providerFailure(vm, err, 'Provisioned', 'create the VM');
      }
    }

    const fields: Record<string, unknown> = {
      externalId: observed.externalId,
      addresses: observed.addresses,
      powerState: observed.powerState,
    };
    if (observed.lastOperation) fields.lastOperation = observed.lastOperation;
    const provisioned: Cond = { type: 'Provisioned', status: 'True', reason: reasons.provisioned, message: `Provisioned by ${route.controller.metadata.name} on ${vm.status?.placement?.baremetal}.` };
    const busy = observed.lastOperation && (observed.lastOperation.state === 'Pending' || observed.lastOperation.state === 'Running');

    try {
      if (!observed.upToDate && !busy) {
        const op = await provider.update(vm);
        await report(vm, { ...fields, lastOperation: operationStatus(op, vm, ctx) }, [refs, provisioned]);
        return { requeueAfterMs: jitter(resyncMs) };
      }
      const strategy = vm.spec.runStrategy ?? 'Always';
      const restartWanted = vm.spec.restartAt !== undefined && vm.spec.restartAt !== vm.status?.restartedAt && strategy !== 'Halted';
      if (restartWanted) {
        const requestId = `restart:${vm.spec.restartAt}`;
        const last = observed.lastOperation;
        if (last && last.type === 'Power' && last.id && last.state === 'Succeeded' && vm.status?.lastOperation?.id === last.id && vm.status?.phase === 'Restarting') {
          fields.restartedAt = vm.spec.restartAt;
        } else {
          if (!busy) {
            const op = await provider.power(vm, 'restart', { force: vm.spec.stopPolicy === 'Force', requestId });
            fields.lastOperation = operationStatus(op, vm, ctx);
          }
          await report(vm, { ...fields, phase: 'Restarting' }, [refs, provisioned, { type: 'Ready', status: 'False', reason: 'Restarting', message: `Restarting as requested at ${vm.spec.restartAt}.` }], {
            type: 'Normal',
            reason: 'Restarting',
            message: `Restart requested (restartAt ${vm.spec.restartAt}).`,
          });
          return { requeueAfterMs: jitter(resyncMs) };
        }
      }
      const on = observed.powerState === 'On';
      if (strategy === 'Always' && !on) {
        if (!busy) {
          const driftRepair = vm.status?.powerState === 'On' && vm.status?.phase === 'Running';
          const op = await provider.power(vm, 'start', { requestId: `start:g${generation}:${vm.status?.lastOperation?.id ?? 'initial'}` });
          fields.lastOperation = operationStatus(op, vm, ctx);
          if (driftRepair) ctx.events.record(vm, 'Warning', reasons.drift, 'The VM was found off while runStrategy is Always; starting it.');
        }
        await report(vm, { ...fields, phase: 'Starting' }, [refs, provisioned, { type: 'Ready', status: 'False', reason: 'Starting', message: 'The VM is starting.' }]);
        return { requeueAfterMs: jitter(resyncMs) };
      }
      if (strategy === 'Halted' && on) {
        if (!busy) {
          const op = await provider.power(vm, 'stop', { force: vm.spec.stopPolicy === 'Force', requestId: `stop:g${generation}:${vm.status?.lastOperation?.id ?? 'initial'}` });
          fields.lastOperation = operationStatus(op, vm, ctx);
        }
        await report(vm, { ...fields, phase: 'Stopping' }, [refs, provisioned, { type: 'Ready', status: 'False', reason: 'Stopping', message: `The VM is stopping (${vm.spec.stopPolicy ?? 'Graceful'}).` }], {
          type: 'Normal',
          reason: 'Stopping',
          message: `Stopping the VM (${vm.spec.stopPolicy ?? 'Graceful'}).`,
        });
        return { requeueAfterMs: jitter(resyncMs) };
      }
      const phase = on ? 'Running' : 'Stopped';
      const readyCond: Cond = on
        ? { type: 'Ready', status: 'True', reason: reasons.running, message: 'The VM is running.' }
        : { type: 'Ready', status: 'False', reason: 'Stopped', message: `The VM is stopped (runStrategy ${strategy}).` };
      await report(vm, { ...fields, phase }, [refs, provisioned, readyCond], on && vm.status?.phase !== 'Running' ? { type: 'Normal', reason: 'Running', message: 'The VM is running.' } : undefined);
      return { requeueAfterMs: jitter(resyncMs) };
    } catch (err) {
      return providerFailure(vm, err, 'Ready', 'change the VM');
    }
  }
}

function operationStatus(op: OperationRef, vm: VirtualMachine, ctx: ControllerContext) {
  const same = vm.status?.lastOperation?.id === op.operationId;
  return {
    type: op.type,
    id: op.operationId,
    state: op.state,
    startedAt: same && vm.status?.lastOperation?.startedAt ? vm.status.lastOperation.startedAt : isoNow(ctx),
    ...(op.message ? { message: op.message } : {}),
  };
}

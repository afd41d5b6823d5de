// The VM half of a drain: moves one VM whose status.migration is Running to its target host
// through the VM's external controller. The drain controller (drain.ts) decided the move and
// reserved the target; while it runs the VM holds both reservations (reservation.ts), and the
// VM controller hands such a VM here instead of to lifecycle.ts.
//
//   Migrate (the controller announced the capability migrate): one Migrate operation; once
//     observe reports it Succeeded, status.placement becomes the target in the same write
//     that ends the move, so the old reservation is released exactly when the new one is the
//     VM's own.
//   Recreate (it did not): the machine is deleted on the old host, with its data disk (a disk
//     cannot follow a re-create to another host; drain.ts never re-creates a VM whose
//     dataDisk is Retain), status.placement becomes the target (stage Creating), then the
//     machine is built there. The uid is the machine's identity in the protocol, so the old
//     and the new machine cannot exist at once: the old one goes first. Only the reservation
//     is held on both hosts from the start, so the VM is sure of its place.
//
// Requests are idempotent by requestId `migrate:<startedAt>` (delete, migrate) and by uid +
// generation (create), and each step decides from what observe reports now.
import type { ExternalController } from '../../kinds/externalcontroller.js';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import { getCondition, type Condition } from '../../machinery/conditions.js';
import { isProviderError, type VirtualMachineProvider } from '../../providers/external-client.js';
import { jitter } from '../../runtime/backoff.js';
import type { Result } from '../../runtime/reconciler.js';
import { isConflict } from '../../runtime/client.js';
import { isStaleCache, reportStatus, type Cond, type ControllerContext } from '../shared/context.js';
import { Kinds } from '../shared/resources-of-kinds.js';

export const moveReasons = {
  migrating: 'Migrating',
  recreating: 'Recreating',
  migrated: 'Migrated',
  recreated: 'Recreated',
  moveFailed: 'MoveFailed',
} as const;

type Migration = NonNullable<NonNullable<VirtualMachine['status']>['migration']>;

export interface MoverOptions {
  providerFor: (controller: ExternalController) => VirtualMachineProvider;
  resyncMs: number;
  providerRetryMs: number;
  /** The source of jitter, in [0, 1); tests fix it. */
  random?: () => number;
}

export interface VmMover {
  /** One step of the move of a VM whose status.migration is Running. */
  step(vm: VirtualMachine): Promise<Result>;
}

export function vmMover(ctx: ControllerContext, opts: MoverOptions): VmMover {
  const random = opts.random ?? Math.random;
  const isoNow = () => ctx.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const resync = (): Result => ({ requeueAfterMs: jitter(Math.min(opts.resyncMs, 1000), random) });

  /** The shared status writer; the move records its own Events. */
  const write = async (vm: VirtualMachine, fields: Record<string, unknown>, conditions: Cond[]): Promise<VirtualMachine> =>
    (await reportStatus(ctx, Kinds.VirtualMachine, vm, fields, conditions)).obj;

  const movingCondition = (m: Migration, message: string, reason?: string): Cond => ({
    type: 'Migrating',
    status: 'True',
    reason: reason ?? (m.method === 'Migrate' ? moveReasons.migrating : moveReasons.recreating),
    message,
  });

  /** A provider failure: the move goes on; the condition and one Warning Event say why it waits. */
  const failed = async (vm: VirtualMachine, m: Migration, err: unknown, what: string): Promise<Result> => {
    if (!isProviderError(err)) throw err;
    const message = `Cannot ${what}: ${err.message}; trying again.`;
    const before = getCondition(vm.status?.conditions as Condition[] | undefined, 'Migrating')?.reason;
    await write(vm, {}, [movingCondition(m, message, err.reason)]);
    if (before !== err.reason) ctx.events.record(vm, 'Warning', moveReasons.moveFailed, message);
    return { requeueAfterMs: jitter(opts.providerRetryMs * 4, random) };
  };

  /** Ends the move: the target is the VM's placement, the source's reservation is released. */
  const finish = async (vm: VirtualMachine, m: Migration, how: string): Promise<Result> => {
    const target = m.target!;
    const done: Migration = { ...m, state: 'Succeeded', finishedAt: isoNow() };
    delete done.stage;
    await write(
      vm,
      { placement: { ...target, scheduledAt: isoNow() }, migration: done },
      [{ type: 'Migrating', status: 'False', reason: m.method === 'Migrate' ? moveReasons.migrated : moveReasons.recreated, message: how }],
    );
    ctx.events.record(vm, 'Normal', m.method === 'Migrate' ? moveReasons.migrated : moveReasons.recreated, how);
    return {};
  };

  async function step(current: VirtualMachine): Promise<Result> {
    let vm = current;
    const m = vm.status!.migration!;
    const source = m.source?.baremetal ?? '?';
    const target = m.target?.baremetal;
    const holder = vm.status?.externalController;
    const controller = holder ? ctx.listers.externalControllers.get(holder) : undefined;
    if (!target || !controller) {
      // Nothing to move through (never provisioned, or its controller is gone): drain.ts
      // starts moves only for provisioned VMs, so this is a registration deleted meanwhile.
      await write(vm, {}, [movingCondition(m, `Waiting for the ExternalController "${holder ?? ''}" that holds the machine.`, 'NoExternalController')]);
      return { requeueAfterMs: jitter(opts.providerRetryMs * 4, random) };
    }
    const xc = controller.metadata.name!;
    const provider = opts.providerFor(controller);
    const requestId = `migrate:${m.startedAt ?? vm.metadata.generation}`;
    let observed;
    try {
      observed = await provider.observe(vm);
    } catch (err) {
      return failed(vm, m, err, `observe the VM at ${xc} to move it`);
    }
    const last = observed.lastOperation;
    const busy = last !== undefined && (last.state === 'Pending' || last.state === 'Running');
    const fields: Record<string, unknown> = last ? { lastOperation: last } : {};

    if (m.stage === 'Creating') {
      if (observed.exists || (busy && last.type === 'Create')) {
        return finish(vm, m, `Re-created by ${xc} on ${target} (it was on ${source}); the data disk was not kept.`);
      }
      if (busy) return resync();
      // Built again only for a VM that exists and is not being deleted, asked of the server.
      const fresh = await ctx.client.find<VirtualMachine>(Kinds.VirtualMachine, { namespace: vm.metadata.namespace, name: vm.metadata.name! });
      if (!fresh || fresh.metadata.uid !== vm.metadata.uid || fresh.metadata.deletionTimestamp) return {};
      const image = ctx.listers.images.get(vm.spec.image);
      if (!image) {
        await write(vm, {}, [movingCondition(m, `Waiting for VirtualMachineImage "${vm.spec.image}" to build the machine on ${target}.`, 'WaitingForReferences')]);
        return { requeueAfterMs: jitter(opts.providerRetryMs * 4, random) };
      }
      try {
        await provider.create(vm, vm.status!.placement as never, {
          image: { name: image.metadata.name!, source: image.spec.source as never, format: (image.spec.format ?? 'qcow2') as never },
          powerOn: (vm.spec.runStrategy ?? 'Always') !== 'Halted',
          recreate: true,
        });
      } catch (err) {
        return failed(vm, m, err, `build the VM on ${target} at ${xc}`);
      }
      return finish(vm, m, `Re-created by ${xc} on ${target} (it was on ${source}); the data disk was not kept.`);
    }

    if (m.method === 'Migrate' && observed.exists) {
      if (last?.type === 'Migrate' && last.id === m.operationId && last.state === 'Succeeded') {
        return finish(vm, m, `Migrated live by ${xc} from ${source} to ${target} (operation ${last.id}).`);
      }
      if (busy) {
        await write(vm, { ...fields, phase: 'Migrating' }, [movingCondition(m, `Moving from ${source} to ${target} at ${xc} (operation ${last.id}).`)]);
        return resync();
      }
      if (!provider.migrate) {
        await write(vm, {}, [movingCondition(m, `The provider of ${xc} cannot migrate; the move waits.`, 'MigrateUnsupported')]);
        return { requeueAfterMs: jitter(opts.resyncMs, random) };
      }
      if (last?.type === 'Migrate' && last.id === m.operationId && last.state === 'Failed') {
        // Once per failed operation: the retry below answers a new operation id.
        ctx.events.record(vm, 'Warning', moveReasons.moveFailed, `Operation ${last.id} (Migrate to ${target}) failed: ${last.message ?? 'no message'}; trying again.`);
      }
      let op;
      try {
        op = await provider.migrate(vm, m.target as never, { requestId });
      } catch (err) {
        return failed(vm, m, err, `migrate the VM to ${target} at ${xc}`);
      }
      vm = await write(vm, { phase: 'Migrating', migration: { ...m, operationId: op.operationId } }, [
        movingCondition(m, `Moving from ${source} to ${target} at ${xc} (operation ${op.operationId}).`),
      ]);
      return op.state === 'Succeeded' ? { requeueAfterMs: 1 } : resync();
    }

    // Recreate, or a machine that is gone already: delete it on the old host, then build.
    if (busy) {
      await write(vm, { ...fields, phase: 'Migrating' }, [
        movingCondition(m, `Waiting for operation ${last.id} (${last.type}) at ${xc} before moving to ${target}.`),
      ]);
      return resync();
    }
    if (observed.exists) {
      if (vm.status?.phase !== 'Migrating' || m.stage !== 'Deleting') {
        // Intent before the side effect: a crash after the request repeats the same request.
        vm = await write(vm, { phase: 'Migrating', migration: { ...m, stage: 'Deleting' } }, [
          movingCondition(m, `Deleting the machine on ${source} at ${xc} to build it again on ${target} (no live migration; the data disk is not kept).`),
          { type: 'Ready', status: 'False', reason: moveReasons.recreating, message: 'The VM is being re-created on another host.' },
        ]);
      }
      try {
        await provider.delete(vm, { dataDisk: 'Delete', requestId });
      } catch (err) {
        return failed(vm, m, err, `delete the VM on ${source} at ${xc} to re-create it`);
      }
      return resync();
    }
    // The old machine is gone: the target becomes the placement (one reservation again),
    // then the machine is built there (stage Creating, above, on the next reconcile).
    await write(
      vm,
      {
        ...fields,
        phase: 'Provisioning',
        placement: { ...m.target, scheduledAt: isoNow() },
        migration: { ...m, method: 'Recreate', stage: 'Creating' },
      },
      [
        movingCondition({ ...m, method: 'Recreate' }, `Building the machine again on ${target} at ${xc}.`),
        { type: 'Provisioned', status: 'False', reason: moveReasons.recreating, message: `Being re-created on ${target}.` },
        { type: 'Ready', status: 'False', reason: moveReasons.recreating, message: 'The VM is being re-created on another host.' },
      ],
    );
    return {};
  }

  return {
    async step(vm) {
      try {
        return await step(vm);
      } catch (err) {
        // Lost a race with the external controller's report or the drain's own write (or the
        // cache has not seen this process's last write, which would answer 409): the newer
        // version's event queues the VM again.
        if (isConflict(err) || isStaleCache(err)) return resync();
        throw err;
      }
    },
  };
}

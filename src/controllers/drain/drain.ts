// Drain, like `kubectl drain`: a host whose spec.state is Maintenance has its VMs moved to
// other hosts, a few at a time, and says on its status.drain how far it got and what is left.
//
// Per reconcile of a host in Maintenance, for each VM placed on it (not being deleted):
//   moving already (status.migration Running)                   -> counted as moving
//   annotation virtflow.io/evict: "false"                         -> leftover EvictionForbidden
//   pinned to the host (spec.baremetal)                           -> leftover PinnedToHost
//   not provisioned yet                                           -> waits (NotProvisioned)
//   its controller cannot migrate and its dataDisk is Retain      -> leftover DataDiskRetained
//   its tenant's spec.disruptionBudget.maxUnavailable is 0        -> leftover DisruptionBudget
//   the host's spec.drain.maxUnavailable, or the tenant's budget,
//     is used up by moves in progress                             -> waits (WaitingForBudget)
//   no other host fits (the scheduler's diagnosis, quota included) -> leftover Unschedulable
//   otherwise: the scheduler places it again (the same placer and assume cache as new VMs,
//     so no capacity or quota is promised twice), and status.migration records the target:
//     from then on the VM holds both reservations (reservation.ts) until move.ts ends it.
// Also left on the host, waiting, never moved: a VM being deleted (Terminating) until it is
// gone, a VM moving onto the host (MovingIn: a move that began before the Maintenance) and a
// placement this process decided onto it whose write the cache does not show yet
// (BeingPlaced); the first two are moved off once they land.
// Leftovers are counted by reason in status.drain.message. Drained: no VM is on the host or
// on its way to it. Blocked: VMs left and none of them moving or waiting.
//
// Decisions on budgets must see the moves this process started and the cache does not show
// yet: they are kept in `started` until it does, like the placer's assumptions.
import type { Baremetal } from '../../kinds/baremetal.js';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import { getCondition, type Condition } from '../../machinery/conditions.js';
import { capabilities } from '../../providers/protocol.js';
import { keyString, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import { formatReasons } from '../../scheduler/index.js';
import { hostLocation, tenantOfNamespace } from '../shared/accounting.js';
import { isStaleCache, nextStatus, writeStatus, type ControllerContext } from '../shared/context.js';
import { Kinds } from '../shared/resources-of-kinds.js';
import { fromAmounts } from '../shared/resources.js';
import { migrationKey, type Placer } from '../virtualmachine/placer.js';
import { placementRequest } from '../virtualmachine/placer.js';
import { moveReasons } from './move.js';
import { reservedHosts } from './reservation.js';

/** Set to "false" on a VM to forbid moving it off its host (it stays, a leftover). */
export const EVICT_ANNOTATION = 'virtflow.io/evict';

export const drainReasons = {
  evictionForbidden: 'EvictionForbidden',
  pinned: 'PinnedToHost',
  notProvisioned: 'NotProvisioned',
  dataDiskRetained: 'DataDiskRetained',
  disruptionBudget: 'DisruptionBudget',
  waitingForBudget: 'WaitingForBudget',
  unschedulable: 'Unschedulable',
  terminating: 'Terminating',
  movingIn: 'MovingIn',
  beingPlaced: 'BeingPlaced',
} as const;

/** Reasons that pass by themselves (a move ends, a create finishes, a delete ends): not Blocked. */
const waiting = new Set<string>([
  drainReasons.notProvisioned,
  drainReasons.waitingForBudget,
  drainReasons.terminating,
  drainReasons.movingIn,
  drainReasons.beingPlaced,
]);

/** At most this many leftovers are listed on the host; the counts cover all. */
const maxListed = 50;

interface Leftover {
  namespace: string;
  name: string;
  reason: string;
  message?: string;
}

export interface DrainOptions {
  /** How often a draining host is looked at again when nothing else wakes it. */
  resyncMs?: number;
}

const isMoving = (vm: VirtualMachine | undefined) => vm?.status?.migration?.state === 'Running';

export function drainReconciler(ctx: ControllerContext, placer: Placer, opts: DrainOptions = {}): Reconciler {
  const resyncMs = opts.resyncMs ?? 5000;
  /** VM key -> moves this process started that the cache does not show yet. */
  const started = new Map<string, { namespace: string; startedAt: string }>();
  const isoNow = () => ctx.now().toISOString().replace(/\.\d{3}Z$/, 'Z');

  const forgetShown = () => {
    for (const [key, s] of started) {
      const vm = ctx.listers.vms.get(key);
      if (!vm || vm.status?.migration?.startedAt === s.startedAt) started.delete(key);
    }
  };

  const canMigrate = (vm: VirtualMachine): boolean => {
    const holder = vm.status?.externalController;
    const xc = holder ? ctx.listers.externalControllers.get(holder) : undefined;
    return (xc?.status?.capabilities ?? []).includes(capabilities.migrate);
  };

  const budgetOf = (namespace: string): number => {
    const tenant = tenantOfNamespace(namespace, ctx.listers);
    const t = tenant ? ctx.listers.tenants.get(tenant) : undefined;
    return t?.spec?.disruptionBudget?.maxUnavailable ?? 1;
  };

  /**
   * Where the VM is the only member of its spreadKey (host, rack, datacenter): its move may stay
   * there. Members are the cached VMs with the key, where they run and where they move to.
   */
  const spreadOwn = (vm: VirtualMachine): { host?: string; rack?: string; datacenter?: string } | undefined => {
    const spreadKey = vm.spec.placement?.spreadKey;
    const here = vm.status?.placement?.baremetal;
    if (!spreadKey || !vm.spec.placement?.spreadAcross || !here) return undefined;
    const placeOf = (hostName: string): { host?: string; rack?: string; datacenter?: string } => {
      const h = ctx.listers.hosts.get(hostName);
      return h ? { host: hostName, rack: h.spec.rack, datacenter: hostLocation(h, ctx.listers).location.datacenter } : { host: hostName };
    };
    const own = placeOf(here);
    for (const other of ctx.listers.vms.byIndex('bySpreadKey', spreadKey)) {
      if (other === vm) continue;
      for (const h of reservedHosts(other)) {
        const at = placeOf(h);
        if (at.host === own.host) delete own.host;
        if (at.rack === own.rack) delete own.rack;
        if (at.datacenter === own.datacenter) delete own.datacenter;
      }
    }
    return own;
  };

  /** Moves in progress of one tenant's VMs, on any host. */
  const movingInNamespace = (namespace: string): number => {
    let n = ctx.listers.vms.list(namespace).filter(isMoving).length;
    for (const [key, s] of started) if (s.namespace === namespace && !isMoving(ctx.listers.vms.get(key))) n++;
    return n;
  };

  /**
   * Starts the move of one VM. Answers a leftover when it cannot be placed elsewhere, and
   * 'stale' when the cached VM is older than a write of this process (decided again later).
   */
  const start = async (host: Baremetal, key: string, vm: VirtualMachine, method: 'Migrate' | 'Recreate'): Promise<Leftover | 'stale' | undefined> => {
    const flavor = ctx.listers.specifications.get(vm.spec.specification);
    const resources = flavor ? fromAmounts(flavor.spec as never) : undefined;
    const tenant = tenantOfNamespace(vm.metadata.namespace!, ctx.listers);
    if (!resources || !tenant) {
      return { namespace: vm.metadata.namespace!, name: vm.metadata.name!, reason: drainReasons.unschedulable, message: 'Its specification or tenant is missing.' };
    }
    // Its reserved resources, not its flavor's now: a move does not resize.
    const reserved = vm.status?.resources ? fromAmounts(vm.status.resources as never) : resources;
    const request = { ...placementRequest(migrationKey(key), vm, reserved, tenant), pinnedHost: undefined, spreadOwn: spreadOwn(vm) };
    const result = placer.place(migrationKey(key), request);
    if (!result.ok) {
      return { namespace: vm.metadata.namespace!, name: vm.metadata.name!, reason: drainReasons.unschedulable, message: result.diagnosis.message };
    }
    const { location } = hostLocation(ctx.listers.hosts.get(result.host)!, ctx.listers);
    const target = { baremetal: result.host, rack: location.rack, datacenter: location.datacenter, region: location.region };
    const p = vm.status!.placement!;
    const source = { baremetal: p.baremetal, rack: p.rack, datacenter: p.datacenter, region: p.region };
    const migration = { state: 'Running' as const, method, reason: 'Drain', source, target, startedAt: isoNow() };
    const message =
      method === 'Migrate'
        ? `Moving from ${host.metadata.name} (Maintenance) to ${result.host} by live migration.`
        : `Moving from ${host.metadata.name} (Maintenance) to ${result.host} by re-creating it: its external controller cannot migrate, so the machine is deleted with its data disk and built again.`;
    try {
      await writeStatus(ctx, Kinds.VirtualMachine, vm as never, nextStatus(vm as never, { migration }, [
        { type: 'Migrating', status: 'True', reason: method === 'Migrate' ? moveReasons.migrating : moveReasons.recreating, message },
      ], ctx.now()));
    } catch (err) {
      // Not written (or not known to be): the target's capacity goes back; the next
      // reconcile of the host decides again from what the cache shows then.
      placer.forget(migrationKey(key));
      if (isStaleCache(err)) return 'stale';
      throw err;
    }
    started.set(key, { namespace: vm.metadata.namespace!, startedAt: migration.startedAt });
    ctx.events.record(vm, method === 'Migrate' ? 'Normal' : 'Warning', method === 'Migrate' ? moveReasons.migrating : moveReasons.recreating, message);
    return undefined;
  };

  const clear = async (host: Baremetal): Promise<Result> => {
    if (host.status?.drain === undefined) return {};
    await writeStatus(ctx, Kinds.Baremetal, host as never, nextStatus(host as never, { drain: undefined }, [], ctx.now()));
    ctx.events.record(host, 'Normal', 'DrainStopped', `The host is ${host.spec.state ?? 'Available'} again; moves in progress finish, no new ones start.`);
    return {};
  };

  return {
    async reconcile(rc, objectKey: ObjectKey): Promise<Result> {
      const name = keyString(objectKey);
      const host = ctx.listers.hosts.get(name);
      if (!host) return {};
      forgetShown();
      if (host.spec.state !== 'Maintenance' || host.metadata.deletionTimestamp) return clear(host);

      const startedAt = host.status?.drain?.startedAt ?? isoNow();
      const maxUnavailable = host.spec.drain?.maxUnavailable ?? 1;
      const keyOf = (vm: VirtualMachine) => `${vm.metadata.namespace}/${vm.metadata.name}`;
      // Every VM that holds a reservation on the host: placed on it, or moving onto it.
      const reserving = ctx.listers.vms.byIndex('byHost', name).sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
      const placedHere = reserving.filter((vm) => vm.status?.placement?.baremetal === name);
      const onHost = placedHere.filter((vm) => !vm.metadata.deletionTimestamp);
      const leftovers: Leftover[] = [];
      const leave = (vm: VirtualMachine, reason: string, message?: string) =>
        leftovers.push({ namespace: vm.metadata.namespace!, name: vm.metadata.name!, reason, ...(message ? { message } : {}) });
      for (const vm of placedHere) {
        if (vm.metadata.deletionTimestamp) leave(vm, drainReasons.terminating, 'It is being deleted; the host is drained once it is gone.');
      }
      for (const vm of reserving) {
        if (vm.status?.placement?.baremetal !== name) {
          leave(vm, drainReasons.movingIn, `It is moving here from ${vm.status?.placement?.baremetal ?? 'another host'}; it is moved off once it lands.`);
        }
      }
      // Decided onto the host (before its Maintenance showed) and not yet in the cache.
      const known = new Set(reserving.map(keyOf));
      const pending = [...new Set(placer.assumedOn(name).map((k) => k.replace(/#migrate$/, '')))].filter((k) => !known.has(k));
      for (const key of pending) {
        const [namespace, vmName] = key.split('/');
        leftovers.push({ namespace: namespace!, name: vmName!, reason: drainReasons.beingPlaced, message: 'It was just placed here; it is moved off once it lands.' });
      }
      const inFlight = (vm: VirtualMachine) => isMoving(vm) || started.has(keyOf(vm));
      let moving = onHost.filter(inFlight).length;

      for (const vm of onHost) {
        if (inFlight(vm)) continue;
        const key = keyOf(vm);
        const left = (reason: string, message?: string) => leave(vm, reason, message);
        if (vm.metadata.annotations?.[EVICT_ANNOTATION] === 'false') {
          left(drainReasons.evictionForbidden, `Annotation ${EVICT_ANNOTATION}: "false" forbids moving it.`);
          continue;
        }
        if (vm.spec.baremetal === name) {
          left(drainReasons.pinned, `spec.baremetal pins it to ${name}.`);
          continue;
        }
        if (getCondition(vm.status?.conditions as Condition[] | undefined, 'Provisioned')?.status !== 'True') {
          left(drainReasons.notProvisioned, 'It is moved once its machine is built.');
          continue;
        }
        const method = canMigrate(vm) ? 'Migrate' : 'Recreate';
        if (method === 'Recreate' && vm.spec.dataDisk === 'Retain') {
          left(drainReasons.dataDiskRetained, `Its external controller cannot migrate, and a re-create would lose the data disk it must retain.`);
          continue;
        }
        const budget = budgetOf(vm.metadata.namespace!);
        if (budget === 0) {
          left(drainReasons.disruptionBudget, `Its tenant's disruptionBudget.maxUnavailable is 0.`);
          continue;
        }
        if (moving >= maxUnavailable || movingInNamespace(vm.metadata.namespace!) >= budget) {
          left(drainReasons.waitingForBudget, moving >= maxUnavailable ? `The host moves ${maxUnavailable} VM(s) at a time.` : `Its tenant allows ${budget} VM(s) moving at a time.`);
          continue;
        }
        // A process that has lost the lease must not decide: another leader may already be.
        if (rc.signal.aborted) return {};
        const refused = await start(host, key, vm, method);
        if (refused === undefined) moving++;
        else if (refused !== 'stale') leftovers.push(refused);
      }

      // Not empty while any VM is on the host or on its way to it, whatever its state.
      const remaining = reserving.length + pending.length;
      const blocked = leftovers.filter((l) => !waiting.has(l.reason)).length;
      const moved = ctx.listers.vms
        .list()
        .filter((vm) => {
          const m = vm.status?.migration;
          return m?.state === 'Succeeded' && m.source?.baremetal === name && (m.finishedAt ?? '') >= startedAt;
        }).length;
      const phase = remaining === 0 ? 'Drained' : moving === 0 && blocked === remaining ? 'Blocked' : 'Draining';
      const counts = new Map<string, number>();
      for (const l of leftovers) counts.set(l.reason, (counts.get(l.reason) ?? 0) + 1);
      const message =
        remaining === 0
          ? `No VM is left on ${name}; ${moved} moved.`
          : `${remaining} VM(s) left on ${name}, ${moving} moving${counts.size ? `: ${formatReasons(counts)}` : ''}.`;
      const drain = { phase, startedAt, moving, moved, remaining, blocked, message, leftovers: leftovers.slice(0, maxListed) };
      const before = host.status?.drain?.phase;
      try {
        await writeStatus(ctx, Kinds.Baremetal, host as never, nextStatus(host as never, { drain }, [], ctx.now()));
      } catch (err) {
        if (isStaleCache(err)) return { requeueAfterMs: 200 };
        throw err;
      }
      if (before !== phase) {
        ctx.events.record(host, phase === 'Blocked' ? 'Warning' : 'Normal', phase === 'Blocked' ? 'DrainBlocked' : phase, message);
      }
      return phase === 'Drained' ? {} : { requeueAfterMs: resyncMs };
    },
  };
}

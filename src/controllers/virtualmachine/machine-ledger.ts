// What the VM controller knows of each VM's machine without asking its external controller:
// the machine as last observed, or as this process's own last request left it, together with
// the VM's status reports since (protocol section 5). Observing on every reconcile cost one
// request to the external controller per status write of the VM; with this, a reconcile
// observes only when the status does not say what happened:
//   - nothing is known (a new process, a forgotten VM), or it is older than the resync period
//     (drift is looked for at that pace, as before);
//   - the status reports an operation other than the one known (another writer, a report
//     out of order), shows the known one less far along than already seen (a stale report
//     delivered late), or a Failed one (observe says why, and what is left).
// Memory only: after a restart every VM is observed once, so a crash never acts on a guess.
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import type { Observation, Operation, OperationRef } from '../../providers/external-client.js';

interface Known {
  /** The machine as observed, or as the request expects it while its operation runs. */
  observation: Observation;
  /** The operation the observation ends with; the status's reports of it carry on from here. */
  opId: string | undefined;
  /** The generation the machine is at once that operation succeeds; unknown: observe then. */
  generationAfter?: number;
  /**
   * Set for a request of this process: the status's lastOperation id when it was sent (null:
   * none). While the status still shows it, the request's report has not arrived.
   */
  before?: string | null;
  /**
   * The furthest state of that operation seen so far. Reports may arrive out of order: one
   * that shows it less far along (Running after Succeeded) is stale, and the machine is
   * observed instead of believed to be going backwards.
   */
  seen?: Operation['state'];
  /** When it was observed or requested, or a report last took its operation further (ms). */
  at: number;
}

const isActive = (state: Operation['state']): boolean => state === 'Pending' || state === 'Running';
const progress: Record<Operation['state'], number> = { Pending: 0, Running: 1, Succeeded: 2, Failed: 2 };

export class MachineLedger {
  private readonly known = new Map<string, Known>();

  private readonly resyncMs: number;
  private readonly activeTrustMs: number;
  private readonly now: () => number;

  /**
   * resyncMs: how long what is known is trusted at all; activeTrustMs: how long an operation
   * is believed to be still running (a stale Running report must not hold a VM for longer).
   */
  constructor(opts: { resyncMs: number; activeTrustMs: number; now: () => number }) {
    this.resyncMs = opts.resyncMs;
    this.activeTrustMs = opts.activeTrustMs;
    this.now = opts.now;
  }

  /** The machine of `vm` as observed just now. */
  observed(key: string, vm: VirtualMachine, observation: Observation): void {
    const op = observation.lastOperation;
    // An update or create still running will leave the machine at a generation observe did
    // not say: its success is observed, not guessed.
    const unknownAfter = op !== undefined && isActive(op.state) && (op.type === 'Create' || op.type === 'Update');
    const generation = observation.upToDate ? Math.max(observation.generation ?? 0, vm.metadata.generation ?? 1) : observation.generation;
    this.known.set(key, {
      observation,
      opId: op?.id,
      ...(!unknownAfter && generation !== undefined ? { generationAfter: generation } : {}),
      ...(op ? { seen: op.state } : {}),
      at: this.now(),
    });
  }

  /** The VM was just placed by this process, which has sent nothing for it: no machine. */
  unbuilt(key: string): void {
    this.known.set(key, { observation: { exists: false, upToDate: false, addresses: [] }, opId: undefined, at: this.now() });
  }

  /**
   * A request of this process was accepted: until its report arrives the machine is as
   * `before` was, with `op` running. A request answered as finished is not guessed at: the
   * next reconcile observes.
   */
  requested(key: string, vm: VirtualMachine, op: OperationRef, before: Omit<Observation, 'lastOperation'>, generationAfter = before.generation): void {
    const shown = (vm.status?.lastOperation as Operation | undefined)?.id ?? null;
    // An operation the status already shows (a repeated request answered with it) is read
    // from its reports like any other; unknown how far it got: observe.
    if (!isActive(op.state) || shown === op.operationId) return this.forget(key);
    const lastOperation: Operation = { type: op.type, id: op.operationId, state: op.state };
    this.known.set(key, {
      observation: { ...before, lastOperation },
      opId: op.operationId,
      ...(generationAfter !== undefined ? { generationAfter } : {}),
      before: shown,
      seen: op.state,
      at: this.now(),
    });
  }

  /**
   * Every version of the VM the watch delivers, also those no reconcile sees (a key queued
   * twice runs once, on the newest): the furthest state its reports reach is kept, so a report
   * sent again later, out of order, is known to be stale.
   */
  noteReport(key: string, vm: VirtualMachine): void {
    const k = this.known.get(key);
    const reported = vm.status?.lastOperation as Operation | undefined;
    if (k && reported && reported.id === k.opId) this.advance(k, reported);
  }

  /**
   * A report of the known operation: the one before it can only come back out of order now,
   * and the furthest state seen moves on. False for a report behind that state (stale).
   */
  private advance(k: Known, reported: Operation): boolean {
    k.before = undefined;
    const further = progress[reported.state] - progress[k.seen ?? 'Pending'];
    if (further < 0) return false;
    // The external controller has just said how far it got: what is known is that recent.
    // Counted from the request instead, a report that was slow to arrive (a busy server)
    // left the VM to be observed again soon after, for nothing.
    if (further > 0) k.at = this.now();
    k.seen = reported.state;
    return true;
  }

  /** What the status and the ledger together say of the machine, or undefined: observe. */
  observation(key: string, vm: VirtualMachine): Observation | undefined {
    const k = this.known.get(key);
    if (!k) return undefined;
    const answer = this.derive(k, vm);
    const age = this.now() - k.at;
    if (!answer || age >= this.resyncMs) return undefined;
    const op = answer.lastOperation;
    return op && isActive(op.state) && age >= this.activeTrustMs ? undefined : answer;
  }

  private derive(k: Known, vm: VirtualMachine): Observation | undefined {
    const reported = vm.status?.lastOperation as Operation | undefined;
    if (k.before !== undefined && (reported?.id ?? null) === k.before) return k.observation;
    if (reported?.id !== k.opId) return undefined;
    if (!reported) return k.observation;
    if (!this.advance(k, reported) || reported.state === 'Failed') return undefined;
    const done = reported.state === 'Succeeded';
    const exists = done ? reported.type !== 'Delete' : k.observation.exists || vm.status?.externalId !== undefined;
    if (!exists) return { exists: false, upToDate: false, addresses: [], lastOperation: reported };
    if (done && k.generationAfter === undefined) return undefined;
    const generation = done ? k.generationAfter : k.observation.generation;
    return {
      exists: true,
      upToDate: generation !== undefined && generation >= (vm.metadata.generation ?? 1),
      generation,
      powerState: vm.status?.powerState,
      externalId: vm.status?.externalId,
      addresses: vm.status?.addresses ?? [],
      lastOperation: reported,
    };
  }

  forget(key: string): void {
    this.known.delete(key);
  }
}

// The simulated physical world behind the protocol: machines held in memory by uid, and the
// operations that change them. Each operation is accepted at once, runs for its configured
// latency on the injected clock, may fail by the injected random source, and reports
// progress through the StatusReporter. Answers are {status, body} so the HTTP layer
// (server.ts) only translates; the rules of the protocol all live here.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../runtime/clock.js';
import {
  errorCodes,
  rfc3339,
  type Address,
  type Callback,
  type CreateRequest,
  type DataDiskPolicy,
  type ErrorBody,
  type Image,
  type Observation,
  type Operation,
  type OperationAccepted,
  type OperationType,
  type Placement,
  type PowerRequest,
  type MigrateRequest,
  type PowerState,
  type Resources,
  type UpdateRequest,
  virtualMachineStatusPath,
} from '../protocol.js';
import type { Random } from './random.js';
import type { StatusReporter } from './status-reporter.js';

export type LatencyKey = 'create' | 'update' | 'power' | 'delete' | 'migrate';
/**
 * One latency for every operation, or one per operation (missing ones are 0). `boot` is an
 * extra stage of a create that powers the machine on: after `create` the machine is built
 * (observe shows it, Off, and a progress report says so), after `boot` more it is On and the
 * create Succeeded. A single number leaves `boot` at 0.
 */
export type Latency = number | Partial<Record<LatencyKey | 'boot', number>>;
/**
 * How an injected failure shows: `operation` accepts the request and reports the operation
 * Failed with a message; `http` answers 503 and changes nothing; `both` picks one of the two
 * per failure, by a second draw.
 */
export type FailureMode = 'operation' | 'http' | 'both';

export interface SimulationOptions {
  clock: Clock;
  random: Random;
  reporter: StatusReporter;
  latencyMs?: Latency;
  /** 0..1: the share of new operations that fail. */
  failureRate?: number;
  failureMode?: FailureMode;
  /** The region served; a create placed in another region is refused (422 WrongRegion). */
  region?: string;
  log?: Logger;
  /** Called after each change of what exists (machines, disks, deleted uids): persistence. */
  onChange?: () => void;
  /** Deleted uids remembered (to answer 410 Deleted); the oldest are forgotten beyond it. Default 50000. */
  maxDeletedUids?: number;
}

/** What the simulation keeps across restarts (persistence.ts). */
export interface SimulationState {
  version: 1;
  /** Random, chosen once per state: part of every external id, so none repeats if the state is lost. */
  epoch: string;
  machineSeq: number;
  machines: Machine[];
  retainedDisks: [string, Disk][];
  deleted: string[];
}

export interface Disk {
  id: string;
  size: string;
}

/** One simulated machine. Its addresses are only data: nothing is ever contacted. */
export interface Machine {
  uid: string;
  namespace: string;
  name: string;
  generation: number;
  externalId: string;
  powerState: PowerState;
  addresses: Address[];
  dataDisk: Disk;
  placement: Placement;
  resources: Resources;
  image: Image;
  specification: string;
  /** How many times it was (re)started: restarts and starts from Off. */
  boots: number;
}

/** Counters of one uid; tests prove idempotency with `machinesCreated`. */
export interface UidStats {
  /** Requests, replays included. */
  creates: number;
  updates: number;
  powers: number;
  deletes: number;
  /** Migrate requests (live migrations), replays included. */
  migrates: number;
  observes: number;
  /** Requests answered with an operation that already existed. */
  replays: number;
  /** Machines actually built for this uid. */
  machinesCreated: number;
  /** Injected failures: operations reported Failed plus requests answered 503. */
  failures: number;
}

const zeroStats = (): UidStats => ({
  creates: 0,
  updates: 0,
  powers: 0,
  deletes: 0,
  migrates: 0,
  observes: 0,
  replays: 0,
  machinesCreated: 0,
  failures: 0,
});

export class SimulatorStats {
  private readonly byUid = new Map<string, UidStats>();

  /** The counters of a uid (all zero when it was never seen). */
  uid(uid: string): UidStats {
    return { ...(this.byUid.get(uid) ?? zeroStats()) };
  }

  /** Sums over every uid. */
  totals(): UidStats {
    const total = zeroStats();
    for (const s of this.byUid.values()) for (const k of Object.keys(total) as (keyof UidStats)[]) total[k] += s[k];
    return total;
  }

  uids(): string[] {
    return [...this.byUid.keys()];
  }

  count(uid: string, key: keyof UidStats, by = 1): void {
    let s = this.byUid.get(uid);
    if (!s) this.byUid.set(uid, (s = zeroStats()));
    s[key] += by;
  }

  toJSON(): { totals: UidStats; byUid: Record<string, UidStats> } {
    return { totals: this.totals(), byUid: Object.fromEntries(this.byUid) };
  }
}

/** An answer for the HTTP layer. */
export interface Answer {
  status: number;
  body: OperationAccepted | Observation | ErrorBody;
  headers?: Record<string, string>;
}

interface OperationRecord {
  id: string;
  type: OperationType;
  uid: string;
  /** Idempotency key: type, uid and generation or requestId. */
  key: string;
  attempt: number;
  state: Operation['state'];
  startedAt: number;
  finishedAt?: number;
  message?: string;
  /** Set when the failure draw decided this operation fails. */
  failure?: string;
  /** The work itself, run when the latency has passed; answers the message to report. */
  effect: () => { message: string; report: Record<string, unknown> };
  /**
   * A stage before the effect: run when the latency has passed, reported as progress (the
   * operation still Running), then the effect follows `afterMs` later. Skipped on failure
   * and when it answers undefined.
   */
  stage?: { afterMs: number; run: () => { message: string; report: Record<string, unknown> } | undefined };
}

const refuse = (status: number, code: string, message: string, extra: Partial<ErrorBody> = {}): Answer => ({
  status,
  body: { code, message, ...extra },
});

export class Simulation {
  readonly machines = new Map<string, Machine>();
  readonly stats = new SimulatorStats();
  /** Data disks kept by a delete with dataDisk=Retain, by uid. */
  readonly retainedDisks = new Map<string, Disk>();
  private readonly operations = new Map<string, OperationRecord>();
  private readonly latest = new Map<string, OperationRecord>();
  private readonly inFlight = new Map<string, OperationRecord>();
  private readonly callbacks = new Map<string, Callback>();
  /** uids whose machine was deleted through the protocol; Kubernetes never reuses a uid. */
  private readonly deleted = new Set<string>();
  private readonly timers = new Set<Timer>();
  private operationSeq = 0;
  private machineSeq = 0;
  private epoch = randomBytes(3).toString('hex');
  private stopped = false;
  /**
   * Distinguishes this run's operation ids from those of an earlier run (whose ids may still
   * be in VM status): the start time in base 36.
   */
  private readonly instance: string;

  constructor(private readonly opts: SimulationOptions) {
    this.instance = Math.floor(opts.clock.now()).toString(36);
  }

  get region(): string | undefined {
    return this.opts.region;
  }

  /** Does it keep anything about this uid (a machine, an operation, a tombstone)? */
  tracks(uid: string): boolean {
    return this.latest.has(uid) || this.machines.has(uid) || this.deleted.has(uid);
  }

  /**
   * Whether it keeps state for `limit` uids or more. The sum of its three tables bounds the
   * count from above, so the exact count (a walk over every uid) is taken only near the limit,
   * not for every create.
   */
  mayTrackAtLeast(limit: number): boolean {
    if (this.latest.size + this.machines.size + this.deleted.size < limit) return false;
    return this.trackedUids >= limit;
  }

  /** How many uids it keeps state for. */
  get trackedUids(): number {
    let n = this.latest.size;
    for (const uid of this.machines.keys()) if (!this.latest.has(uid)) n++;
    for (const uid of this.deleted) if (!this.latest.has(uid) && !this.machines.has(uid)) n++;
    return n;
  }

  /** What it built, to be kept across restarts. */
  exportState(): SimulationState {
    return {
      version: 1,
      epoch: this.epoch,
      machineSeq: this.machineSeq,
      machines: [...this.machines.values()],
      retainedDisks: [...this.retainedDisks],
      deleted: [...this.deleted],
    };
  }

  /**
   * Takes back what an earlier run built. Operations in flight then are lost, as after a
   * crash; VirtFlow repeats their requests. Reports of later operations on a machine go to
   * its VM's status on the configured API server.
   */
  importState(state: SimulationState): void {
    this.epoch = state.epoch;
    this.machineSeq = Math.max(this.machineSeq, state.machineSeq);
    for (const m of state.machines) {
      this.machines.set(m.uid, m);
      this.callbacks.set(m.uid, { statusPath: virtualMachineStatusPath(m.namespace, m.name) });
    }
    for (const [uid, disk] of state.retainedDisks) this.retainedDisks.set(uid, disk);
    for (const uid of state.deleted) this.deleted.add(uid);
  }

  /** Operations accepted and not yet finished. */
  get operationsInFlight(): number {
    return this.inFlight.size;
  }

  create(req: CreateRequest): Answer {
    const { uid } = req;
    this.stats.count(uid, 'creates');
    const region = this.opts.region;
    if (region && req.placement.region && req.placement.region !== region) {
      return refuse(422, errorCodes.wrongRegion, `this controller serves region ${region}, not ${req.placement.region}`);
    }
    if (this.deleted.has(uid)) {
      if (!req.recreate) {
        return refuse(410, errorCodes.deleted, `the machine of uid ${uid} was deleted; a uid is never built twice unless the create says recreate`);
      }
      this.deleted.delete(uid);
      this.opts.onChange?.();
    }
    const key = `Create/${uid}/${req.generation}`;
    const known = this.operations.get(key);
    if (known && (isActive(known) || (known.state === 'Succeeded' && this.machines.has(uid)))) return this.replay(known);
    const busy = this.busy(uid);
    if (busy) return busy;
    const failure = this.drawFailure(uid, 'create');
    if (failure.http) return failure.http;
    this.callbacks.set(uid, req.callback);
    const boot = req.powerOn === false ? 0 : this.bootLatency();
    /** The machine this operation built at its first stage, to be booted by its effect. */
    let built: Machine | undefined;
    const op = this.begin('Create', uid, key, (known?.attempt ?? 0) + 1, failure.message, 'create', () => {
      if (built && this.machines.get(uid) === built) {
        built.powerState = 'On';
        built.boots++;
        return { message: `created on ${req.placement.baremetal}`, report: this.machineReport(built) };
      }
      const existing = this.machines.get(uid);
      if (existing) return { message: 'the machine already exists', report: this.machineReport(existing) };
      const machine = this.build(req);
      return { message: `created on ${req.placement.baremetal}`, report: this.machineReport(machine) };
    });
    if (boot > 0) {
      op.stage = {
        afterMs: boot,
        run: () => {
          if (this.machines.has(uid)) return undefined;
          built = this.build({ ...req, powerOn: false });
          return { message: `built on ${req.placement.baremetal}; booting`, report: this.machineReport(built) };
        },
      };
    }
    return this.accepted(op);
  }

  update(uid: string, req: UpdateRequest): Answer {
    this.stats.count(uid, 'updates');
    const key = `Update/${uid}/${req.generation}`;
    const known = this.operations.get(key);
    if (known && known.state !== 'Failed') return this.replay(known);
    const busy = this.busy(uid);
    if (busy) return busy;
    const machine = this.machines.get(uid);
    if (!machine) return this.missing(uid);
    if (req.generation < machine.generation) {
      return refuse(409, errorCodes.staleGeneration, `the machine is already at generation ${machine.generation}, newer than ${req.generation}`);
    }
    const failure = this.drawFailure(uid, 'update');
    if (failure.http) return failure.http;
    if (req.callback) this.callbacks.set(uid, req.callback);
    const op = this.begin('Update', uid, key, (known?.attempt ?? 0) + 1, failure.message, 'update', () => {
      const m = this.machines.get(uid);
      if (!m) return { message: 'the machine is gone', report: {} };
      const from = m.generation;
      m.generation = Math.max(m.generation, req.generation);
      m.resources = req.resources;
      m.specification = req.specification;
      if (req.image) m.image = req.image;
      if (req.placement) m.placement = req.placement;
      const message = from === req.generation ? `already at generation ${from}` : `updated from generation ${from} to ${req.generation}`;
      return { message, report: this.machineReport(m) };
    });
    return this.accepted(op);
  }

  power(uid: string, req: PowerRequest): Answer {
    this.stats.count(uid, 'powers');
    const key = `Power/${uid}/${req.requestId}`;
    const known = this.operations.get(key);
    if (known && known.state !== 'Failed') return this.replay(known);
    const busy = this.busy(uid);
    if (busy) return busy;
    if (!this.machines.has(uid)) return this.missing(uid);
    const failure = this.drawFailure(uid, 'power');
    if (failure.http) return failure.http;
    const op = this.begin('Power', uid, key, (known?.attempt ?? 0) + 1, failure.message, 'power', () => {
      const m = this.machines.get(uid);
      if (!m) return { message: 'the machine is gone', report: {} };
      let message: string;
      if (req.action === 'start') {
        message = m.powerState === 'On' ? 'already running' : 'started';
        if (m.powerState === 'Off') m.boots++;
        m.powerState = 'On';
      } else if (req.action === 'stop') {
        message = m.powerState === 'Off' ? 'already stopped' : req.force ? 'powered off (forced)' : 'shut down gracefully';
        m.powerState = 'Off';
      } else {
        message = m.powerState === 'Off' ? 'started (it was off)' : req.force ? 'reset (forced restart)' : 'restarted gracefully';
        m.boots++;
        m.powerState = 'On';
      }
      return { message, report: this.machineReport(m) };
    });
    return this.accepted(op);
  }

  delete(uid: string, dataDisk: DataDiskPolicy, requestId: string): Answer {
    this.stats.count(uid, 'deletes');
    const key = `Delete/${uid}/${requestId}`;
    const known = this.operations.get(key);
    if (known && known.state !== 'Failed') return this.replay(known);
    const busy = this.busy(uid);
    if (busy) return busy;
    const attempt = (known?.attempt ?? 0) + 1;
    if (!this.machines.has(uid)) {
      // Nothing to do, and nothing to fail: answered finished at once.
      this.tombstone(uid);
      const now = this.opts.clock.now();
      const op = this.record('Delete', uid, key, attempt, now);
      op.state = 'Succeeded';
      op.finishedAt = now;
      op.message = 'no machine exists for this uid';
      this.report(op, { powerState: null, externalId: null, addresses: null });
      return { status: 200, body: this.acceptedBody(op) };
    }
    const failure = this.drawFailure(uid, 'delete');
    if (failure.http) return failure.http;
    const op = this.begin('Delete', uid, key, attempt, failure.message, 'delete', () => {
      const m = this.machines.get(uid);
      this.machines.delete(uid);
      this.tombstone(uid);
      let message = 'deleted; there was no machine';
      if (m) {
        if (dataDisk === 'Retain') {
          this.retainedDisks.set(uid, m.dataDisk);
          message = `deleted; data disk ${m.dataDisk.id} retained`;
        } else {
          message = 'deleted with its data disk';
        }
      }
      return { message, report: { powerState: null, externalId: null, addresses: null } };
    });
    return this.accepted(op);
  }

  /** Live migration: the machine moves to another host and keeps everything else. */
  migrate(uid: string, req: MigrateRequest): Answer {
    this.stats.count(uid, 'migrates');
    const key = `Migrate/${uid}/${req.requestId}`;
    const known = this.operations.get(key);
    if (known && known.state !== 'Failed') return this.replay(known);
    const busy = this.busy(uid);
    if (busy) return busy;
    if (!this.machines.has(uid)) return this.missing(uid);
    const failure = this.drawFailure(uid, 'migrate');
    if (failure.http) return failure.http;
    const op = this.begin('Migrate', uid, key, (known?.attempt ?? 0) + 1, failure.message, 'migrate', () => {
      const m = this.machines.get(uid);
      if (!m) return { message: 'the machine is gone', report: {} };
      const from = m.placement.baremetal;
      m.placement = req.placement;
      return { message: `migrated from ${from} to ${req.placement.baremetal}`, report: this.machineReport(m) };
    });
    return this.accepted(op);
  }

  observe(uid: string): Answer {
    this.stats.count(uid, 'observes');
    const m = this.machines.get(uid);
    const last = this.latest.get(uid);
    const body: Observation = {
      uid,
      exists: m !== undefined,
      addresses: m ? m.addresses.map((a) => ({ ...a })) : [],
      ...(m ? { generation: m.generation, powerState: m.powerState, externalId: m.externalId } : {}),
      ...(this.retainedDisks.has(uid) ? { dataDisk: 'Retain' as const } : {}),
      ...(last ? { lastOperation: this.operationBody(last) } : {}),
    };
    return { status: 200, body };
  }

  // -- drift, for tests and demos: what happens to machines behind VirtFlow's back -----------

  /** The machine disappears without a delete (a host lost, an operator's mistake). */
  vanish(uid: string): boolean {
    const gone = this.machines.delete(uid);
    if (gone) this.opts.onChange?.();
    return gone;
  }

  /** The machine's power changes without a power operation (a crash, a manual shutdown). */
  setPower(uid: string, state: PowerState): boolean {
    const m = this.machines.get(uid);
    if (!m) return false;
    m.powerState = state;
    this.opts.onChange?.();
    return true;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
  }

  // -- the operation engine ------------------------------------------------------------------

  /**
   * Remembers a deleted uid (410 to a later create). Beyond maxDeletedUids the oldest are
   * forgotten, with their operations, so memory stays bounded; Kubernetes never reuses a uid.
   */
  private tombstone(uid: string): void {
    this.deleted.delete(uid);
    this.deleted.add(uid);
    this.opts.onChange?.();
    const max = this.opts.maxDeletedUids ?? 50_000;
    if (this.deleted.size <= max) return;
    // Forget a tenth at once: one pass over the operations for many uids.
    const forget = new Set<string>();
    for (const old of this.deleted) {
      if (this.deleted.size - forget.size <= Math.floor(max * 0.9)) break;
      if (this.inFlight.has(old)) continue;
      forget.add(old);
    }
    for (const old of forget) {
      this.deleted.delete(old);
      this.latest.delete(old);
      this.callbacks.delete(old);
    }
    for (const [key, op] of this.operations) if (forget.has(op.uid)) this.operations.delete(key);
  }

  private begin(
    type: OperationType,
    uid: string,
    key: string,
    attempt: number,
    failure: string | undefined,
    latencyKey: LatencyKey,
    effect: OperationRecord['effect'],
  ): OperationRecord {
    const op = this.record(type, uid, key, attempt, this.opts.clock.now());
    op.state = 'Running';
    op.failure = failure;
    op.effect = effect;
    this.inFlight.set(uid, op);
    const latency = this.latencyOf(latencyKey);
    // Progress is worth a request only when the operation takes time; at zero latency the
    // result follows at once and is the only report.
    if (latency > 0) this.report(op, {});
    const timer = this.opts.clock.setTimer(() => {
      this.timers.delete(timer);
      this.finish(op);
    }, latency);
    this.timers.add(timer);
    return op;
  }

  private record(type: OperationType, uid: string, key: string, attempt: number, now: number): OperationRecord {
    const op: OperationRecord = {
      id: `${type.toLowerCase()}-${this.instance}-${++this.operationSeq}`,
      type,
      uid,
      key,
      attempt,
      state: 'Pending',
      startedAt: now,
      effect: () => ({ message: '', report: {} }),
    };
    this.operations.set(key, op);
    this.latest.set(uid, op);
    return op;
  }

  private finish(op: OperationRecord): void {
    if (this.stopped) return;
    const stage = op.stage;
    op.stage = undefined;
    const progress = stage && !op.failure ? stage.run() : undefined;
    if (stage && progress) {
      op.message = progress.message;
      this.opts.onChange?.();
      this.report(op, progress.report);
      const timer = this.opts.clock.setTimer(() => {
        this.timers.delete(timer);
        this.finish(op);
      }, stage.afterMs);
      this.timers.add(timer);
      return;
    }
    this.inFlight.delete(op.uid);
    op.finishedAt = this.opts.clock.now();
    if (op.failure) {
      op.state = 'Failed';
      op.message = op.failure;
      this.stats.count(op.uid, 'failures');
      this.report(op, {});
      this.opts.log?.info({ uid: op.uid, operation: op.id }, 'simulated operation failed');
      return;
    }
    const { message, report } = op.effect();
    op.state = 'Succeeded';
    op.message = message;
    this.opts.onChange?.();
    this.report(op, report);
  }

  private report(op: OperationRecord, fields: Record<string, unknown>): void {
    const callback = this.callbacks.get(op.uid);
    if (!callback) return;
    // Every key of lastOperation is sent, null when unknown, so a merge patch never leaves
    // the message or finish time of an earlier operation behind.
    const lastOperation = {
      type: op.type,
      id: op.id,
      state: op.state,
      startedAt: rfc3339(op.startedAt),
      finishedAt: op.finishedAt === undefined ? null : rfc3339(op.finishedAt),
      message: op.message ?? null,
    };
    this.opts.reporter.report(op.uid, callback, { lastOperation, ...fields });
  }

  private build(req: CreateRequest): Machine {
    const n = ++this.machineSeq;
    const machine: Machine = {
      uid: req.uid,
      namespace: req.namespace,
      name: req.name,
      generation: req.generation,
      externalId: `sim-${this.opts.region ?? 'any'}-${this.epoch}-${String(n).padStart(6, '0')}`,
      powerState: req.powerOn === false ? 'Off' : 'On',
      // 10.0.0.0/8 from a counter: unique, deterministic, never routed anywhere.
      addresses: [{ type: 'InternalIP', address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` }],
      dataDisk: { id: `disk-${String(n).padStart(6, '0')}`, size: req.resources.storage },
      placement: req.placement,
      resources: req.resources,
      image: req.image,
      specification: req.specification,
      boots: req.powerOn === false ? 0 : 1,
    };
    this.machines.set(req.uid, machine);
    this.stats.count(req.uid, 'machinesCreated');
    return machine;
  }

  private machineReport(m: Machine): Record<string, unknown> {
    return { powerState: m.powerState, externalId: m.externalId, addresses: m.addresses.map((a) => ({ ...a })) };
  }

  private drawFailure(uid: string, what: LatencyKey): { http?: Answer; message?: string } {
    const rate = this.opts.failureRate ?? 0;
    if (rate <= 0 || this.opts.random() >= rate) return {};
    const mode = this.opts.failureMode ?? 'operation';
    const http = mode === 'http' || (mode === 'both' && this.opts.random() < 0.5);
    if (http) {
      this.stats.count(uid, 'failures');
      return {
        http: {
          ...refuse(503, errorCodes.unavailable, `simulated failure (rate ${rate}): cannot take the ${what} request now`),
          headers: { 'retry-after': '1' },
        },
      };
    }
    return { message: `simulated failure (rate ${rate}): the hypervisor refused to ${what} the machine` };
  }

  private bootLatency(): number {
    const latency = this.opts.latencyMs ?? 0;
    return typeof latency === 'number' ? 0 : (latency.boot ?? 0);
  }

  private latencyOf(key: LatencyKey): number {
    const latency = this.opts.latencyMs ?? 0;
    return typeof latency === 'number' ? latency : (latency[key] ?? 0);
  }

  /** Another operation on the uid is Pending/Running: refuse until it finishes. */
  private busy(uid: string): Answer | undefined {
    const running = this.inFlight.get(uid);
    if (!running) return undefined;
    return refuse(409, errorCodes.operationInProgress, `operation ${running.id} (${running.type}) is ${running.state} on this uid; retry when it has finished`, {
      operationId: running.id,
    });
  }

  private missing(uid: string): Answer {
    if (this.deleted.has(uid)) return refuse(410, errorCodes.deleted, `the machine of uid ${uid} was deleted`);
    return refuse(404, errorCodes.notFound, `no machine exists for uid ${uid}`);
  }

  private replay(op: OperationRecord): Answer {
    this.stats.count(op.uid, 'replays');
    return { status: 200, body: this.acceptedBody(op) };
  }

  private accepted(op: OperationRecord): Answer {
    return { status: 202, body: this.acceptedBody(op) };
  }

  private acceptedBody(op: OperationRecord): OperationAccepted {
    return { operationId: op.id, type: op.type, state: op.state, uid: op.uid, ...(op.message ? { message: op.message } : {}) };
  }

  private operationBody(op: OperationRecord): Operation {
    return {
      type: op.type,
      id: op.id,
      state: op.state,
      startedAt: rfc3339(op.startedAt),
      ...(op.finishedAt !== undefined ? { finishedAt: rfc3339(op.finishedAt) } : {}),
      ...(op.message ? { message: op.message } : {}),
    };
  }
}

const isActive = (op: OperationRecord) => op.state === 'Pending' || op.state === 'Running';

// The manager owns what controllers share — one client, one informer per watched selection,
// one metrics registry — and runs everything in a fixed order:
//
//   1. runnables that need no lease (the /metrics and health server): a process that is
//      waiting for the lease or for its caches can still be probed;
//   2. informers, then a wait until every cache has synced: a controller that reconciled
//      from a half-filled cache would act on a world with objects missing;
//   3. controllers (and other runnables that need the lease), only while this process is
//      the leader when leader election is on.
//
// Shutdown runs the other way: controllers stop and their reconciles in flight finish,
// only then is the lease released (so the next leader never overlaps with this one), then
// informers and servers stop. Losing the lease makes `start` reject with LeadershipLostError:
// the process should exit and start afresh, as controller-runtime's managers do.
import { setMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { KubeObject } from '../machinery/object.js';
import { ObjectClient } from './client.js';
import { realClock, type Clock } from './clock.js';
import { Controller, ControllerBuilder, type InformerProvider, type InformerSelection } from './controller.js';
import { EventRecorder } from './events.js';
import { Informer, type InformerOptions } from './informer.js';
import { settlesWithin } from './deadline.js';
import { LeaderElector } from './leader.js';
import { resourceName, type ResourceType } from './resource.js';

export interface Runnable {
  start(signal: AbortSignal): Promise<void>;
  /** Run only on the leader (default false for plain runnables; controllers say true). */
  needLeaderElection?: boolean;
}

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  /** Defaults to "<hostname>_<uuid>", unique per process. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  releaseOnCancel?: boolean;
}

/** Informer settings every informer of the manager gets, e.g. shorter timings in tests. */
export type InformerDefaults = Partial<
  Pick<InformerOptions<KubeObject>, 'resyncPeriodMs' | 'staleAfterMs' | 'watchTimeoutSeconds' | 'backoff' | 'pageSize' | 'random'>
>;

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  /** The field manager of every write through the manager's client. */
  fieldManager?: string;
  leaderElection?: LeaderElectionConfig | false;
  /** How long caches may take to sync before start fails (default 2 minutes). */
  cacheSyncTimeoutMs?: number;
  informerDefaults?: InformerDefaults;
  registry?: Registry;
  clock?: Clock;
  log?: Logger;
}

export class LeadershipLostError extends Error {
  constructor(lease: string) {
    super(`lost the leader election lease ${lease}; exit and restart to campaign again`);
    this.name = 'LeadershipLostError';
  }
}

/** How long a lost term's reconciles may take to end (within leaseDuration - renewDeadline). */
const LOST_TERM_WAIT_MS = 3_000;

/** controller-runtime's default SyncPeriod: a safety net, not a poll. */
const defaultResyncMs = 10 * 60 * 60_000;

export class Manager implements InformerProvider {
  readonly client: ObjectClient;
  readonly registry: Registry;
  readonly log: Logger;
  readonly identity: string;
  private readonly opts: ManagerOptions;
  private readonly clock: Clock;
  private readonly informers = new Map<string, Informer<any>>();
  private readonly runnables: Runnable[] = [];
  private elector?: LeaderElector;
  private informerSignal?: AbortSignal;
  private informerRuns: Promise<void>[] = [];
  private fail?: (err: unknown) => void;
  private started = false;
  private synced = false;

  constructor(opts: ManagerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.registry = opts.registry ?? new Registry();
    this.log = opts.log ?? pino({ level: 'info' });
    this.client = new ObjectClient(opts.kubeConfig, { fieldManager: opts.fieldManager });
    this.identity = (opts.leaderElection && opts.leaderElection.identity) || `${os.hostname()}_${randomUUID()}`;
  }

  /**
   * The informer for these objects, shared by every controller that asks for the same
   * selection, so each object is cached once. Add indexers before the manager starts.
   */
  informer<T extends KubeObject = KubeObject>(resource: ResourceType, selection: InformerSelection = {}): Informer<T> {
    const id = [resourceName(resource), resource.version, selection.namespace ?? '', selection.labelSelector ?? '', selection.fieldSelector ?? ''].join('|');
    let informer = this.informers.get(id) as Informer<T> | undefined;
    if (!informer) {
      informer = new Informer<T>({
        client: this.client,
        resource,
        ...selection,
        resyncPeriodMs: defaultResyncMs,
        ...this.opts.informerDefaults,
        clock: this.clock,
        registry: this.registry,
        log: this.log,
      });
      this.informers.set(id, informer);
      // Asked for after the start (a controller added late): it joins the running caches.
      if (this.informerSignal) this.informerRuns.push(this.runInformer(informer, this.informerSignal));
    }
    return informer;
  }

  /** Starts the sentence that builds a controller; `complete()` adds it to the manager. */
  controller(name: string): ControllerBuilder {
    return new ControllerBuilder(name, this, {
      clock: this.clock,
      registry: this.registry,
      log: this.log,
      register: (c) => this.add(c),
    });
  }

  eventRecorder(component: string): EventRecorder {
    return new EventRecorder({ client: this.client, component, instance: this.identity, clock: this.clock, log: this.log });
  }

  add(runnable: Runnable): void {
    if (this.started) throw new Error('add runnables before starting the manager');
    this.runnables.push(runnable);
  }

  /** Whether every cache has synced: the answer for /readyz. */
  ready(): boolean {
    return this.synced;
  }

  /** The lease holder last observed, when leader election is on. */
  get observedLeader(): string | undefined {
    return this.elector?.leader;
  }

  isLeader(): boolean {
    return this.opts.leaderElection ? (this.elector?.isLeader() ?? false) : this.synced;
  }

  /** Runs until `signal` aborts (resolves) or something fails or the lease is lost (rejects). */
  async start(signal: AbortSignal): Promise<void> {
    if (this.started) throw new Error('the manager was already started');
    this.started = true;
    const stop = new AbortController();
    let failure: unknown;
    this.fail = (err) => {
      if (failure === undefined) {
        failure = err ?? new Error('a runnable failed');
        this.log.error({ err }, 'stopping: a runnable failed');
      }
      stop.abort();
    };
    const onAbort = () => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) stop.abort();

    const plain = new AbortController();
    const caches = new AbortController();
    // Every controller and informer listens on these; dozens of listeners are expected.
    for (const signal of [stop.signal, plain.signal, caches.signal]) setMaxListeners(0, signal);
    const plainRuns = this.runnables.filter((r) => !needsLease(r)).map((r) => this.runGuarded(r, plain.signal));
    this.informerSignal = caches.signal;
    this.informerRuns = [...this.informers.values()].map((i) => this.runInformer(i, caches.signal));
    try {
      await this.waitForCaches(stop.signal);
      if (!stop.signal.aborted) await this.runLeaderElected(stop.signal);
    } catch (err) {
      this.fail(err);
    } finally {
      plain.abort();
      caches.abort();
      await Promise.all([...plainRuns, ...this.informerRuns]);
      this.synced = false;
      signal.removeEventListener('abort', onAbort);
    }
    if (failure !== undefined) throw failure;
  }

  private async waitForCaches(signal: AbortSignal): Promise<void> {
    const timeoutMs = this.opts.cacheSyncTimeoutMs ?? 120_000;
    const giveUp = new AbortController();
    const both = AbortSignal.any([signal, giveUp.signal]);
    setMaxListeners(0, both);
    const timer = this.clock.setTimer(() => giveUp.abort(), timeoutMs);
    try {
      await Promise.all([...this.informers.values()].map((i) => i.waitForSync(both)));
    } finally {
      timer.cancel();
    }
    if (signal.aborted) return;
    const unsynced = [...this.informers.values()].filter((i) => !i.hasSynced()).map((i) => i.name);
    if (unsynced.length > 0) throw new Error(`caches did not sync within ${timeoutMs} ms: ${unsynced.join(', ')}`);
    this.synced = true;
    this.log.info({ informers: this.informers.size }, 'caches synced');
  }

  private async runLeaderElected(signal: AbortSignal): Promise<void> {
    const elected = this.runnables.filter(needsLease);
    const runAll = async (term: AbortSignal) => {
      setMaxListeners(0, term);
      await Promise.all(elected.map((r) => this.runGuarded(r, term)));
    };
    const election = this.opts.leaderElection;
    if (!election) return runAll(signal);
    let term: Promise<void> | undefined;
    this.elector = new LeaderElector(
      {
        client: this.client,
        ...election,
        identity: this.identity,
        clock: this.clock,
        registry: this.registry,
        log: this.log,
      },
      { onStartedLeading: (t) => (term = runAll(t)), onNewLeader: (leader) => this.log.info({ leader }, 'leader observed') },
    );
    await this.elector.run(signal);
    if (signal.aborted) return;
    // The lost term's reconciles end before the loss is reported, so that a manager started
    // again in this process under the same identity (virtflow up) never overlaps with them.
    // Bounded: another candidate may lead once the lease runs out.
    if (term) await settlesWithin(term, LOST_TERM_WAIT_MS);
    throw new LeadershipLostError(`${election.namespace}/${election.name}`);
  }

  private runInformer(informer: Informer<any>, signal: AbortSignal): Promise<void> {
    return informer.start(signal).catch((err: unknown) => this.fail?.(err));
  }

  /** A runnable that fails stops the manager; one that returns early just ends. */
  private async runGuarded(runnable: Runnable, signal: AbortSignal): Promise<void> {
    try {
      await runnable.start(signal);
    } catch (err) {
      if (!signal.aborted) this.fail?.(err);
    }
  }
}

function needsLease(r: Runnable): boolean {
  return r instanceof Controller || r.needLeaderElection === true;
}

// A controller joins a reconciler to a work queue fed by informers, and runs N workers.
//
// Informer events only become keys: the object's own key for the kind the controller is
// `for`, its controlling owner's key for kinds it `owns`, and whatever a mapping function
// says for kinds it `watches`. For an update both the old and the new object are mapped, so
// a VM that moves from host A to host B wakes up both hosts' reconcilers. A watch with
// predicates maps only the events they all accept (controller-runtime's WithPredicates).
//
//   mgr.controller('baremetal')
//     .for(Baremetals)                       // reconcile each Baremetal
//     .watches(VirtualMachines, vmToHost,    // ... again when a VM placed on it moves
//              { predicates: [placementChanged] })
//     .withWorkers(4)
//     .complete(new BaremetalReconciler(...));
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { KubeObject } from '../machinery/object.js';
import { realClock, type Clock } from './clock.js';
import { Informer, type InformerEvent } from './informer.js';
import { keyOf, keyString, parseKey, type ObjectKey } from './keys.js';
import { counter, durationBuckets, gauge, histogram } from './metrics.js';
import { isConflict, isNotFound } from './client.js';
import { WorkQueue } from './queue.js';
import type { RateLimiter } from './rate-limiter.js';
import { ExpectedRetry, isTerminal, type Reconciler } from './reconciler.js';
import type { Predicate } from './predicates.js';
import type { ResourceType } from './resource.js';

/** Which objects of a resource an informer caches. */
export interface InformerSelection {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** Hands out informers, shared between controllers that watch the same objects. */
export interface InformerProvider {
  informer<T extends KubeObject = KubeObject>(resource: ResourceType, selection?: InformerSelection): Informer<T>;
}

/** Maps a changed object to the keys of the objects that must be reconciled because of it. */
export type MapFunc<T extends KubeObject = KubeObject> = (obj: T) => ObjectKey[];

export interface Source {
  informer: Informer<any>;
  map: MapFunc<any>;
  /** Every one must accept an event for its objects to be mapped. */
  predicates?: Predicate<any>[];
}

/** Which objects a watch caches, and which of their events it maps. */
export interface WatchOptions<T> extends InformerSelection {
  predicates?: Predicate<T>[];
}

export interface ControllerOptions {
  name: string;
  reconciler: Reconciler;
  sources: Source[];
  /** Keys reconciled in parallel (never the same key twice at once). */
  workers?: number;
  rateLimiter?: RateLimiter;
  clock?: Clock;
  registry?: Registry;
  log?: Logger;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  /** Controllers reconcile only on the leader. */
  readonly needLeaderElection = true;
  private readonly opts: ControllerOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: ReturnType<typeof controllerMetrics>;
  private started = false;

  constructor(opts: ControllerOptions) {
    if (opts.sources.length === 0) throw new Error(`controller ${opts.name} watches nothing`);
    this.opts = opts;
    this.name = opts.name;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.log ?? pino({ level: 'silent' })).child({ controller: opts.name });
    const registry = opts.registry ?? new Registry();
    this.queue = new WorkQueue({ name: opts.name, rateLimiter: opts.rateLimiter, clock: this.clock, registry });
    this.metrics = controllerMetrics(registry, opts.name);
  }

  /** Reconciles until `signal` aborts; then lets reconciles in flight finish and returns. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.started) throw new Error(`controller ${this.name} was already started`);
    this.started = true;
    const { sources } = this.opts;
    await Promise.all(sources.map((s) => s.informer.waitForSync(signal)));
    if (signal.aborted) return;

    const enqueue = (source: Source, event: InformerEvent<KubeObject>) => {
      if (source.predicates && !source.predicates.every((accepts) => accepts(event))) return;
      for (const key of source.map(event.object)) this.queue.add(keyString(key));
      if (event.previous) for (const key of source.map(event.previous)) this.queue.add(keyString(key));
    };
    const unsubscribe = sources.map((source) => source.informer.subscribe((event: InformerEvent<KubeObject>) => enqueue(source, event)));
    // Objects that existed before this controller started (e.g. before it became leader)
    // get their first reconcile here, as a fresh handler on a shared informer would. They
    // come as a resync: nothing about them changed, so a watch that waits for a change (a
    // predicate) maps nothing, and the primary kind's own keys are queued all the same.
    for (const source of sources) for (const object of source.informer.list()) enqueue(source, { type: 'resync', object });

    const workers = this.opts.workers ?? 1;
    this.metrics.maxWorkers.set(workers);
    this.queue.run((key) => this.reconcileKey(key, signal), { concurrency: workers });
    this.log.info({ workers }, 'controller started');
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    for (const stop of unsubscribe) stop();
    await this.queue.shutdown({ drain: false });
    this.log.info('controller stopped');
  }

  /** One reconcile and what its outcome means for the key: the whole retry policy. */
  private async reconcileKey(key: string, signal: AbortSignal): Promise<void> {
    const log = this.log.child({ key });
    const started = this.clock.now();
    this.metrics.active.inc();
    try {
      const result = await this.opts.reconciler.reconcile({ signal, log }, parseKey(key));
      this.queue.forget(key);
      if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
        this.metrics.total('requeue_after').inc();
        this.queue.addAfter(key, result.requeueAfterMs);
      } else {
        this.metrics.total('success').inc();
      }
    } catch (err) {
      if (isTerminal(err)) {
        this.queue.forget(key);
        this.metrics.total('terminal').inc();
        this.metrics.terminalErrors.inc();
        log.error({ err }, 'reconcile failed for good; waiting for a change');
      } else {
        this.metrics.total('error').inc();
        this.metrics.errors.inc();
        // A stale write (409) is the normal price of optimistic concurrency, and a 404 the
        // object going while it was reconciled (its deletion queues it again): not news.
        const level = isConflict(err) || isNotFound(err) || err instanceof ExpectedRetry ? 'debug' : 'warn';
        if (!signal.aborted) log[level]({ err, retries: this.queue.retries(key) }, 'reconcile failed; retrying with back-off');
        this.queue.addRateLimited(key);
      }
    } finally {
      this.metrics.duration.observe((this.clock.now() - started) / 1000);
      this.metrics.active.dec();
    }
  }
}

/** Builds a controller that reads as a sentence: for, owns, watches, complete. */
export class ControllerBuilder {
  private readonly sources: Source[] = [];
  private primary?: ResourceType;
  private workers = 1;
  private rateLimiter?: RateLimiter;

  constructor(
    private readonly name: string,
    private readonly provider: InformerProvider,
    private readonly deps: { clock?: Clock; registry?: Registry; log?: Logger; register?: (c: Controller) => void } = {},
  ) {}

  /**
   * The kind this controller reconciles: every change to one queues its own key (every change
   * that all of `options.predicates` accept, when there are some).
   */
  for<T extends KubeObject>(kind: ResourceType | Informer<T>, options: WatchOptions<T> = {}): this {
    if (this.primary) throw new Error(`controller ${this.name} already reconciles ${this.primary.kind}`);
    const { predicates, ...selection } = options;
    const informer = this.resolve(kind, selection);
    this.primary = informer.resource;
    this.sources.push({ informer, map: (obj: KubeObject) => [keyOf(obj)], ...(predicates?.length ? { predicates } : {}) });
    return this;
  }

  /** A kind this controller creates: a change queues the controlling owner's key. */
  owns(kind: ResourceType | Informer<any>, selection?: InformerSelection): this {
    const owner = this.primary;
    if (!owner) throw new Error(`controller ${this.name}: call for() before owns()`);
    this.sources.push({ informer: this.resolve(kind, selection), map: (obj: KubeObject) => controllerOwnerKeys(obj, owner) });
    return this;
  }

  /**
   * Any other kind whose changes matter: `map` names the keys to reconcile, for the events
   * that every one of `options.predicates` accepts (all events when there are none).
   */
  watches<T extends KubeObject>(kind: ResourceType | Informer<T>, map: MapFunc<T>, options: WatchOptions<T> = {}): this {
    const { predicates, ...selection } = options;
    this.sources.push({ informer: this.resolve(kind, selection), map, ...(predicates?.length ? { predicates } : {}) });
    return this;
  }

  withWorkers(workers: number): this {
    if (!Number.isInteger(workers) || workers < 1) throw new Error('workers must be a positive integer');
    this.workers = workers;
    return this;
  }

  withRateLimiter(limiter: RateLimiter): this {
    this.rateLimiter = limiter;
    return this;
  }

  complete(reconciler: Reconciler): Controller {
    if (!this.primary) throw new Error(`controller ${this.name}: call for() to say what it reconciles`);
    const controller = new Controller({
      name: this.name,
      reconciler,
      sources: this.sources,
      workers: this.workers,
      rateLimiter: this.rateLimiter,
      clock: this.deps.clock,
      registry: this.deps.registry,
      log: this.deps.log,
    });
    this.deps.register?.(controller);
    return controller;
  }

  private resolve(kind: ResourceType | Informer<any>, selection?: InformerSelection): Informer<any> {
    return kind instanceof Informer ? kind : this.provider.informer(kind, selection);
  }
}

/** The key of the owner marked `controller: true`, when it is of the `owner` kind. */
export function controllerOwnerKeys(obj: KubeObject, owner: ResourceType): ObjectKey[] {
  const ref = obj.metadata.ownerReferences?.find((r) => r.controller);
  if (!ref || ref.kind !== owner.kind) return [];
  // Versions may differ between owner reference and watch; the group must not.
  const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
  if (group !== owner.group) return [];
  return owner.namespaced && obj.metadata.namespace ? [{ namespace: obj.metadata.namespace, name: ref.name }] : [{ name: ref.name }];
}

function controllerMetrics(registry: Registry, controller: string) {
  const total = counter(registry, {
    name: 'controller_runtime_reconcile_total',
    help: 'Reconciles by result: success, error, requeue_after, terminal.',
    labelNames: ['controller', 'result'],
  });
  return {
    total: (result: 'success' | 'error' | 'requeue_after' | 'terminal') => total.labels({ controller, result }),
    errors: counter(registry, {
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Reconciles that failed and will be retried.',
      labelNames: ['controller'],
    }).labels({ controller }),
    terminalErrors: counter(registry, {
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Reconciles that failed with a TerminalError (not retried).',
      labelNames: ['controller'],
    }).labels({ controller }),
    duration: histogram(registry, {
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'How long one reconcile took.',
      labelNames: ['controller'],
      buckets: durationBuckets,
    }).labels({ controller }),
    active: gauge(registry, {
      name: 'controller_runtime_active_workers',
      help: 'Workers reconciling right now.',
      labelNames: ['controller'],
    }).labels({ controller }),
    maxWorkers: gauge(registry, {
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Workers a controller runs.',
      labelNames: ['controller'],
    }).labels({ controller }),
  };
}

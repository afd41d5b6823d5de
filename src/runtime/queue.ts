// The work queue between informers and reconcilers, with client-go workqueue semantics:
//
// - A key waits in the queue at most once: adding it again while it waits does nothing.
// - A key is processed by at most one worker at a time. Added while being processed, it is
//   marked dirty and queued again once that worker finishes, so the change that arrived
//   mid-reconcile is still seen, and seen by a single reconcile afterwards.
// - Failed keys come back through a rate limiter (per-key back-off, overall token bucket);
//   `addAfter` schedules a key for later, keeping only the earliest of several schedules.
//
// p-queue runs the workers: each key entering the ready list schedules one p-queue task,
// and p-queue's concurrency is the number of workers.
import PQueue from 'p-queue';
import { Registry } from 'prom-client';
import { realClock, type Clock, type Timer } from './clock.js';
import { counter, durationBuckets, gauge, histogram } from './metrics.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';

export interface WorkQueueOptions {
  /** The `name` label of this queue's metrics, usually the controller's name. */
  name: string;
  rateLimiter?: RateLimiter;
  clock?: Clock;
  registry?: Registry;
}

/** Processes one key. A rejection counts as a failure and retries the key rate-limited. */
export type Worker = (key: string) => Promise<void>;

export class WorkQueue {
  readonly name: string;
  private readonly clock: Clock;
  private readonly limiter: RateLimiter;
  /** Keys that need processing: waiting in `ready`, or re-added while being processed. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private ready: string[] = [];
  private readonly enqueuedAt = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: Timer }>();
  private workers?: PQueue;
  private worker?: Worker;
  private stopping = false;
  private readonly metrics: ReturnType<typeof queueMetrics>;

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.clock = opts.clock ?? realClock;
    this.limiter = opts.rateLimiter ?? defaultControllerRateLimiter(this.clock);
    this.metrics = queueMetrics(opts.registry ?? new Registry(), this.name);
  }

  /** Keys waiting for a worker (not those being processed or scheduled for later). */
  get length(): number {
    return this.ready.length;
  }

  get shuttingDown(): boolean {
    return this.stopping;
  }

  add(key: string): void {
    if (this.stopping) return;
    this.metrics.adds.inc();
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    this.enqueuedAt.set(key, this.clock.now());
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds `key` after `ms`. If it is already scheduled sooner, that schedule stands. */
  addAfter(key: string, ms: number): void {
    if (this.stopping) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    existing?.timer.cancel();
    const timer = this.clock.setTimer(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  /** Adds a key that failed, after the delay its rate limiter gives. */
  addRateLimited(key: string): void {
    if (this.stopping) return;
    this.metrics.retries.inc();
    this.addAfter(key, this.limiter.when(key));
  }

  /** The key succeeded (or gave up): its back-off starts over. */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  retries(key: string): number {
    return this.limiter.retries(key);
  }

  /** Starts `concurrency` workers. Keys added before this call wait for it. */
  run(worker: Worker, opts: { concurrency?: number } = {}): void {
    if (this.workers) throw new Error(`work queue ${this.name} is already running`);
    if (this.stopping) throw new Error(`work queue ${this.name} is shut down`);
    this.worker = worker;
    this.workers = new PQueue({ concurrency: opts.concurrency ?? 1 });
    // Count first: a task may start (and take a key) while this loop is still scheduling.
    const waiting = this.ready.length;
    for (let i = 0; i < waiting; i++) this.schedule();
  }

  /** Resolves when no key is waiting or being processed (delayed keys are not counted). */
  async idle(): Promise<void> {
    await this.workers?.onIdle();
  }

  /**
   * Refuses new keys and cancels scheduled ones, then waits for the workers. With `drain`
   * (the default) the keys already waiting are still processed, as client-go's
   * ShutDownWithDrain does; without it they are dropped and only keys in flight finish.
   */
  async shutdown(opts: { drain?: boolean } = {}): Promise<void> {
    this.stopping = true;
    for (const { timer } of this.delayed.values()) timer.cancel();
    this.delayed.clear();
    if (!(opts.drain ?? true) || !this.workers) {
      this.workers?.clear();
      for (const key of this.ready) this.dirty.delete(key);
      this.ready = [];
      this.metrics.depth.set(0);
    }
    await this.workers?.onIdle();
  }

  private push(key: string): void {
    this.ready.push(key);
    this.metrics.depth.set(this.ready.length);
    if (this.workers) this.schedule();
  }

  private schedule(): void {
    void this.workers!.add(() => this.processNext());
  }

  private async processNext(): Promise<void> {
    const key = this.ready.shift();
    if (key === undefined) return;
    this.metrics.depth.set(this.ready.length);
    this.dirty.delete(key);
    this.processing.add(key);
    const started = this.clock.now();
    this.metrics.wait.observe((started - (this.enqueuedAt.get(key) ?? started)) / 1000);
    this.enqueuedAt.delete(key);
    try {
      await this.worker!(key);
    } catch {
      this.addRateLimited(key);
    } finally {
      this.metrics.work.observe((this.clock.now() - started) / 1000);
      this.processing.delete(key);
      // Re-added while it was processed: now it may run again.
      if (this.dirty.has(key)) this.push(key);
    }
  }
}

function queueMetrics(registry: Registry, name: string) {
  const labels = { name };
  return {
    depth: gauge(registry, {
      name: 'workqueue_depth',
      help: 'Keys waiting in the work queue for a worker.',
      labelNames: ['name'],
    }).labels(labels),
    adds: counter(registry, {
      name: 'workqueue_adds_total',
      help: 'Keys added to the work queue (including those already waiting).',
      labelNames: ['name'],
    }).labels(labels),
    wait: histogram(registry, {
      name: 'workqueue_queue_duration_seconds',
      help: 'How long a key waited in the queue before a worker took it.',
      labelNames: ['name'],
      buckets: durationBuckets,
    }).labels(labels),
    work: histogram(registry, {
      name: 'workqueue_work_duration_seconds',
      help: 'How long processing one key took.',
      labelNames: ['name'],
      buckets: durationBuckets,
    }).labels(labels),
    retries: counter(registry, {
      name: 'workqueue_retries_total',
      help: 'Keys re-added through the rate limiter after a failure.',
      labelNames: ['name'],
    }).labels(labels),
  };
}

// Leader election through a coordination.k8s.io/v1 Lease, as client-go's leaderelection does
// it, so VirtFlow controllers and client-go controllers read each other's Leases.
//
// Safety rests on two rules:
// - Every write carries the resourceVersion that was read; a 409 means another candidate
//   wrote first and this one did not win.
// - A lease is "expired" by the local clock: a candidate notes when it last saw the record
//   change and waits leaseDuration from then, so clocks of different machines never need to
//   agree. The leader gives up after renewDeadline (10 s) without a successful renewal,
//   well before any other candidate can take over (15 s), so two leaders never act at once.
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { KubeObject } from '../machinery/object.js';
import { isAlreadyExists, isConflict, isNotFound, type ObjectClient } from './client.js';
import { realClock, type Clock } from './clock.js';
import { gauge } from './metrics.js';
import { Leases } from './resource.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export type Lease = KubeObject & { spec?: LeaseSpec };

export interface LeaderElectionOptions {
  client: ObjectClient;
  namespace: string;
  /** The Lease's name, one per set of controllers that must not run twice. */
  name: string;
  /** Unique per process, e.g. hostname plus a random suffix. */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Hand the lease over at once on graceful shutdown (default true). */
  releaseOnCancel?: boolean;
  clock?: Clock;
  /** Jitter of the retries while not leading, in [0, 1). */
  random?: () => number;
  registry?: Registry;
  log?: Logger;
}

export interface LeaderCallbacks {
  /**
   * Runs the leader's work until `signal` aborts (lost lease or shutdown), and resolves once
   * that work has stopped. On shutdown the lease is released only after that.
   */
  onStartedLeading(signal: AbortSignal): Promise<void> | void;
  /** Called once leading is over, whether by losing the lease or by shutting down. */
  onStoppedLeading?(): void;
  /** Called when a different holder is observed (including this candidate). */
  onNewLeader?(identity: string): void;
}

/** client-go's JitterFactor for the acquire loop: wait retryPeriod * (1 + 1.2 * rand). */
const acquireJitter = 1.2;

export class LeaderElector {
  private readonly opts: Required<Omit<LeaderElectionOptions, 'registry' | 'log' | 'clock' | 'random'>>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly status: ReturnType<typeof leaderMetric>;
  private observed?: LeaseSpec;
  private observedAt = 0;
  /** The lease as last written or read, for renewing without a read first. */
  private lease?: Lease;
  private leading = false;
  private reportedLeader?: string;

  constructor(
    opts: LeaderElectionOptions,
    private readonly callbacks: LeaderCallbacks,
  ) {
    this.opts = {
      client: opts.client,
      namespace: opts.namespace,
      name: opts.name,
      identity: opts.identity,
      leaseDurationMs: opts.leaseDurationMs ?? 15_000,
      renewDeadlineMs: opts.renewDeadlineMs ?? 10_000,
      retryPeriodMs: opts.retryPeriodMs ?? 2_000,
      releaseOnCancel: opts.releaseOnCancel ?? true,
    };
    if (this.opts.leaseDurationMs <= this.opts.renewDeadlineMs) {
      throw new Error('leaseDuration must be greater than renewDeadline');
    }
    if (this.opts.renewDeadlineMs <= this.opts.retryPeriodMs * acquireJitter) {
      throw new Error('renewDeadline must be greater than retryPeriod * 1.2');
    }
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.log = (opts.log ?? pino({ level: 'silent' })).child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    this.status = leaderMetric(opts.registry ?? new Registry(), opts.name);
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last observed, if any. */
  get leader(): string | undefined {
    return this.observed?.holderIdentity || undefined;
  }

  /**
   * Campaigns until elected, leads until the lease is lost or `signal` aborts, then returns.
   * Once it returns after a lost lease the process should exit: its caches and queues were
   * built for a term that is over.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (!(await this.acquire(signal))) return;
    this.leading = true;
    this.status.set(1);
    this.log.info('started leading');
    const term = new AbortController();
    const work = Promise.resolve()
      .then(() => this.callbacks.onStartedLeading(term.signal))
      .catch((err: unknown) => this.log.error({ err }, 'leader work failed'));
    try {
      await this.renewUntilLost(signal);
    } finally {
      term.abort();
      if (signal.aborted) {
        // Shutting down: the work must be over before the lease is handed on, or two
        // leaders would overlap. After a lost lease there is nothing to hand on, and no
        // waiting either: another candidate may take over soon, so stop at once.
        await work;
        if (this.opts.releaseOnCancel) await this.release();
      }
      this.leading = false;
      this.status.set(0);
      this.log.info('stopped leading');
      this.callbacks.onStoppedLeading?.();
    }
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      if (await this.tryAcquireOrRenew(signal)) return true;
      const jitter = this.opts.retryPeriodMs * acquireJitter * this.random();
      await this.clock.sleep(Math.min(this.opts.retryPeriodMs + jitter, this.untilExpiry()), signal);
    }
  }

  /**
   * How long until the observed holder's lease expires by the local clock: a candidate tries
   * again at that instant rather than up to a jittered retry period later, so a dead leader's
   * successor takes over once the lease duration has passed.
   */
  private untilExpiry(): number {
    if (!this.observed?.holderIdentity) return Infinity;
    const left = this.observedAt + (this.observed.leaseDurationSeconds ?? 0) * 1000 - this.clock.now();
    return left > 0 ? left + 1 : Infinity;
  }

  private async renewUntilLost(signal: AbortSignal): Promise<void> {
    let lastRenew = this.clock.now();
    for (;;) {
      await this.clock.sleep(this.opts.retryPeriodMs, signal);
      if (signal.aborted) return;
      if (await this.tryAcquireOrRenew(signal)) {
        lastRenew = this.clock.now();
        continue;
      }
      if (this.clock.now() - lastRenew >= this.opts.renewDeadlineMs) {
        this.log.warn('lost the lease: no renewal within the renew deadline');
        return;
      }
    }
  }

  /** One attempt, never throwing: false means not the leader now (retry later). */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    try {
      return await this.attempt(signal);
    } catch (err) {
      if (!signal.aborted) this.log.warn({ err }, 'cannot acquire or renew the lease');
      return false;
    }
  }

  private async attempt(signal: AbortSignal): Promise<boolean> {
    const { client, namespace, name, identity } = this.opts;
    const now = this.clock.now();
    const requestSignal = AbortSignal.any([signal, AbortSignal.timeout(this.opts.renewDeadlineMs)]);
    const desired: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.opts.leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };

    // Renewing a lease this candidate holds needs no read: the cached version is current
    // unless someone else wrote, and then the update fails with 409 and a read follows.
    if (this.leading && this.lease?.spec?.holderIdentity === identity) {
      try {
        const spec = { ...desired, acquireTime: this.lease.spec.acquireTime, leaseTransitions: this.lease.spec.leaseTransitions };
        this.remember(await client.replace<Lease>(Leases, { ...this.lease, spec }, { signal: requestSignal }), now);
        return true;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }

    let current: Lease;
    try {
      current = await client.get<Lease>(Leases, { namespace, name }, { signal: requestSignal });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        const created = await client.create<Lease>(
          Leases,
          { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { namespace, name }, spec: desired },
          { signal: requestSignal },
        );
        this.remember(created, now);
        return true;
      } catch (createErr) {
        if (isAlreadyExists(createErr)) return false;
        throw createErr;
      }
    }

    const record = current.spec ?? {};
    this.lease = current;
    if (!sameRecord(record, this.observed)) {
      this.observed = record;
      this.observedAt = now;
      this.reportLeader(record.holderIdentity);
    }
    const holder = record.holderIdentity;
    const validUntil = this.observedAt + (record.leaseDurationSeconds ?? 0) * 1000;
    if (holder && holder !== identity && validUntil > now) return false;

    const spec: LeaseSpec =
      holder === identity
        ? { ...desired, acquireTime: record.acquireTime, leaseTransitions: record.leaseTransitions ?? 0 }
        : { ...desired, leaseTransitions: (record.leaseTransitions ?? 0) + 1 };
    try {
      this.remember(await client.replace<Lease>(Leases, { ...current, spec }, { signal: requestSignal }), now);
      return true;
    } catch (err) {
      // Someone else updated the lease since it was read: they won this round.
      if (isConflict(err)) return false;
      throw err;
    }
  }

  private remember(lease: Lease, now: number): void {
    this.lease = lease;
    this.observed = lease.spec ?? {};
    this.observedAt = now;
    this.reportLeader(this.observed.holderIdentity);
  }

  private reportLeader(identity: string | undefined): void {
    if (!identity || identity === this.reportedLeader) return;
    this.reportedLeader = identity;
    this.callbacks.onNewLeader?.(identity);
  }

  /** Empties the holder with a 1 s duration, so the next candidate need not wait it out. */
  private async release(): Promise<void> {
    if (!this.lease || this.lease.spec?.holderIdentity !== this.opts.identity) return;
    const now = microTime(this.clock.now());
    const spec: LeaseSpec = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: this.lease.spec.leaseTransitions ?? 0,
    };
    try {
      // Bounded: a database that is away must not hold up a shutdown.
      const signal = AbortSignal.timeout(this.opts.renewDeadlineMs);
      this.remember(await this.opts.client.replace<Lease>(Leases, { ...this.lease, spec }, { signal }), this.clock.now());
      this.log.info('released the lease');
    } catch (err) {
      // A conflict means it is no longer ours to release; anything else, it expires anyway.
      this.log.warn({ err }, 'cannot release the lease');
    }
  }
}

function sameRecord(a: LeaseSpec, b: LeaseSpec | undefined): boolean {
  return (
    b !== undefined &&
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/** metav1.MicroTime's wire form: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function leaderMetric(registry: Registry, name: string) {
  return gauge(registry, {
    name: 'leader_election_master_status',
    help: '1 while this process holds the lease of that name, else 0.',
    labelNames: ['name'],
  }).labels({ name });
}

// Authentication failures per client, as a token bucket: a client that keeps presenting bad
// tokens is answered 429 with Retry-After before any hash or lookup is spent on it. The
// table of clients is bounded; the least recently failing are forgotten first.
export interface FailureLimiterOptions {
  /** Failures a client may make in a burst. */
  burst?: number;
  /** Failures forgiven per second. */
  perSecond?: number;
  /** Clients remembered at most. */
  maxClients?: number;
  clock?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class FailureLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;
  private readonly perSecond: number;
  private readonly maxClients: number;
  private readonly clock: () => number;

  constructor(opts: FailureLimiterOptions = {}) {
    this.burst = opts.burst ?? 20;
    this.perSecond = opts.perSecond ?? 2;
    this.maxClients = opts.maxClients ?? 10_000;
    this.clock = opts.clock ?? Date.now;
  }

  private refilled(client: string): Bucket | undefined {
    const bucket = this.buckets.get(client);
    if (!bucket) return undefined;
    const now = this.clock();
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (bucket.tokens >= this.burst) {
      this.buckets.delete(client);
      return undefined;
    }
    return bucket;
  }

  /** Seconds until this client may try again, or 0 when it may try now. */
  retryAfter(client: string): number {
    const bucket = this.refilled(client);
    if (!bucket || bucket.tokens >= 1) return 0;
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
  }

  fail(client: string): void {
    const bucket = this.refilled(client) ?? { tokens: this.burst, at: this.clock() };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    // Re-inserted, so the map's order is least recently failing first.
    this.buckets.delete(client);
    this.buckets.set(client, bucket);
    if (this.buckets.size > this.maxClients) this.buckets.delete(this.buckets.keys().next().value!);
  }

  get clients(): number {
    return this.buckets.size;
  }
}

/** A least-recently-used map of bounded size. */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}

// How long a failed key waits before its next try: client-go's workqueue rate limiters.
// DefaultControllerRateLimiter is the larger of a per-key exponential back-off (5 ms doubling
// to 1000 s) and one token bucket for the whole queue (10 per second, burst 100), so a single
// broken object backs off on its own while a mass failure cannot hammer the API server.
import type { Clock } from './clock.js';

export interface RateLimiter {
  /** The delay before `key` may be tried again; calling it counts one more failure. */
  when(key: string): number;
  /** The key succeeded: its failure count starts over. */
  forget(key: string): void;
  /** Failures counted for `key` since it was last forgotten. */
  retries(key: string): number;
}

export class ItemExponentialBackoff implements RateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly baseMs: number;
  private readonly maxMs: number;

  constructor(opts: { baseMs?: number; maxMs?: number } = {}) {
    this.baseMs = opts.baseMs ?? 5;
    this.maxMs = opts.maxMs ?? 1_000_000;
  }

  when(key: string): number {
    const exp = this.failures.get(key) ?? 0;
    this.failures.set(key, exp + 1);
    // 2^exp overflows long before a key could fail that often; the cap is the answer then.
    const delay = this.baseMs * 2 ** Math.min(exp, 62);
    return Math.min(delay, this.maxMs);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * golang.org/x/time/rate's Limiter as client-go uses it (Reserve().Delay()): every call takes
 * a token, going into debt when none is left; the debt is the wait.
 */
export class TokenBucket implements RateLimiter {
  private tokens: number;
  private last: number;
  private readonly qps: number;
  private readonly burst: number;

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    opts: { qps?: number; burst?: number } = {},
  ) {
    this.qps = opts.qps ?? 10;
    this.burst = opts.burst ?? 100;
    this.tokens = this.burst;
    this.last = clock.now();
  }

  when(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  forget(): void {}

  retries(): number {
    return 0;
  }
}

export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    // Every limiter must see the failure (the bucket spends a token, the back-off counts).
    return this.limiters.map((l) => l.when(key)).reduce((a, b) => Math.max(a, b), 0);
  }

  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }

  retries(key: string): number {
    return this.limiters.map((l) => l.retries(key)).reduce((a, b) => Math.max(a, b), 0);
  }
}

export interface ControllerRateLimitOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  qps?: number;
  burst?: number;
}

export function defaultControllerRateLimiter(clock: Pick<Clock, 'now'>, opts: ControllerRateLimitOptions = {}): RateLimiter {
  return new MaxOfRateLimiter(
    new ItemExponentialBackoff({ baseMs: opts.baseDelayMs, maxMs: opts.maxDelayMs }),
    new TokenBucket(clock, { qps: opts.qps, burst: opts.burst }),
  );
}

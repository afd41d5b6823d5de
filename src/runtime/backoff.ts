// Capped, jittered exponential back-off for reconnecting watches and retrying lists. The
// jitter spreads the reconnects of many informers (and many processes) after an API server
// restart, so they do not all land in the same instant.

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** A source in [0, 1), injectable so tests know the delays. */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 1000;
    this.maxMs = opts.maxMs ?? 30_000;
    this.random = opts.random ?? Math.random;
  }

  /** The next delay: between half and all of min(max, initial * 2^attempt). */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 52));
    this.attempt++;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}

/**
 * A delay spread by ±10%, so requeues of many objects decided at once do not all fall due in
 * the same instant; at least 1 ms, as 0 would mean "no requeue" to the controller.
 */
export function jitter(ms: number, random: () => number = Math.random): number {
  if (ms <= 0) return 0;
  return Math.max(1, Math.round(ms * (0.9 + random() * 0.2)));
}

// The reconciler contract, the one thing every controller implements.
//
// reconcile(ctx, key) is level-triggered and idempotent: it reads the object named by `key`
// (and whatever else it needs, from caches or the API), converges the world toward it, and
// says when to come back. It is told nothing about what changed; a deleted object is noticed
// by reading it and finding it gone.
//
// Outcomes:
// - resolves with {}                 -> done; the key's failure count is forgotten.
// - resolves with {requeueAfterMs}   -> done for now; reconcile again after that delay.
// - throws TerminalError             -> recorded (log, metric), not retried until the next
//                                       change to a watched object queues the key again.
// - throws anything else             -> retried with per-key exponential back-off; the
//                                       Result, if any, is ignored.
// There is deliberately no `requeue: true`: a retry is an error, a poll is a delay.
import type { Logger } from 'pino';
import type { ObjectKey } from './keys.js';

export interface ReconcileContext {
  /** Aborted when the controller stops (shutdown or lost leadership): stop early, write nothing more. */
  signal: AbortSignal;
  /** Already bound to the controller and the key. */
  log: Logger;
}

export interface Result {
  requeueAfterMs?: number;
}

export interface Reconciler {
  reconcile(ctx: ReconcileContext, key: ObjectKey): Promise<Result>;
}

/** A reconcile failure that retrying cannot fix, e.g. a spec that can never be satisfied. */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

export function isTerminal(err: unknown): err is TerminalError {
  return err instanceof TerminalError;
}

/**
 * A failure that is the expected, passing state of things (a write the cache has not caught
 * up with yet, say): retried with back-off like any other, but logged at debug level rather
 * than as a warning, as a stale write (409) is.
 */
export class ExpectedRetry extends Error {}

/** Adapts a function to a Reconciler, so tests and small controllers can pass a closure. */
export function reconcilerFn(fn: (ctx: ReconcileContext, key: ObjectKey) => Promise<Result | void>): Reconciler {
  return { reconcile: async (ctx, key) => (await fn(ctx, key)) ?? {} };
}

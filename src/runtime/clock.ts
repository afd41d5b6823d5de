// Time as a dependency: back-off, lease renewal, resync and delayed requeues all read the
// clock and wait through it, so tests drive them with a fake clock instead of sleeping.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms`; cancelling before then means it never runs. */
  setTimer(fn: () => void, ms: number): Timer;
  /**
   * Resolves after `ms`, or as soon as `signal` aborts. It never rejects: loops check their
   * signal after waking, which keeps every wait free of try/catch.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms));
    // A pending requeue or resync must not keep a process alive that has been told to stop.
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
  sleep(ms, signal) {
    return sleepWith(realClock, ms, signal);
  },
};

/** `sleep` for any clock that can set timers. */
export function sleepWith(clock: Pick<Clock, 'setTimer'>, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      timer.cancel();
      resolve();
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

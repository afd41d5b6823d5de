// Helpers for tests of code built on the runtime: a clock that moves only when told to, and
// waiting for a condition instead of sleeping for a guessed time.
import { sleepWith, type Clock, type Timer } from './clock.js';

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: PendingTimer[] = [];

  constructor(start = Date.parse('2030-01-01T00:00:00Z')) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): Timer {
    const timer: PendingTimer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return { cancel: () => (this.timers = this.timers.filter((t) => t !== timer)) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }

  /** Timers not yet fired: how many waits are blocked on this clock. */
  get pending(): number {
    return this.timers.length;
  }

  /** When the earliest pending timer fires, or undefined when none is pending. */
  get nextAt(): number | undefined {
    return this.timers.reduce<number | undefined>((min, t) => (min === undefined || t.at < min ? t.at : min), undefined);
  }

  /** Moves time forward, firing every timer that falls due, in order of due time. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => t.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = end;
  }

  /** Waits (in real time) until at least `count` timers are pending. */
  async waitForTimers(count: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.timers.length >= count, { timeoutMs, what: `${count} pending timers` });
  }
}

/**
 * Resolves once `condition` holds, checking after every turn of the event loop and at least
 * every 5 ms; rejects after `timeoutMs` with what was awaited, so a failure says what hung.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  opts: { timeoutMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'a condition'}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

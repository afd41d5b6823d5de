import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { WorkQueue } from './queue.js';
import { ItemExponentialBackoff } from './rate-limiter.js';
import { FakeClock, waitFor } from './testing.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function metricValue(registry: Registry, name: string, queue: string): Promise<number> {
  const metric = await registry.getSingleMetric(name)!.get();
  const sample = metric.values.find((v) => v.labels.name === queue && !('le' in v.labels) && (v as { metricName?: string }).metricName !== `${name}_sum`);
  return sample?.value ?? 0;
}

describe('WorkQueue', () => {
  it('queues a key at most once while it waits', async () => {
    const registry = new Registry();
    const q = new WorkQueue({ name: 'dedupe', registry });
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    const seen: string[] = [];
    q.run(async (key) => void seen.push(key));
    await q.idle();
    expect(seen).toEqual(['a', 'b']);
    expect(await metricValue(registry, 'workqueue_adds_total', 'dedupe')).toBe(4);
    expect(await metricValue(registry, 'workqueue_depth', 'dedupe')).toBe(0);
  });

  it('never processes one key on two workers, and processes a key re-added mid-work once more after', async () => {
    const q = new WorkQueue({ name: 'one-at-a-time' });
    const gate = deferred();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    q.run(
      async () => {
        running++;
        runs++;
        maxRunning = Math.max(maxRunning, running);
        if (runs === 1) await gate.promise;
        running--;
      },
      { concurrency: 4 },
    );
    q.add('a');
    await waitFor(() => runs === 1, { what: 'first run' });
    q.add('a');
    q.add('a');
    expect(q.length).toBe(0); // dirty, but not waiting: it may not run while it is running
    gate.resolve();
    await waitFor(() => runs === 2, { what: 'second run' });
    await q.idle();
    expect(runs).toBe(2);
    expect(maxRunning).toBe(1);
  });

  it('runs different keys in parallel up to the number of workers', async () => {
    const q = new WorkQueue({ name: 'parallel' });
    const gate = deferred();
    let running = 0;
    let maxRunning = 0;
    q.run(
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await gate.promise;
        running--;
      },
      { concurrency: 3 },
    );
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
    await waitFor(() => running === 3, { what: 'three workers busy' });
    expect(q.length).toBe(2);
    gate.resolve();
    await q.idle();
    expect(maxRunning).toBe(3);
  });

  it('retries a failing key after 5, 10, 20 ms on the injected clock, and forget starts over', async () => {
    const clock = new FakeClock();
    const registry = new Registry();
    const q = new WorkQueue({ name: 'backoff', clock, registry, rateLimiter: new ItemExponentialBackoff() });
    const attempts: number[] = [];
    let fail = true;
    q.run(async (key) => {
      attempts.push(clock.now());
      if (fail) throw new Error('boom');
      q.forget(key);
    });
    const t0 = clock.now();
    q.add('a');
    for (const delay of [5, 10, 20]) {
      await waitFor(() => clock.pending === 1, { what: 'retry scheduled' });
      clock.advance(delay - 1);
      await q.idle();
      const before = attempts.length;
      clock.advance(1);
      await waitFor(() => attempts.length === before + 1, { what: `retry after ${delay} ms` });
    }
    expect(attempts.map((t) => t - t0)).toEqual([0, 5, 15, 35]);
    expect(q.retries('a')).toBe(4);
    fail = false;
    await waitFor(() => clock.pending === 1);
    clock.advance(40);
    await waitFor(() => attempts.length === 5);
    await q.idle();
    expect(q.retries('a')).toBe(0);
    expect(await metricValue(registry, 'workqueue_retries_total', 'backoff')).toBe(4);
  });

  it('rate-limits retries of many keys with the overall token bucket', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ name: 'bucket', clock });
    for (let i = 0; i < 101; i++) q.addRateLimited(`k${i}`);
    // 100 keys fit the burst and wait only their own 5 ms; the 101st waits for a token.
    clock.advance(5);
    expect(q.length).toBe(100);
    clock.advance(94);
    expect(q.length).toBe(100);
    clock.advance(1);
    expect(q.length).toBe(101);
  });

  it('adds a key after a delay, keeping the earliest of several schedules', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ name: 'after', clock });
    q.addAfter('a', 1000);
    q.addAfter('a', 300);
    q.addAfter('a', 2000);
    expect(clock.pending).toBe(1);
    clock.advance(299);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(q.length).toBe(1);
    clock.advance(5000);
    expect(q.length).toBe(1);
    q.addAfter('b', 0);
    expect(q.length).toBe(2);
  });

  it('measures how long a key waited before a worker took it', async () => {
    const clock = new FakeClock();
    const registry = new Registry();
    const q = new WorkQueue({ name: 'latency', clock, registry });
    q.add('a');
    clock.advance(250);
    q.run(async () => {});
    await q.idle();
    const wait = await registry.getSingleMetric('workqueue_queue_duration_seconds')!.get();
    const sum = wait.values.find((v) => (v as { metricName?: string }).metricName === 'workqueue_queue_duration_seconds_sum');
    expect(sum?.value).toBeCloseTo(0.25);
  });

  it('on shutdown with drain processes the keys already waiting, refuses new ones and cancels delayed ones', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ name: 'drain', clock });
    const gate = deferred();
    const seen: string[] = [];
    q.run(async (key) => {
      seen.push(key);
      if (key === 'a') await gate.promise;
    });
    q.add('a');
    q.add('b');
    q.addAfter('c', 10);
    await waitFor(() => seen.length === 1);
    let done = false;
    const stopped = q.shutdown().then(() => (done = true));
    q.add('d');
    expect(clock.pending).toBe(0);
    await Promise.resolve();
    expect(done).toBe(false); // 'a' is still in flight
    gate.resolve();
    await stopped;
    expect(seen).toEqual(['a', 'b']);
  });

  it('on shutdown without drain drops waiting keys but lets the one in flight finish', async () => {
    const q = new WorkQueue({ name: 'nodrain' });
    const gate = deferred();
    const seen: string[] = [];
    let finished = false;
    q.run(async (key) => {
      seen.push(key);
      await gate.promise;
      finished = true;
    });
    q.add('a');
    q.add('b');
    await waitFor(() => seen.length === 1);
    const stopped = q.shutdown({ drain: false });
    gate.resolve();
    await stopped;
    expect(finished).toBe(true);
    expect(seen).toEqual(['a']);
    expect(q.length).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { defaultControllerRateLimiter, ItemExponentialBackoff, MaxOfRateLimiter, TokenBucket } from './rate-limiter.js';
import { FakeClock } from './testing.js';

describe('ItemExponentialBackoff', () => {
  it('doubles from 5 ms per failure of the same key, independently of other keys', () => {
    const backoff = new ItemExponentialBackoff();
    expect([1, 2, 3, 4, 5].map(() => backoff.when('a'))).toEqual([5, 10, 20, 40, 80]);
    expect(backoff.when('b')).toBe(5);
    expect(backoff.retries('a')).toBe(5);
  });

  it('stops at 1000 s however often a key fails', () => {
    const backoff = new ItemExponentialBackoff();
    let last = 0;
    for (let i = 0; i < 200; i++) last = backoff.when('a');
    expect(last).toBe(1_000_000);
  });

  it('starts over after forget', () => {
    const backoff = new ItemExponentialBackoff({ baseMs: 1, maxMs: 100 });
    backoff.when('a');
    backoff.when('a');
    backoff.forget('a');
    expect(backoff.retries('a')).toBe(0);
    expect(backoff.when('a')).toBe(1);
  });
});

describe('TokenBucket', () => {
  it('lets a burst through at once, then one per 1/qps, and refills with time', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(clock, { qps: 10, burst: 3 });
    expect([bucket.when(), bucket.when(), bucket.when()]).toEqual([0, 0, 0]);
    expect(bucket.when()).toBe(100);
    expect(bucket.when()).toBe(200);
    clock.advance(1000);
    // 10 tokens refilled, capped at the burst of 3, minus the 2 owed.
    expect(bucket.when()).toBe(0);
  });
});

describe('defaultControllerRateLimiter', () => {
  it('is the larger of per-key back-off and the overall bucket (client-go defaults)', () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter(clock);
    const first100 = Array.from({ length: 100 }, (_, i) => limiter.when(`k${i}`));
    expect(first100.every((d) => d === 5)).toBe(true);
    // The bucket (10 qps, burst 100) is empty: the 101st distinct key waits 100 ms.
    expect(limiter.when('k100')).toBe(100);
    expect(new MaxOfRateLimiter().when('x')).toBe(0);
  });
});

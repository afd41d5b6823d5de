// Authentication under hostile traffic, over real HTTPS: malformed tokens are refused before
// any hash or lookup, only valid tokens are cached (a flood of bad ones evicts none), and a
// client that keeps failing is answered 429 with Retry-After while valid tokens still work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailureLimiter, LruCache } from '../../src/auth/failure-limiter.js';
import { newToken } from '../../src/api/auth.js';
import { startTestServer, type TestServer } from '../support/server.js';

let vf: TestServer;

beforeAll(async () => {
  vf = await startTestServer();
});
afterAll(async () => {
  await vf?.stop();
});

const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe('the failure limiter and the token cache', () => {
  it('lets a client fail a burst, then asks it to wait, and forgives with time', () => {
    let now = 0;
    const limiter = new FailureLimiter({ burst: 3, perSecond: 1, clock: () => now });
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfter('a')).toBe(0);
      limiter.fail('a');
    }
    expect(limiter.retryAfter('a')).toBe(1);
    expect(limiter.retryAfter('b')).toBe(0);
    now += 1000;
    expect(limiter.retryAfter('a')).toBe(0);
  });

  it('remembers a bounded number of clients and tokens, least recently used first out', () => {
    const limiter = new FailureLimiter({ maxClients: 2 });
    for (const c of ['a', 'b', 'c']) limiter.fail(c);
    expect(limiter.clients).toBe(2);
    const lru = new LruCache<string, number>(2);
    lru.set('x', 1);
    lru.set('y', 2);
    lru.get('x');
    lru.set('z', 3);
    expect([lru.get('x'), lru.get('y'), lru.get('z')]).toEqual([1, undefined, 3]);
  });
});

describe('authentication over HTTPS', () => {
  it('refuses malformed tokens without asking the database', async () => {
    const server = vf.server;
    const spy = server.service.store.db;
    let queries = 0;
    const original = spy.query.bind(spy);
    spy.query = (async (...args: Parameters<typeof original>) => {
      if (String(args[0]).includes('api_tokens')) queries++;
      return original(...args);
    }) as typeof spy.query;
    try {
      for (const bad of ['x', 'a b c', '"><script>', 'é'.repeat(40), 'A'.repeat(5000), 'eyJ.not.a.jwt!']) {
        const res = await vf.call('GET', '/api/v1/namespaces', undefined, { authorization: `Bearer ${bad}`, 'x-test': 'malformed' });
        // Refused at once, and not counted against the client: they cost nothing.
        expect(res.status).toBe(401);
      }
      expect(queries).toBe(0);
      // A well-formed unknown token is looked up once; a valid one is looked up once and cached.
      const valid = await vf.call('GET', '/api/v1/namespaces');
      expect(valid.status).toBe(200);
    } finally {
      spy.query = original;
    }
  });

  it('answers 429 with Retry-After to a client flooding bad tokens, and keeps the good ones working', async () => {
    const cachedBefore = vf.server.auth.cachedTokens;
    expect((await vf.call('GET', '/api/v1/namespaces')).status).toBe(200);
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 60; i++) {
      const res = await vf.call('GET', '/api/v1/namespaces', undefined, as(newToken()));
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers['retry-after'] as string;
        expect(res.body).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429 });
      }
    }
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // Bad tokens were never cached, and the admin token (cached) still works at once.
    expect(vf.server.auth.cachedTokens).toBeLessThanOrEqual(Math.max(cachedBefore, 1) + 1);
    expect((await vf.call('GET', '/api/v1/namespaces')).status).toBe(200);
  });
});

import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/support/server.js';
import type { ObjectClient } from './client.js';
import { LeaderElector, microTime, type Lease } from './leader.js';
import { Leases } from './resource.js';
import { clientFor } from './test-fixtures.js';
import { FakeClock, waitFor } from './testing.js';

let vf: TestServer;
let client: ObjectClient;
beforeAll(async () => {
  vf = await startTestServer();
  client = clientFor(vf.kubeconfig);
});
afterAll(async () => {
  await vf?.stop();
});

/** A client whose every call fails while `down` is set, as if the process were cut off. */
function partitionable(inner: ObjectClient) {
  const link = { down: false };
  const proxied = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (link.down ? Promise.reject(new Error('network down')) : value.apply(target, args));
    },
  });
  return { client: proxied, link };
}

interface Candidate {
  identity: string;
  elector: LeaderElector;
  stop: AbortController;
  done: Promise<void>;
  running: boolean;
  startedAt?: number;
  stoppedAt?: number;
  observedLeaders: string[];
}

/** Two or more candidates on one fake clock; `leaders` counts who leads at each instant. */
function election(lease: string, clock: FakeClock, random: () => number = () => 0) {
  const candidates: Candidate[] = [];
  let leadingNow = 0;
  let maxLeadingAtOnce = 0;
  const registry = new Registry();
  const start = (identity: string, c: ObjectClient = client) => {
    const stop = new AbortController();
    const candidate = { identity, stop, running: true, observedLeaders: [] } as unknown as Candidate;
    candidate.elector = new LeaderElector(
      { client: c, namespace: 'default', name: lease, identity, clock, random, registry },
      {
        onStartedLeading: (signal) => {
          candidate.startedAt = clock.now();
          maxLeadingAtOnce = Math.max(maxLeadingAtOnce, ++leadingNow);
          return new Promise<void>((resolve) =>
            signal.addEventListener('abort', () => {
              leadingNow--;
              resolve();
            }),
          );
        },
        onStoppedLeading: () => (candidate.stoppedAt = clock.now()),
        onNewLeader: (id) => candidate.observedLeaders.push(id),
      },
    );
    candidate.done = candidate.elector.run(stop.signal).finally(() => (candidate.running = false));
    candidates.push(candidate);
    return candidate;
  };
  /** Waits until every running candidate sleeps on the clock, then moves it on. */
  const step = async (ms: number) => {
    await waitFor(() => clock.pending >= candidates.filter((c) => c.running).length, { what: 'candidates to wait' });
    clock.advance(ms);
  };
  const settle = () => waitFor(() => clock.pending >= candidates.filter((c) => c.running).length, { what: 'candidates to wait' });
  return { start, step, settle, registry, maxLeading: () => maxLeadingAtOnce };
}

async function readLease(name: string): Promise<Lease> {
  return client.get<Lease>(Leases, { namespace: 'default', name });
}

describe('LeaderElector against the API server', () => {
  it('lets one of two candidates lead, and the other take over within the lease duration once the leader stops renewing', async () => {
    const clock = new FakeClock();
    const e = election('takeover', clock);
    const cut = partitionable(client);
    const a = e.start('a', cut.client);
    await waitFor(() => a.elector.isLeader(), { what: 'a to lead' });
    const b = e.start('b');
    await waitFor(() => b.observedLeaders.includes('a'), { what: 'b to see a leading' });

    // While a renews, b keeps waiting however long it waits.
    for (let i = 0; i < 10; i++) await e.step(2000);
    await e.settle();
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect((await readLease('takeover')).spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });

    cut.link.down = true;
    const cutAt = clock.now();
    while (!b.elector.isLeader()) await e.step(2000);
    await a.done;
    expect(a.stoppedAt! - cutAt).toBeLessThanOrEqual(10_000 + 2000);
    expect(b.startedAt! - cutAt).toBeGreaterThanOrEqual(15_000 - 2000);
    // b may have seen a's last renewal one poll late, and polls every 2 s after expiry.
    expect(b.startedAt! - cutAt).toBeLessThanOrEqual(15_000 + 2 * 2000);
    expect(e.maxLeading()).toBe(1);
    expect((await readLease('takeover')).spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    b.stop.abort();
    await b.done;
  });

  it('takes over the moment a dead leader\'s lease expires, not a jittered retry later', async () => {
    const clock = new FakeClock();
    // The longest jitter: a candidate polls every 2 s x 2.2.
    const e = election('expiry', clock, () => 0.999);
    const cut = partitionable(client);
    const a = e.start('a', cut.client);
    await waitFor(() => a.elector.isLeader(), { what: 'a to lead' });
    // When b last saw the record change: its lease runs from there, by b's clock.
    const seen = { renewTime: '', at: 0 };
    const observing = new Proxy(client, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'get') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          const lease = (await value.apply(target, args)) as Lease;
          if (lease.spec?.renewTime !== seen.renewTime) Object.assign(seen, { renewTime: lease.spec?.renewTime, at: clock.now() });
          return lease;
        };
      },
    });
    const b = e.start('b', observing);
    for (let i = 0; i < 10; i++) await e.step(500);
    cut.link.down = true;
    while (!b.elector.isLeader()) await e.step(100);
    expect(b.startedAt! - seen.at).toBeGreaterThanOrEqual(15_000);
    // At the next step of the clock after the expiry, not up to a poll (4.4 s) later.
    expect(b.startedAt! - seen.at).toBeLessThanOrEqual(15_000 + 100);
    expect(e.maxLeading()).toBe(1);
    b.stop.abort();
    await Promise.all([a.done, b.done]);
  });

  it('releases the lease on shutdown so the next candidate takes over at its next try', async () => {
    const clock = new FakeClock();
    const e = election('release', clock);
    const a = e.start('a');
    await waitFor(() => a.elector.isLeader());
    const b = e.start('b');
    await waitFor(() => b.observedLeaders.includes('a'));
    await e.settle();
    a.stop.abort();
    await a.done;
    expect(a.stoppedAt).toBeDefined();
    expect((await readLease('release')).spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    await e.step(2000);
    await waitFor(() => b.elector.isLeader(), { what: 'b to lead after one retry period' });
    const metric = await e.registry.getSingleMetric('leader_election_master_status')!.get();
    expect(metric.values.find((v) => v.labels.name === 'release')?.value).toBe(1);
    b.stop.abort();
    await b.done;
    expect(e.maxLeading()).toBe(1);
  });

  it('lets exactly one of two candidates win an expired lease: the other gets 409', async () => {
    await client.create<Lease>(Leases, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { namespace: 'default', name: 'race' },
      spec: { holderIdentity: 'gone', leaseDurationSeconds: 15, renewTime: microTime(0), acquireTime: microTime(0), leaseTransitions: 3 },
    });
    const clock = new FakeClock();
    const e = election('race', clock);
    const a = e.start('a');
    const b = e.start('b');
    await waitFor(() => a.observedLeaders.includes('gone') && b.observedLeaders.includes('gone'));
    // Both saw the record at the same instant; both may take it after 15 s; one write wins.
    for (let i = 0; i < 8; i++) await e.step(2000);
    await e.settle();
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
    const lease = await readLease('race');
    expect(lease.spec?.leaseTransitions).toBe(4);
    expect(['a', 'b']).toContain(lease.spec?.holderIdentity);
    a.stop.abort();
    b.stop.abort();
    await Promise.all([a.done, b.done]);
  });

  it('rejects timings where a leader could outlive its lease', () => {
    expect(() => new LeaderElector({ client, namespace: 'default', name: 'x', identity: 'i', leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }, { onStartedLeading: () => {} })).toThrow(/leaseDuration/);
  });

  it('writes lease times as MicroTime with six fractional digits', () => {
    expect(microTime(Date.parse('2030-01-02T03:04:05.678Z'))).toBe('2030-01-02T03:04:05.678000Z');
  });
});

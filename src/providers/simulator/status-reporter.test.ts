// The callback sender against a recording HTTP endpoint: order, coalescing, retries on the
// injected clock, and what is given up.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, waitFor } from '../../runtime/testing.js';
import { combineMergePatches, StatusReporter } from './status-reporter.js';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

let received: Received[];
/** Status codes to answer, in order; 200 once they run out. */
let answers: number[];
/** When set, requests are held until released. */
let hold: boolean;
let held: (() => void)[];
let server: http.Server;
let apiServer: string;
let clock: FakeClock;
let reporter: StatusReporter;

beforeEach(async () => {
  received = [];
  answers = [];
  hold = false;
  held = [];
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body: JSON.parse(text) });
      const respond = () => res.writeHead(answers.shift() ?? 200, { 'content-type': 'application/json' }).end('{}');
      if (hold) held.push(respond);
      else respond();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiServer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  clock = new FakeClock();
  reporter = new StatusReporter({ clock, defaults: { apiServer, token: 'configured-token' } });
});

afterEach(async () => {
  reporter.stop();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const statusPath = '/apis/virtflow.io/v1alpha1/namespaces/default/virtualmachines/web-1/status';

describe('StatusReporter', () => {
  it('misdelivers on request: an accepted report again at once, or again after newer ones', async () => {
    // Per accepted report, two draws: duplicate at once (< 0.5), send again later (< 0.5).
    const draws = [1, 0, 0, 1];
    reporter.misdeliver({ duplicateRate: 0.5, reorderRate: 0.5, reorderDelayMs: 1_000, random: () => draws.shift() ?? 1 });
    reporter.report('u1', { apiServer, statusPath }, { powerState: 'Off' });
    await reporter.whenIdle();
    expect(reporter.replaysPending).toBe(1);
    reporter.report('u1', { apiServer, statusPath }, { powerState: 'On' });
    await reporter.whenIdle();
    await waitFor(() => received.length === 3);
    clock.advance(1_000);
    await waitFor(() => received.length === 4);
    expect(received.map((r) => r.body.status.powerState)).toEqual(['Off', 'On', 'On', 'Off']);
    expect(reporter.counts).toEqual({ sent: 2, retried: 0, dropped: 0, duplicated: 1, reordered: 1 });
    await waitFor(() => reporter.replaysPending === 0);
  });

  it('PATCHes a merge patch to apiServer + statusPath with the configured token when the request has none', async () => {
    reporter.report('u1', { apiServer, statusPath }, { powerState: 'On' });
    await reporter.whenIdle();
    expect(received).toEqual([
      expect.objectContaining({ method: 'PATCH', url: statusPath, body: { status: { powerState: 'On' } } }),
    ]);
    expect(received[0]!.headers).toMatchObject({
      'content-type': 'application/merge-patch+json',
      authorization: 'Bearer configured-token',
    });
    expect(reporter.counts).toEqual({ sent: 1, retried: 0, dropped: 0, duplicated: 0, reordered: 0 });
  });

  it('prefers the token of the request\'s callback', async () => {
    reporter.report('u1', { apiServer, statusPath, token: 'status-writer' }, { powerState: 'On' });
    await reporter.whenIdle();
    expect(received[0]!.headers.authorization).toBe('Bearer status-writer');
  });

  it('sends every report to the configured API server, never the configured token to one a request names', async () => {
    const elsewhere: http.IncomingHttpHeaders[] = [];
    const trap = http.createServer((req, res) => {
      elsewhere.push(req.headers);
      res.writeHead(200).end('{}');
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    try {
      reporter.report('u1', { apiServer: trapUrl, statusPath }, { powerState: 'On' });
      await reporter.whenIdle();
      expect(received[0]!.headers.authorization).toBe('Bearer configured-token');
      // Without a configured API server, a request's own goes with its own token only.
      const bare = new StatusReporter({ clock, defaults: { token: 'configured-token' } });
      bare.report('u2', { apiServer: trapUrl, statusPath }, { powerState: 'On' });
      await bare.whenIdle();
      bare.stop();
      expect(elsewhere).toHaveLength(1);
      expect(elsewhere[0]!.authorization).toBeUndefined();
    } finally {
      trap.closeAllConnections();
      await new Promise<void>((resolve) => trap.close(() => resolve()));
    }
  });

  it('sends one patch per uid at a time, combining those queued behind it in order', async () => {
    hold = true;
    const cb = { apiServer, statusPath };
    reporter.report('u1', cb, { lastOperation: { id: 'a', state: 'Running', message: null } });
    await waitFor(() => held.length === 1, { what: 'the first patch in flight' });
    reporter.report('u1', cb, { lastOperation: { id: 'a', state: 'Succeeded', message: 'done' }, powerState: 'On' });
    reporter.report('u1', cb, { powerState: 'Off' });
    expect(reporter.pending).toBe(1);
    hold = false;
    held.shift()!();
    await reporter.whenIdle();
    expect(received.map((r) => r.body)).toEqual([
      { status: { lastOperation: { id: 'a', state: 'Running', message: null } } },
      { status: { lastOperation: { id: 'a', state: 'Succeeded', message: 'done' }, powerState: 'Off' } },
    ]);
  });

  it('retries a 503 after the back-off on the injected clock, and keeps newer reports after it', async () => {
    answers = [503];
    const cb = { apiServer, statusPath };
    reporter.report('u1', cb, { powerState: 'On' });
    await waitFor(() => clock.pending === 1, { what: 'the retry timer' });
    expect(reporter.counts.retried).toBe(1);
    reporter.report('u1', cb, { externalId: 'sim-1' });
    expect(clock.nextAt).toBe(clock.now() + 100);
    clock.advance(100);
    await reporter.whenIdle();
    expect(received.map((r) => r.body)).toEqual([
      { status: { powerState: 'On' } },
      { status: { powerState: 'On', externalId: 'sim-1' } },
    ]);
    expect(reporter.counts).toEqual({ sent: 1, retried: 1, dropped: 0, duplicated: 0, reordered: 0 });
  });

  it('backs off exponentially up to the cap while the API server keeps failing', async () => {
    const capped = new StatusReporter({ clock, baseBackoffMs: 100, maxBackoffMs: 250 });
    try {
      answers = [500, 500, 500];
      capped.report('u1', { apiServer, statusPath }, { powerState: 'On' });
      const delays: number[] = [];
      for (let i = 0; i < 3; i++) {
        await waitFor(() => clock.pending === 1, { what: `retry timer ${i + 1}` });
        delays.push(clock.nextAt! - clock.now());
        clock.advance(clock.nextAt! - clock.now());
      }
      await capped.whenIdle();
      expect(delays).toEqual([100, 200, 250]);
      expect(capped.counts).toEqual({ sent: 1, retried: 3, dropped: 0, duplicated: 0, reordered: 0 });
    } finally {
      capped.stop();
    }
  });

  it('drops a report for a VM that is gone (404) without retrying', async () => {
    answers = [404];
    reporter.report('u1', { apiServer, statusPath }, { powerState: 'On' });
    await reporter.whenIdle();
    expect(clock.pending).toBe(0);
    expect(reporter.counts).toEqual({ sent: 0, retried: 0, dropped: 1, duplicated: 0, reordered: 0 });
  });

  it('retries when the API server cannot be reached', async () => {
    const closed = new StatusReporter({ clock, defaults: { apiServer: 'http://127.0.0.1:1' } });
    closed.report('u1', { statusPath }, { powerState: 'On' });
    await waitFor(() => clock.pending === 1, { what: 'the retry timer' });
    expect(closed.counts.retried).toBe(1);
    closed.stop();
  });

  it('drops a report when neither the request nor the configuration names an API server', async () => {
    const bare = new StatusReporter({ clock });
    bare.report('u1', { statusPath }, { powerState: 'On' });
    await bare.whenIdle();
    expect(bare.counts.dropped).toBe(1);
    bare.stop();
  });
});

describe('combineMergePatches', () => {
  it('has the effect of applying the first patch and then the second', () => {
    expect(
      combineMergePatches(
        { status: { lastOperation: { id: 'a', state: 'Running', finishedAt: null }, addresses: [{ address: '10.0.0.1' }] } },
        { status: { lastOperation: { state: 'Succeeded', finishedAt: 'T' }, addresses: [], externalId: null } },
      ),
    ).toEqual({
      status: { lastOperation: { id: 'a', state: 'Succeeded', finishedAt: 'T' }, addresses: [], externalId: null },
    });
  });
});

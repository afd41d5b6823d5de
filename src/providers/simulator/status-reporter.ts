// How an external controller reports back: JSON merge patches of a VM's status subresource,
// PATCHed to VirtFlow's API with the callback's bearer token and CA. Patches for one uid go
// out one at a time and in order; patches queued behind one in flight are combined (a later
// merge patch applied on top of an earlier one), so a fast operation costs one request.
// Transient failures (connection, timeout, 5xx, 429, 409) are retried with capped
// exponential back-off through the injected clock; a 404 means the VM is gone and the patch
// is dropped, as are other refusals (logged), since retrying cannot change them.
//
// For fault tests the reporter can also misdeliver, as a real controller's network may:
// send an accepted report again at once (a duplicate), or again later, after newer ones
// (out of order). VirtFlow must converge all the same.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../runtime/clock.js';
import type { CallbackTarget } from '../http-provider.js';
import type { Callback } from '../protocol.js';
import type { Random } from './random.js';

export interface StatusReporterOptions {
  clock: Clock;
  /**
   * The simulator's own API server, CA and token. When apiServer is set, every report goes
   * there (with this CA), whatever a request's callback says; the request's token is used
   * when it brings one.
   */
  defaults?: CallbackTarget;
  log?: Logger;
  /** Bound on one PATCH; default 30 s. */
  requestTimeoutMs?: number;
  /** First retry delay; doubles per attempt up to maxBackoffMs. Defaults 100 ms and 30 s. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

type Outcome = 'sent' | 'retry' | 'drop';

interface Pending {
  callback: Callback;
  patch: Record<string, unknown>;
}

interface Entry {
  queued?: Pending;
  inFlight: boolean;
  attempt: number;
  timer?: Timer;
}

export interface ReporterCounts {
  /** Patches the API server accepted. */
  sent: number;
  /** Attempts that failed transiently and were retried. */
  retried: number;
  /** Patches given up: the VM is gone (404) or the API server refused them. */
  dropped: number;
  /** Accepted patches sent once more at once (see misdeliver). */
  duplicated: number;
  /** Accepted patches sent once more later, after newer ones (see misdeliver). */
  reordered: number;
}

/** Which accepted reports are sent again; see StatusReporter.misdeliver. */
export interface Misdelivery {
  /** Chance (0..1) that an accepted report is sent again at once. */
  duplicateRate?: number;
  /** Chance (0..1) that an accepted report is sent again `reorderDelayMs` later. */
  reorderRate?: number;
  /** Default 300 ms: long enough for the next report of the operation to overtake it. */
  reorderDelayMs?: number;
  random: Random;
}

export class StatusReporter {
  readonly counts: ReporterCounts = { sent: 0, retried: 0, dropped: 0, duplicated: 0, reordered: 0 };
  private misdelivery?: Misdelivery;
  private readonly replays = new Set<Timer | Promise<unknown>>();
  private readonly entries = new Map<string, Entry>();
  private readonly agents = new Map<string, http.Agent>();
  private idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly opts: StatusReporterOptions) {}

  /** Queues `status` (the value of the patch's `status` key) for the VM of `uid`. */
  report(uid: string, callback: Callback, status: Record<string, unknown>): void {
    if (this.stopped) return;
    let entry = this.entries.get(uid);
    if (!entry) {
      entry = { inFlight: false, attempt: 0 };
      this.entries.set(uid, entry);
    }
    const patch = { status };
    entry.queued = entry.queued
      ? { callback, patch: combineMergePatches(entry.queued.patch, patch) }
      : { callback, patch };
    this.pump(uid, entry);
  }

  /** From now on, sends accepted reports again as `how` says (fault tests); undefined stops it. */
  misdeliver(how: Misdelivery | undefined): void {
    this.misdelivery = how;
  }

  /** Reports to be sent again (misdeliver) that have not been sent yet. */
  get replaysPending(): number {
    return this.replays.size;
  }

  /** uids with a patch queued, waiting for a retry, or in flight. */
  get pending(): number {
    return this.entries.size;
  }

  /** Resolves once no patch is queued or in flight. */
  whenIdle(): Promise<void> {
    if (this.entries.size === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const entry of this.entries.values()) entry.timer?.cancel();
    this.entries.clear();
    for (const replay of this.replays) if ('cancel' in replay) replay.cancel();
    this.replays.clear();
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
    this.notifyIdle();
  }

  private pump(uid: string, entry: Entry): void {
    if (this.stopped || entry.inFlight || entry.timer || !entry.queued) return;
    const sending = entry.queued;
    entry.queued = undefined;
    entry.inFlight = true;
    void this.send(uid, sending).then((outcome) => {
      entry.inFlight = false;
      if (this.stopped) return;
      if (outcome === 'sent') {
        this.counts.sent++;
        entry.attempt = 0;
        this.maybeReplay(uid, sending);
      } else if (outcome === 'retry') {
        this.counts.retried++;
        entry.attempt++;
        // The failed patch goes first, anything queued since on top of it.
        entry.queued = entry.queued
          ? { callback: entry.queued.callback, patch: combineMergePatches(sending.patch, entry.queued.patch) }
          : sending;
        const base = this.opts.baseBackoffMs ?? 100;
        const delay = Math.min(base * 2 ** (entry.attempt - 1), this.opts.maxBackoffMs ?? 30_000);
        entry.timer = this.opts.clock.setTimer(() => {
          entry.timer = undefined;
          this.pump(uid, entry);
        }, delay);
        return;
      } else {
        this.counts.dropped++;
        entry.attempt = 0;
      }
      if (entry.queued) return this.pump(uid, entry);
      this.entries.delete(uid);
      if (this.entries.size === 0) this.notifyIdle();
    });
  }

  /** Outside the per-uid order on purpose: that is what a misdelivery is. Sent once, never retried. */
  private maybeReplay(uid: string, sent: Pending): void {
    const how = this.misdelivery;
    if (!how) return;
    const replay = () => {
      const sending = this.send(uid, sent).finally(() => this.replays.delete(sending));
      this.replays.add(sending);
    };
    if (how.random() < (how.duplicateRate ?? 0)) {
      this.counts.duplicated++;
      replay();
    }
    if (how.random() < (how.reorderRate ?? 0)) {
      this.counts.reordered++;
      const timer = this.opts.clock.setTimer(() => {
        this.replays.delete(timer);
        if (!this.stopped) replay();
      }, how.reorderDelayMs ?? 300);
      this.replays.add(timer);
    }
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private send(uid: string, { callback, patch }: Pending): Promise<Outcome> {
    const defaults = this.opts.defaults ?? {};
    // A configured API server is the only destination, with its own CA: the configured token
    // never goes to an address a request named. Without one, a request's own callback is used,
    // with its own token only.
    const own = defaults.apiServer !== undefined;
    const apiServer = own ? defaults.apiServer : callback.apiServer;
    const token = callback.token ?? (own ? defaults.token : undefined);
    const ca = own ? defaults.caCert : callback.caCert;
    const log = this.opts.log;
    if (!apiServer) {
      log?.warn({ uid }, 'cannot report status: no callback apiServer in the request nor configured');
      return Promise.resolve('drop');
    }
    let url: URL;
    try {
      url = new URL(`${apiServer.replace(/\/+$/, '')}${callback.statusPath}`);
    } catch {
      log?.warn({ uid, apiServer }, 'cannot report status: the callback URL is not valid');
      return Promise.resolve('drop');
    }
    const body = JSON.stringify(patch);
    const secure = url.protocol === 'https:';
    const agent = this.agentFor(url, ca, secure);
    return new Promise<Outcome>((resolve) => {
      const request = (secure ? https : http).request(
        url,
        {
          method: 'PATCH',
          agent,
          headers: {
            'content-type': 'application/merge-patch+json',
            accept: 'application/json',
            'content-length': Buffer.byteLength(body),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', () => resolve('retry'));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve('sent');
            const text = Buffer.concat(chunks).toString('utf8').slice(0, 1000);
            if (status >= 500 || status === 429 || status === 409 || status === 408) {
              log?.info({ uid, status }, 'status report failed; retrying');
              return resolve('retry');
            }
            if (status === 404) log?.info({ uid, path: callback.statusPath }, 'the VM is gone; status report dropped');
            else log?.warn({ uid, status, body: text }, 'the API server refused the status report; dropped');
            resolve('drop');
          });
        },
      );
      request.setTimeout(this.opts.requestTimeoutMs ?? 30_000, () => request.destroy(new Error('status report timed out')));
      request.on('error', (err) => {
        log?.info({ uid, err: err.message }, 'status report failed; retrying');
        resolve('retry');
      });
      request.end(body);
    });
  }

  /** One keep-alive agent per API server and CA, so reports reuse their TLS connections. */
  private agentFor(url: URL, ca: string | undefined, secure: boolean): http.Agent {
    const key = `${url.origin}\n${ca ?? ''}`;
    let agent = this.agents.get(key);
    if (!agent) {
      agent = secure
        ? new https.Agent({ keepAlive: true, maxSockets: 32, ...(ca ? { ca } : {}) })
        : new http.Agent({ keepAlive: true, maxSockets: 32 });
      this.agents.set(key, agent);
    }
    return agent;
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * One merge patch with the effect of applying `first` then `second` (RFC 7386), for patches
 * whose objects are not replaced by null and then rebuilt within the pair, which holds for
 * status reports: they set lastOperation whole and the other fields as values.
 */
export function combineMergePatches(first: Record<string, unknown>, second: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...first };
  for (const [key, value] of Object.entries(second)) {
    const prior = out[key];
    out[key] = isPlainObject(prior) && isPlainObject(value) ? combineMergePatches(prior, value) : value;
  }
  return out;
}

/**
 * The callback target of a kubeconfig's current context (server, CA, token), for a
 * simulator run outside VirtFlow's own process (`virtflow agent simulate --kubeconfig`).
 */
export function callbackTargetFromKubeconfig(file: string): CallbackTarget {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster) throw new Error(`cannot read a callback target from ${file}: no current cluster`);
  const caCert = cluster.caData
    ? Buffer.from(cluster.caData, 'base64').toString('utf8')
    : cluster.caFile
      ? readFileSync(cluster.caFile, 'utf8')
      : undefined;
  return { apiServer: cluster.server, caCert, token: user?.token };
}

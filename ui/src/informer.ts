// Live caches the way informers keep them: list once, then watch from the list's
// resourceVersion over a streaming fetch; a stream that ends is resumed from the last
// resourceVersion seen (bookmarks included), and a 410 Gone relists. Failures back off
// (1 s doubling to 30 s, jittered). Nothing is polled.
//
// A browser holds at most six HTTP/1.1 connections per server, and every watch holds one,
// so a kind is watched only while a page uses it (see Hub.use): a page that is left keeps
// its cache, and coming back resumes the watch from where it stopped.
import type { KubeObject } from '../../src/machinery/object.js';
import { ApiFailure, authHeaders, failureOf, request } from './api.js';
import { collectionPath, keyOf, type ResourceRef } from './resources.js';

export type InformerState = 'idle' | 'loading' | 'live' | 'reconnecting' | 'forbidden' | 'unavailable';

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & { code?: number; reason?: string; message?: string };
}

interface ListBody {
  metadata: { resourceVersion?: string };
  items: KubeObject[];
}

/** A watch that delivers nothing (not even a bookmark) for this long is started again. */
const STALE_MS = 150_000;

export class Informer<T extends KubeObject = KubeObject> {
  readonly items = new Map<string, T>();
  state: InformerState = 'idle';
  /** The last failure, as a sentence; cleared when the cache is live again. */
  error?: ApiFailure;
  synced = false;
  /** Bumped on every change: pages memoize their aggregates on it. */
  revision = 0;
  private resourceVersion?: string;
  private abort?: AbortController;
  private readonly listeners = new Set<() => void>();

  constructor(readonly ref: ResourceRef) {}

  list(): T[] {
    return [...this.items.values()];
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get running(): boolean {
    return this.abort !== undefined;
  }

  start(): void {
    if (this.abort) return;
    this.abort = new AbortController();
    void this.run(this.abort.signal);
  }

  stop(): void {
    this.abort?.abort();
    this.abort = undefined;
    if (this.state === 'live' || this.state === 'loading' || this.state === 'reconnecting') this.state = 'idle';
  }

  private changed(): void {
    this.revision++;
    for (const l of this.listeners) l();
  }

  private async run(signal: AbortSignal): Promise<void> {
    let delay = 1000;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.relist(signal);
        const started = Date.now();
        await this.watch(signal);
        // A stream the server ends at once, again and again, must not become a busy loop.
        if (Date.now() - started < 1000) {
          await sleep(delay * (0.8 + Math.random() * 0.4), signal);
          delay = Math.min(delay * 2, 30_000);
        } else delay = 1000;
      } catch (err) {
        if (signal.aborted) return;
        const failure = err instanceof ApiFailure ? err : new ApiFailure(0, 'StreamError', (err as Error).message);
        if (failure.code === 410) {
          // Too old to resume: start again from a fresh list, as informers do.
          this.resourceVersion = undefined;
          continue;
        }
        this.error = failure;
        // Not allowed or not served: say so, and try again only much later (roles and CRDs
        // can change, but not every second).
        this.state = failure.code === 403 ? 'forbidden' : failure.code === 404 ? 'unavailable' : 'reconnecting';
        this.changed();
        const wait = this.state === 'reconnecting' ? delay : 30_000;
        delay = Math.min(delay * 2, 30_000);
        await sleep(wait * (0.8 + Math.random() * 0.4), signal);
      }
    }
  }

  private async relist(signal: AbortSignal): Promise<void> {
    if (!this.synced) this.state = 'loading';
    // One request per kind: the server answers a list from its cache in one pass, where
    // pages of a list pinned to a revision cost it more. The first list may be served from
    // whatever the server has (resourceVersion=0, as reflectors do); a relist after 410 Gone
    // must not go back in time, so it asks for the latest state.
    const query = this.synced ? '' : '?resourceVersion=0';
    const body = await request<ListBody>('GET', `${collectionPath(this.ref)}${query}`);
    if (signal.aborted) return;
    performance.mark(`vf:listed:${this.ref.plural}`);
    const apiVersion = this.ref.group ? `${this.ref.group}/${this.ref.version}` : this.ref.version;
    // Replacing the map's content yields the deletes a relist implies.
    this.items.clear();
    for (const item of body.items) {
      // Lists leave kind and apiVersion off their items.
      item.kind = this.ref.kind;
      item.apiVersion = apiVersion;
      this.items.set(keyOf(item), item as T);
    }
    this.resourceVersion = body.metadata.resourceVersion;
    this.synced = true;
    this.state = 'live';
    this.error = undefined;
    this.changed();
  }

  private async watch(signal: AbortSignal): Promise<void> {
    const query = new URLSearchParams({ watch: '1', allowWatchBookmarks: 'true', resourceVersion: this.resourceVersion ?? '0' });
    const stream = new AbortController();
    const onAbort = () => stream.abort();
    signal.addEventListener('abort', onAbort);
    let staleTimer: ReturnType<typeof setTimeout> | undefined;
    const fresh = () => {
      clearTimeout(staleTimer);
      staleTimer = setTimeout(() => stream.abort(), STALE_MS);
    };
    try {
      fresh();
      const res = await fetch(`${collectionPath(this.ref)}?${query}`, { headers: authHeaders(), signal: stream.signal });
      if (!res.ok || !res.body) throw await failureOf(res);
      if (this.state !== 'live') {
        this.state = 'live';
        this.error = undefined;
        this.changed();
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffered = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        fresh();
        buffered += value;
        let newline: number;
        let touched = false;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) touched = this.apply(JSON.parse(line) as WatchEvent) || touched;
        }
        if (touched) this.changed();
      }
    } catch (err) {
      // Our own staleness abort: resume from the last resourceVersion.
      if (stream.signal.aborted && !signal.aborted) return;
      throw err;
    } finally {
      clearTimeout(staleTimer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** One watch event into the cache; answers whether the cache changed. */
  private apply(event: WatchEvent): boolean {
    if (event.type === 'ERROR') {
      const s = event.object;
      throw new ApiFailure(s.code ?? 500, s.reason ?? 'InternalError', s.message ?? 'the watch failed');
    }
    const rv = event.object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (event.type === 'BOOKMARK') return false;
    const obj = event.object as unknown as T;
    const key = keyOf(obj);
    if (event.type === 'DELETED') return this.items.delete(key);
    this.items.set(key, obj);
    return true;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * One informer per resource, started while some page uses it. Releases stop a watch a
 * moment later, so that moving between two pages that share a kind keeps its stream.
 */
export class Hub {
  private readonly informers = new Map<string, Informer>();
  private readonly users = new Map<string, number>();

  informer<T extends KubeObject>(ref: ResourceRef): Informer<T> {
    let inf = this.informers.get(ref.plural);
    if (!inf) {
      inf = new Informer(ref);
      this.informers.set(ref.plural, inf);
    }
    return inf as Informer<T>;
  }

  /** Keeps the refs' watches running and calls onChange (coalesced) until released. */
  use(refs: readonly ResourceRef[], onChange: () => void): () => void {
    // Bursts of events (a thousand VMs changing) re-render once per 50 ms, not once each.
    let scheduled = false;
    const notify = () => {
      if (scheduled) return;
      scheduled = true;
      setTimeout(() => {
        scheduled = false;
        onChange();
      }, 50);
    };
    const unsubscribes = refs.map((ref) => {
      const inf = this.informer(ref);
      this.users.set(ref.plural, (this.users.get(ref.plural) ?? 0) + 1);
      inf.start();
      return inf.subscribe(notify);
    });
    return () => {
      unsubscribes.forEach((u) => u());
      for (const ref of refs) this.users.set(ref.plural, (this.users.get(ref.plural) ?? 1) - 1);
      setTimeout(() => {
        for (const ref of refs) if ((this.users.get(ref.plural) ?? 0) <= 0) this.informers.get(ref.plural)?.stop();
      }, 0);
    };
  }

  /** A fresh list of a resource, for a one-off computation (the placement preview). */
  async listOnce<T extends KubeObject>(ref: ResourceRef): Promise<T[]> {
    const inf = this.informers.get(ref.plural);
    if (inf?.running && inf.state === 'live') return inf.list() as T[];
    const body = await request<ListBody>('GET', collectionPath(ref));
    return body.items as T[];
  }
}

export const hub = new Hub();

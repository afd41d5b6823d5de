// An informer keeps an indexed cache of one resource in step with the API server, and tells
// its handlers what changed so they can queue keys.
//
// List, then watch from the list's resourceVersion with bookmarks. Every event, bookmarks
// included, advances the resourceVersion, so after a disconnect the watch resumes where it
// stopped and nothing is listed again. A full relist happens only when the server says the
// version is too old (410 Gone) or when the stream has been silent longer than bookmarks
// allow (a stalled connection that never closed); the relist is diffed against the cache,
// so deletes missed in between are still delivered. Errors wait a capped, jittered back-off;
// a stream that closes at once without a single event counts as an error too, so a broken
// server is never hammered in a tight loop.
import { Watch } from '@kubernetes/client-node';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { KubeObject } from '../machinery/object.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { ApiError, type ReceivedStatus } from '../machinery/errors.js';
import type { ObjectClient } from './client.js';
import { realClock, type Clock, type Timer } from './clock.js';
import type { ObjectKey } from './keys.js';
import { counter, gauge } from './metrics.js';
import { Indexer, type IndexFunc } from './indexer.js';
import { apiVersionOf, collectionPath, resourceName, type ResourceType } from './resource.js';

export interface InformerEvent<T> {
  type: 'added' | 'updated' | 'deleted' | 'resync';
  object: T;
  /** The cached object an update replaced. */
  previous?: T;
}

/** Maps what changed to work; must not block or throw (it runs inside the watch stream). */
export type InformerHandler<T> = (event: InformerEvent<T>) => void;

/** What the informer is doing, for logs, metrics and tests. */
export type InformerLifecycle =
  | { type: 'listed'; reason: ListReason; count: number; resourceVersion: string }
  | { type: 'watching'; resourceVersion: string }
  /** The server accepted the watch and the stream is open. */
  | { type: 'connected' }
  | { type: 'closed'; events: number }
  | { type: 'gone' }
  | { type: 'stale' }
  | { type: 'error'; phase: 'list' | 'watch'; error: unknown; retryInMs: number }
  | { type: 'resync'; count: number };

export type ListReason = 'initial' | 'gone' | 'stale' | 'error';

export interface InformerOptions<T extends KubeObject> {
  client: ObjectClient;
  resource: ResourceType;
  /** Only this namespace; all namespaces when absent. */
  namespace?: string;
  /** Cache only what matches, e.g. "virtflow.io/managed=true": caches cost memory. */
  labelSelector?: string;
  fieldSelector?: string;
  indexers?: Record<string, IndexFunc<T>>;
  /** The `informer` label of metrics; defaults to the resource, namespace and selectors. */
  name?: string;
  /** Re-deliver every cached object this often (0: never). */
  resyncPeriodMs?: number;
  /**
   * Relist when nothing (not even a bookmark) arrived for this long on one stream. VirtFlow
   * and Kubernetes send a bookmark at least every minute, so silence beyond this means the
   * connection is dead without having closed.
   */
  staleAfterMs?: number;
  /** timeoutSeconds of each watch request; by default 5 to 10 minutes, as client-go picks. */
  watchTimeoutSeconds?: () => number;
  backoff?: BackoffOptions;
  /** Objects per list page. */
  pageSize?: number;
  clock?: Clock;
  random?: () => number;
  registry?: Registry;
  log?: Logger;
}

type WatchOutcome =
  | { kind: 'stopped' }
  | { kind: 'closed'; events: number }
  | { kind: 'gone'; events: number }
  | { kind: 'stale'; events: number }
  | { kind: 'error'; error: unknown };

/** A stream that ends sooner than this without one event is treated as a failure. */
const shortestHealthyWatchMs = 1000;

export class Informer<T extends KubeObject = KubeObject> {
  readonly resource: ResourceType;
  readonly name: string;
  readonly cache: Indexer<T>;
  private readonly opts: InformerOptions<T>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly watcher: Watch;
  private readonly handlers = new Set<InformerHandler<T>>();
  private readonly lifecycle = new Set<(event: InformerLifecycle) => void>();
  private readonly metrics: ReturnType<typeof informerMetrics>;
  private resourceVersion?: string;
  private synced = false;
  private started = false;
  private readonly syncWaiters: (() => void)[] = [];

  constructor(opts: InformerOptions<T>) {
    this.opts = opts;
    this.resource = opts.resource;
    this.clock = opts.clock ?? realClock;
    this.name = opts.name ?? informerName(opts);
    this.log = (opts.log ?? pino({ level: 'silent' })).child({ informer: this.name });
    this.backoff = new Backoff({ random: opts.random, ...opts.backoff });
    this.watcher = new Watch(opts.client.kubeConfig);
    this.cache = new Indexer<T>(opts.indexers);
    this.metrics = informerMetrics(opts.registry ?? new Registry(), this.name);
  }

  get(key: ObjectKey | string): T | undefined {
    return this.cache.get(key);
  }

  list(namespace?: string): T[] {
    return this.cache.list(namespace);
  }

  byIndex(indexName: string, value: string): T[] {
    return this.cache.byIndex(indexName, value);
  }

  addIndexer(name: string, fn: IndexFunc<T>): void {
    this.cache.addIndexer(name, fn);
  }

  /** Registers a handler; returns the function that removes it. */
  subscribe(handler: InformerHandler<T>): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  onLifecycle(listener: (event: InformerLifecycle) => void): () => void {
    this.lifecycle.add(listener);
    return () => this.lifecycle.delete(listener);
  }

  /** True once the first list has filled the cache. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves when the cache has synced, or when `signal` aborts first (check hasSynced). */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.syncWaiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** Lists and watches until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.started) throw new Error(`informer ${this.name} was already started`);
    this.started = true;
    const resync = this.startResync(signal);
    let listReason: ListReason = 'initial';
    try {
      while (!signal.aborted) {
        if (this.resourceVersion === undefined) {
          try {
            await this.relist(listReason, signal);
          } catch (error) {
            if (signal.aborted) break;
            listReason = 'error';
            await this.retryLater('list', error, signal);
            continue;
          }
        }
        const outcome = await this.watchOnce(signal);
        switch (outcome.kind) {
          case 'stopped':
            break;
          case 'closed':
            this.emitLifecycle({ type: 'closed', events: outcome.events });
            break;
          case 'gone':
          case 'stale':
            this.emitLifecycle({ type: outcome.kind });
            this.resourceVersion = undefined;
            listReason = outcome.kind;
            // Relisting straight after a relist that bought nothing would be a relist storm.
            if (outcome.events === 0) await this.clock.sleep(this.backoff.next(), signal);
            break;
          case 'error':
            await this.retryLater('watch', outcome.error, signal);
            break;
        }
      }
    } finally {
      resync?.cancel();
    }
  }

  private async retryLater(phase: 'list' | 'watch', error: unknown, signal: AbortSignal): Promise<void> {
    const retryInMs = this.backoff.next();
    this.metrics.errors.labels(phase).inc();
    this.log.warn({ err: error, retryInMs }, `cannot ${phase} ${resourceName(this.resource)}`);
    this.emitLifecycle({ type: 'error', phase, error, retryInMs });
    await this.clock.sleep(retryInMs, signal);
  }

  private async relist(reason: ListReason, signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.opts.client.list<T>(this.resource, {
        namespace: this.opts.namespace,
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        limit: this.opts.pageSize ?? 500,
        continue: continueToken,
        signal,
      });
      // The first page's version is the safe one to watch from: if later pages are not one
      // snapshot, watching from here replays changes instead of skipping them.
      resourceVersion ??= page.metadata.resourceVersion;
      for (const item of page.items) items.push(this.complete(item));
      continueToken = page.metadata.continue || undefined;
    } while (continueToken);
    if (signal.aborted) return;
    if (!resourceVersion) throw new Error(`list of ${resourceName(this.resource)} carried no resourceVersion`);
    const diff = this.cache.replace(items);
    this.resourceVersion = resourceVersion;
    this.metrics.lists.labels(reason).inc();
    this.metrics.objects.set(this.cache.size);
    this.emitLifecycle({ type: 'listed', reason, count: items.length, resourceVersion });
    for (const object of diff.added) this.dispatch({ type: 'added', object });
    for (const { previous, object } of diff.updated) this.dispatch({ type: 'updated', object, previous });
    for (const object of diff.deleted) this.dispatch({ type: 'deleted', object });
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  private watchOnce(signal: AbortSignal): Promise<WatchOutcome> {
    const resourceVersion = this.resourceVersion!;
    const startedAt = this.clock.now();
    const staleAfterMs = this.opts.staleAfterMs ?? 5 * 60_000;
    return new Promise((resolve) => {
      let settled = false;
      let events = 0;
      let abortStream: AbortController | undefined;
      let staleTimer: Timer = this.clock.setTimer(() => finish({ kind: 'stale', events }), staleAfterMs);
      const finish = (outcome: WatchOutcome) => {
        if (settled) return;
        settled = true;
        staleTimer.cancel();
        signal.removeEventListener('abort', onAbort);
        abortStream?.abort();
        resolve(outcome);
      };
      const onAbort = () => finish({ kind: 'stopped' });
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) return onAbort();

      const onEvent = (type: string, object: unknown) => {
        if (settled) return;
        events++;
        staleTimer.cancel();
        staleTimer = this.clock.setTimer(() => finish({ kind: 'stale', events }), staleAfterMs);
        if (type === 'ERROR') {
          const status = object as ReceivedStatus;
          if (status?.code === 410) return finish({ kind: 'gone', events });
          return finish({ kind: 'error', error: ApiError.fromStatus(status?.code ?? 500, status, 'watch error event') });
        }
        this.apply(type, object as T);
        // A successful stream proves the path works again: later failures start small.
        this.backoff.reset();
      };
      const onDone = (err: unknown) => {
        if (settled) return;
        if (!err) {
          const quick = events === 0 && this.clock.now() - startedAt < shortestHealthyWatchMs;
          return finish(quick ? { kind: 'error', error: new Error('watch closed at once without events') } : { kind: 'closed', events });
        }
        if ((err as { statusCode?: number }).statusCode === 410) return finish({ kind: 'gone', events });
        finish({ kind: 'error', error: err });
      };

      this.emitLifecycle({ type: 'watching', resourceVersion });
      const query = {
        resourceVersion,
        allowWatchBookmarks: true,
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        timeoutSeconds: (this.opts.watchTimeoutSeconds ?? defaultWatchTimeout(this.opts.random ?? Math.random))(),
      };
      this.watcher.watch(collectionPath(this.resource, this.opts.namespace), query, onEvent, onDone).then(
        (controller) => {
          abortStream = controller;
          if (settled) controller.abort();
          else this.emitLifecycle({ type: 'connected' });
        },
        (error: unknown) => finish({ kind: 'error', error }),
      );
    });
  }

  private apply(type: string, raw: T): void {
    const rv = raw?.metadata?.resourceVersion;
    switch (type) {
      case 'ADDED':
      case 'MODIFIED': {
        const object = this.complete(raw);
        const previous = this.cache.upsert(object);
        this.metrics.events.labels(previous ? 'updated' : 'added').inc();
        // The same version again (a replay after a relist) is not a change.
        if (previous?.metadata.resourceVersion !== object.metadata.resourceVersion) {
          this.dispatch(previous ? { type: 'updated', object, previous } : { type: 'added', object });
        }
        break;
      }
      case 'DELETED': {
        const object = this.complete(raw);
        this.cache.remove({ namespace: object.metadata.namespace, name: object.metadata.name! });
        this.metrics.events.labels('deleted').inc();
        this.dispatch({ type: 'deleted', object });
        break;
      }
      case 'BOOKMARK':
        this.metrics.events.labels('bookmark').inc();
        break;
      default:
        return;
    }
    if (rv) this.resourceVersion = rv;
    this.metrics.objects.set(this.cache.size);
  }

  /** List items come without apiVersion and kind; handlers and owner checks want them. */
  private complete(obj: T): T {
    if (obj.apiVersion && obj.kind) return obj;
    return { ...obj, apiVersion: obj.apiVersion || apiVersionOf(this.resource), kind: obj.kind || this.resource.kind };
  }

  private startResync(signal: AbortSignal): Timer | undefined {
    const period = this.opts.resyncPeriodMs ?? 0;
    if (period <= 0) return undefined;
    let timer: Timer;
    const tick = () => {
      if (signal.aborted) return;
      if (this.synced) {
        const objects = this.cache.list();
        this.emitLifecycle({ type: 'resync', count: objects.length });
        for (const object of objects) this.dispatch({ type: 'resync', object });
      }
      timer = this.clock.setTimer(tick, period);
    };
    timer = this.clock.setTimer(tick, period);
    return { cancel: () => timer.cancel() };
  }

  private dispatch(event: InformerEvent<T>): void {
    for (const handler of this.handlers) {
      try {
        handler(event);
      } catch (err) {
        this.log.error({ err }, 'informer handler failed');
      }
    }
  }

  private emitLifecycle(event: InformerLifecycle): void {
    for (const listener of this.lifecycle) listener(event);
  }
}

function defaultWatchTimeout(random: () => number): () => number {
  return () => Math.floor(300 * (1 + random()));
}

function informerName(opts: Pick<InformerOptions<KubeObject>, 'resource' | 'namespace' | 'labelSelector' | 'fieldSelector'>): string {
  let name = resourceName(opts.resource);
  if (opts.namespace) name += `@${opts.namespace}`;
  if (opts.labelSelector) name += `?l=${opts.labelSelector}`;
  if (opts.fieldSelector) name += `?f=${opts.fieldSelector}`;
  return name;
}

function informerMetrics(registry: Registry, informer: string) {
  const events = counter(registry, {
    name: 'virtflow_informer_watch_events_total',
    help: 'Watch events received by an informer, by type.',
    labelNames: ['informer', 'type'],
  });
  const lists = counter(registry, {
    name: 'virtflow_informer_lists_total',
    help: 'Full lists by reason: initial, gone (410), stale (silent stream), error (after a failed list).',
    labelNames: ['informer', 'reason'],
  });
  const errors = counter(registry, {
    name: 'virtflow_informer_errors_total',
    help: 'Failed lists and watches, each followed by a back-off.',
    labelNames: ['informer', 'phase'],
  });
  return {
    objects: gauge(registry, {
      name: 'virtflow_informer_cached_objects',
      help: 'Objects held in an informer cache.',
      labelNames: ['informer'],
    }).labels({ informer }),
    events: { labels: (type: string) => events.labels({ informer, type }) },
    lists: { labels: (reason: string) => lists.labels({ informer, reason }) },
    errors: { labels: (phase: string) => errors.labels({ informer, phase }) },
  };
}

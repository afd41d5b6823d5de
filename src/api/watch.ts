// Watch streams: newline-delimited JSON events over one long response, served from the
// cache's ordered events. Registering the listener and reading the cache happen in the same
// tick, so no change falls between the initial state and the live stream.
import type { ServerResponse } from 'node:http';
import { buildTable, type IncludeObject } from '../crd/table.js';
import { ApiError, errors, type StatusCause } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import { groupVersion, type ResourceInfo } from '../machinery/resource.js';
import type { CacheEvent } from '../store/watch-cache.js';
import type { Store } from '../store/store.js';
import type { Representation } from './negotiate.js';
import { resourceId } from './registry.js';
import { isUnfiltered, selects, type Selection } from './selection.js';

export interface WatchRequest {
  info: ResourceInfo;
  selection: Selection;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  sendInitialEvents?: boolean;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
  representation: Representation;
  includeObject: IncludeObject;
  bookmarkIntervalMs: number;
  present: (obj: KubeObject) => KubeObject;
  /** Waits until the store has reached a revision; refuses one it never handed out. */
  waitForRevision: (revision: number) => Promise<void>;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** How many events may wait for a slow client before its watch is closed. */
const MAX_BACKLOG_BYTES = 64 * 1024 * 1024;

/** ValidateListOptions for a watch (validateWatchOptions): 422 Invalid of kind ListOptions. */
function validateWatchOptions(watch: WatchRequest): void {
  const causes: StatusCause[] = [];
  const match = watch.resourceVersionMatch ?? '';
  if (watch.sendInitialEvents !== undefined && match !== 'NotOlderThan') {
    causes.push({
      type: 'FieldValueForbidden',
      field: 'resourceVersionMatch',
      message: 'Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
    });
  }
  if (match !== '') {
    if (watch.sendInitialEvents === undefined) {
      causes.push({
        type: 'FieldValueForbidden',
        field: 'resourceVersionMatch',
        message: 'Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
      });
    }
    if (match !== 'NotOlderThan') {
      causes.push({
        type: 'FieldValueNotSupported',
        field: 'resourceVersionMatch',
        message: `Unsupported value: ${JSON.stringify(match)}: supported values: "NotOlderThan"`,
      });
    }
  }
  if (watch.sendInitialEvents === true && !watch.allowBookmarks) {
    causes.push({
      type: 'FieldValueForbidden',
      field: 'allowWatchBookmarks',
      message: 'Forbidden: sendInitialEvents requires allowWatchBookmarks=true',
    });
  }
  if (causes.length > 0) throw errors.invalid('ListOptions', 'meta.k8s.io', '', causes);
}

export async function serveWatch(store: Store, res: ServerResponse, watch: WatchRequest, signal: AbortSignal): Promise<void> {
  const { info, selection } = watch;
  const resource = resourceId(info);
  validateWatchOptions(watch);
  const rv = watch.resourceVersion;
  let startAfter: number | undefined;
  if (rv !== undefined && rv !== '' && rv !== '0') {
    startAfter = Number(rv);
    if (!/^\d+$/.test(rv) || !Number.isSafeInteger(startAfter)) {
      throw errors.badRequest(`invalid resourceVersion "${rv}": must be a non-negative integer`);
    }
  }
  const initial = watch.sendInitialEvents ?? startAfter === undefined;
  if (rv === undefined || rv === '') await store.syncCache();
  else if (initial && startAfter !== undefined) await watch.waitForRevision(startAfter);
  if (signal.aborted) return;

  // A watch from a revision the cache has not reached yet waits for the events after it.
  let floor = 0;
  let history: CacheEvent[] | undefined = [];
  let expired: ApiError | undefined;
  if (!initial && startAfter !== undefined) {
    if (startAfter > store.feed.last) floor = startAfter;
    else {
      history = store.cache.eventsAfter(startAfter);
      // As kube-apiserver does once a watch is admitted: 200, then one ERROR event.
      if (!history) expired = errors.gone(`too old resource version: ${startAfter} (${store.cache.oldestWatchable})`);
    }
  }

  res.statusCode = 200;
  const contentType = watch.representation.as === 'object' ? 'application/json' : watch.representation.contentType;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Transfer-Encoding', 'chunked');
  res.setHeader('Cache-Control', 'no-cache, private');
  res.flushHeaders();

  let sentHeaders = false;
  let closed = false;
  let unsubscribe = () => {};
  const timers: NodeJS.Timeout[] = [];
  const finish = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    res.end();
  };
  const servedVersion = groupVersion(info);
  // Stored text that opens with the served apiVersion is served as it is, without parsing it.
  const servedPrefix = `{"apiVersion":${JSON.stringify(servedVersion)},`;
  /** The event's line for the client; `object` is asked for only when `text` cannot serve. */
  const encode = (type: EventType, object: () => unknown, text?: string): string => {
    // The stored text is the object as served when the versions agree: no second stringify.
    if (text !== undefined && watch.representation.as === 'object' && (text.startsWith(servedPrefix) || (object() as KubeObject).apiVersion === servedVersion)) {
      return `{"type":"${type}","object":${text}}\n`;
    }
    return encodeObject(type, object());
  };
  const encodeObject = (type: EventType, object: unknown): string => {
    if (type !== 'BOOKMARK' && type !== 'ERROR' && watch.representation.as === 'table') {
      const table = buildTable(info, [watch.present(object as KubeObject)], {
        includeObject: watch.includeObject,
        listMeta: {},
        noHeaders: sentHeaders,
      });
      sentHeaders = true;
      return `${JSON.stringify({ type, object: table })}\n`;
    }
    if (type !== 'BOOKMARK' && type !== 'ERROR' && watch.representation.as === 'metadata') {
      const obj = object as KubeObject;
      return `${JSON.stringify({ type, object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata } })}\n`;
    }
    return `${JSON.stringify({ type, object: type === 'BOOKMARK' || type === 'ERROR' ? object : watch.present(object as KubeObject) })}\n`;
  };
  // The events of one tick go out together: one TLS record and one syscall, not one each.
  let corked = false;
  const uncork = () => {
    corked = false;
    res.uncork();
  };
  const write = (line: string) => {
    if (closed) return;
    if (!corked) {
      corked = true;
      res.cork();
      process.nextTick(uncork);
    }
    res.write(line);
    if (res.writableLength > MAX_BACKLOG_BYTES) finish();
  };
  const bookmark = (extra?: Record<string, string>) => {
    if (!watch.allowBookmarks) return;
    const metadata: Record<string, unknown> = { resourceVersion: String(Math.max(store.feed.last, floor)) };
    if (extra) metadata.annotations = extra;
    write(encodeObject('BOOKMARK', { kind: info.kind, apiVersion: groupVersion(info), metadata }));
  };

  if (expired) {
    write(encodeObject('ERROR', expired.toStatus()));
    finish();
    return;
  }

  // Without label, field or visibility filters the namespace decides, and it is known
  // without parsing the object: most watches are of this kind, and most changes reach them.
  const byNamespaceOnly = isUnfiltered(selection);
  const inNamespace = (event: CacheEvent) => selection.namespace === undefined || event.namespace === selection.namespace;
  const deliver = (event: CacheEvent) => {
    if (event.resource !== resource || event.revision <= floor) return;
    const now = byNamespaceOnly ? inNamespace(event) : selects(selection, event.object);
    // After a restart the state before a replayed change may be unknown: assume it matched,
    // so a client never keeps an object that no longer matches.
    const before =
      event.previousUnknown === true ||
      (byNamespaceOnly ? event.hasPrevious && inNamespace(event) : event.previous !== undefined && selects(selection, event.previous));
    let type: EventType;
    if (event.type === 'DELETED') {
      if (!now && !before) return;
      type = 'DELETED';
    } else if (event.type === 'ADDED') {
      if (!now) return;
      type = 'ADDED';
    } else if (now && before) type = 'MODIFIED';
    else if (now) type = 'ADDED';
    else if (before) type = 'DELETED';
    else return;
    write(encode(type, () => event.object, event.text));
  };

  unsubscribe = store.cache.onEvent(deliver);
  // Everything below up to the end of this function's synchronous part runs in one tick.
  if (initial) {
    for (const entry of store.cache.list(resource, selection.namespace)) {
      if (byNamespaceOnly || selects(selection, entry.object)) write(encode('ADDED', () => entry.object, entry.text));
    }
    if (watch.sendInitialEvents) bookmark({ 'k8s.io/initial-events-end': 'true' });
  } else {
    for (const event of history ?? []) deliver(event);
  }

  if (watch.allowBookmarks) {
    const interval = setInterval(() => bookmark(), watch.bookmarkIntervalMs);
    interval.unref();
    timers.push(interval);
  }
  // Like kube-apiserver: no timeout (or 0) means a random one between 30 and 60 minutes.
  // Capped where a timer can still count (about 24 days); a longer one would fire at once.
  const timeoutMs = Math.min((watch.timeoutSeconds || 1800 + Math.floor(Math.random() * 1800)) * 1000, 2 ** 31 - 1);
  const timeout = setTimeout(() => {
    bookmark();
    finish();
  }, timeoutMs);
  timeout.unref();
  timers.push(timeout);
  await new Promise<void>((resolve) => {
    const done = () => {
      finish();
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    res.on('close', done);
    res.on('finish', done);
    if (closed) done();
  });
}

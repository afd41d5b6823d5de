// Records core/v1 Events on objects: the decisions a person wants to read later in
// `kubectl describe` ("placed on host-7: most free memory", "cannot place: 0/12 hosts fit").
//
// Repeats aggregate as client-go's recorder does: the same object, type, reason and message
// bump `count` and `lastTimestamp` on one Event instead of adding another. The Event's name
// is derived from that identity, so aggregation also holds across restarts and between
// processes: a create that finds the Event already there patches it instead.
import { createHash } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { formatConditionTime } from '../machinery/conditions.js';
import type { KubeObject } from '../machinery/object.js';
import { isAlreadyExists, isNotFound, type ObjectClient } from './client.js';
import { realClock, type Clock } from './clock.js';
import { Events } from './resource.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  client: ObjectClient;
  /** source.component and reportingComponent, e.g. "virtflow-scheduler". */
  component: string;
  /** source.host and reportingInstance: which process, e.g. the leader identity. */
  instance?: string;
  clock?: Clock;
  log?: Logger;
  /** How many distinct events to remember for aggregation. */
  cacheSize?: number;
}

interface Recorded {
  namespace: string;
  name: string;
  count: number;
}

/** Kubernetes rejects longer messages on events.k8s.io; core/v1 readers expect the same. */
const maxMessageLength = 1024;

export class EventRecorder {
  private readonly client: ObjectClient;
  private readonly component: string;
  private readonly instance?: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly cacheSize: number;
  private readonly recorded = new Map<string, Recorded>();
  /** One write at a time per identity, so two repeats cannot both create or both read count N. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(opts: EventRecorderOptions) {
    this.client = opts.client;
    this.component = opts.component;
    this.instance = opts.instance;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.log ?? pino({ level: 'silent' })).child({ component: opts.component });
    this.cacheSize = opts.cacheSize ?? 4096;
  }

  normal(obj: KubeObject, reason: string, message: string): Promise<void> {
    return this.event(obj, 'Normal', reason, message);
  }

  warning(obj: KubeObject, reason: string, message: string): Promise<void> {
    return this.event(obj, 'Warning', reason, message);
  }

  /**
   * Records an event. It never rejects: an event that cannot be written is logged, because
   * failing a reconcile over its diary entry would be worse than losing the entry.
   */
  event(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const text = message.length > maxMessageLength ? `${message.slice(0, maxMessageLength - 3)}...` : message;
    const identity = [obj.metadata.uid ?? '', obj.apiVersion, obj.kind, obj.metadata.namespace ?? '', obj.metadata.name, type, reason, text, this.component].join('\u0000');
    const previous = this.inFlight.get(identity) ?? Promise.resolve();
    const next = previous
      .then(() => this.write(identity, obj, type, reason, text))
      .catch((err: unknown) => this.log.warn({ err, reason, object: obj.metadata.name }, 'cannot record event'))
      .finally(() => {
        if (this.inFlight.get(identity) === next) this.inFlight.delete(identity);
      });
    this.inFlight.set(identity, next);
    return next;
  }

  private async write(identity: string, obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const now = formatConditionTime(new Date(this.clock.now()));
    const known = this.recorded.get(identity);
    if (known) {
      try {
        await this.bump(identity, known, known.count + 1, now);
        return;
      } catch (err) {
        // Someone deleted it (or it expired): start a new one.
        if (!isNotFound(err)) throw err;
        this.recorded.delete(identity);
      }
    }
    const namespace = obj.metadata.namespace || 'default';
    const name = eventName(obj.metadata.name ?? 'unnamed', identity);
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace, name },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.component, ...(this.instance ? { host: this.instance } : {}) },
      reportingComponent: this.component,
      reportingInstance: this.instance ?? '',
    };
    try {
      await this.client.create(Events, event);
      this.remember(identity, { namespace, name, count: 1 });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      // Recorded before, by an earlier run or another process: continue its count.
      const existing = await this.client.get<KubeObject & { count?: number }>(Events, { namespace, name });
      await this.bump(identity, { namespace, name, count: existing.count ?? 1 }, (existing.count ?? 1) + 1, now);
    }
  }

  private async bump(identity: string, event: Recorded, count: number, now: string): Promise<void> {
    await this.client.patch(Events, { namespace: event.namespace, name: event.name }, 'merge', { count, lastTimestamp: now });
    this.remember(identity, { ...event, count });
  }

  private remember(identity: string, event: Recorded): void {
    // Re-inserting moves it to the end; the first entry is the least recently used.
    this.recorded.delete(identity);
    this.recorded.set(identity, event);
    if (this.recorded.size > this.cacheSize) this.recorded.delete(this.recorded.keys().next().value!);
  }
}

/** "<object>.<16 hex digits of the identity>", within the 253 characters a name may have. */
function eventName(objectName: string, identity: string): string {
  const digest = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  return `${objectName.slice(0, 253 - 17)}.${digest}`;
}

import { describe, expect, it } from 'vitest';
import { WatchCache, type CacheEvent } from './watch-cache.js';
import type { Change } from './feed.js';
import type { ChangeType } from './objects.js';

const R = '/configmaps';

function change(revision: number, type: ChangeType, name: string, v: string, namespace = 'ns'): Change {
  const value = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, resourceVersion: String(revision) }, data: { v } });
  return { revision, type, resource: R, namespace, name, key: `${R}/${namespace}/${name}`, value };
}

function row(c: Change) {
  return { resource: c.resource, key: c.key, namespace: c.namespace, name: c.name, revision: c.revision, value: c.value };
}

const names = (entries: { object: { metadata: { name?: string }; data?: unknown } }[] | undefined) =>
  entries?.map((e) => `${e.object.metadata.name}=${(e.object.data as { v: string }).v}`);

describe('WatchCache', () => {
  it('lists the state at an exact past revision by undoing later events', () => {
    const cache = new WatchCache();
    cache.load([], 0);
    cache.apply(change(1, 'ADDED', 'a', '1'));
    cache.apply(change(2, 'ADDED', 'b', '1'));
    cache.apply(change(3, 'MODIFIED', 'a', '2'));
    cache.apply(change(4, 'DELETED', 'b', '1'));
    cache.apply(change(5, 'ADDED', 'c', '1', 'other'));
    expect(names(cache.listAt(R, 'ns', 1))).toEqual(['a=1']);
    expect(names(cache.listAt(R, 'ns', 2))).toEqual(['a=1', 'b=1']);
    expect(names(cache.listAt(R, 'ns', 3))).toEqual(['a=2', 'b=1']);
    expect(names(cache.listAt(R, undefined, 5))).toEqual(['a=2', 'c=1']);
    expect(names(cache.listAt(R, undefined, 0))).toEqual([]);
  });

  it('keeps a bounded history and refuses starts older than what it dropped', () => {
    const cache = new WatchCache({ historySize: 3 });
    cache.load([], 0);
    for (let i = 1; i <= 10; i++) cache.apply(change(i, i === 1 ? 'ADDED' : 'MODIFIED', 'a', String(i)));
    expect(cache.oldestWatchable).toBe(7);
    expect(cache.eventsAfter(6)).toBeUndefined();
    expect(cache.eventsAfter(7)?.map((e) => e.revision)).toEqual([8, 9, 10]);
    expect(cache.listAt(R, 'ns', 6)).toBeUndefined();
    expect(names(cache.listAt(R, 'ns', 8))).toEqual(['a=8']);
    cache.forgetThrough(9);
    expect(cache.eventsAfter(8)).toBeUndefined();
    expect(cache.eventsAfter(9)?.map((e) => e.revision)).toEqual([10]);
  });

  it('bounds its history in bytes too, dropping the oldest events first but never the newest', () => {
    const big = 'x'.repeat(10_000);
    const cache = new WatchCache({ historySize: 1000, historyBytes: 50_000 });
    cache.load([], 0);
    for (let i = 1; i <= 20; i++) cache.apply(change(i, 'ADDED', `big-${i}`, big));
    // Each ADDED event holds about 10 KB of text: at most five fit.
    const kept = cache.eventsAfter(cache.oldestWatchable)!;
    expect(kept.length).toBeGreaterThanOrEqual(4);
    expect(kept.length).toBeLessThanOrEqual(5);
    expect(kept.at(-1)!.revision).toBe(20);
    expect(cache.eventsAfter(10)).toBeUndefined();
    // A MODIFIED event holds its state before as well, so half as many of them fit.
    for (let i = 21; i <= 30; i++) cache.apply(change(i, 'MODIFIED', 'big-1', big));
    expect(cache.eventsAfter(cache.oldestWatchable)!.length).toBeLessThanOrEqual(3);
    // One event larger than the whole bound is still kept: a watch must not miss it.
    const lone = new WatchCache({ historyBytes: 100 });
    lone.load([], 0);
    lone.apply(change(1, 'ADDED', 'a', big));
    lone.apply(change(2, 'ADDED', 'b', big));
    expect(lone.eventsAfter(1)?.map((e) => e.revision)).toEqual([2]);
    expect(lone.eventsAfter(0)).toBeUndefined();
  });

  it('replays the retained log after a restart with the state before each change where the log knows it', () => {
    // The log since compaction: b added at 2, a changed at 3 (a's earlier state was compacted),
    // b changed at 4, b deleted at 6; the snapshot was read after 5 (c added at 5).
    const log = [change(2, 'ADDED', 'b', '1'), change(3, 'MODIFIED', 'a', '2'), change(4, 'MODIFIED', 'b', '2'), change(5, 'ADDED', 'c', '1'), change(6, 'DELETED', 'b', '2')];
    const snapshot = [change(3, 'MODIFIED', 'a', '2'), change(4, 'MODIFIED', 'b', '2'), change(5, 'ADDED', 'c', '1')].map(row);
    const cache = new WatchCache();
    cache.load(snapshot, 1, 5);
    const events: CacheEvent[] = [];
    cache.onEvent((e) => events.push(e));
    for (const c of log) cache.apply(c);
    const previous = events.map((e) => (e.previousUnknown ? '?' : (e.previous?.data as { v: string } | undefined)?.v ?? '-'));
    expect(previous).toEqual(['-', '?', '1', '-', '2']);
    expect(names(cache.list(R))).toEqual(['a=2', 'c=1']);
    // Exact lists reach back as far as the known states do.
    expect(names(cache.listAt(R, 'ns', 4))).toEqual(['a=2', 'b=2']);
    expect(cache.listAt(R, 'ns', 2)).toBeUndefined();
  });

  it('parses a stored object once, on first read, and hands every reader the same one', () => {
    const cache = new WatchCache();
    cache.load([], 0);
    const events: CacheEvent[] = [];
    cache.onEvent((e) => events.push(e));
    cache.apply(change(1, 'ADDED', 'a', '1'));
    cache.apply(change(2, 'MODIFIED', 'a', '2'));
    const entry = cache.get(R, `${R}/ns/a`)!;
    expect(entry.text).toBe(events[1]!.text);
    expect(entry.object).toBe(events[1]!.object);
    expect(events[1]!.previous).toBe(events[0]!.object);
    expect((events[1]!.previous!.data as { v: string }).v).toBe('1');
    expect(entry.object.metadata.resourceVersion).toBe('2');
  });
});

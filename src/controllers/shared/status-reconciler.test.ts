import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../machinery/object.js';
import type { ObjectClient } from '../../runtime/client.js';
import { Kinds } from './resources-of-kinds.js';
import { memoryLister } from './listers.js';
import { cacheIsBehind, forgetWrites, reportStatus, StaleCacheError, writeStatus, type ControllerContext } from './context.js';
import { statusReconciler } from './status-reconciler.js';

type Obj = KubeObject & { status?: Record<string, unknown> };

/** A client that accepts every status write, bumping the resourceVersion, and counts them. */
function fakeClient() {
  const writes: Obj[] = [];
  const client = {
    async replaceStatus(_r: unknown, obj: Obj) {
      writes.push(obj);
      return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(Number(obj.metadata.resourceVersion) + 1) } };
    },
  } as unknown as ObjectClient;
  return { client, writes };
}

function context(client: ObjectClient, clock: { now: number }, statusIntervalMs?: number): ControllerContext {
  return { listers: {} as never, client, events: { record: () => {} }, now: () => new Date(clock.now), statusIntervalMs };
}

const dc = (rv: string, status?: Record<string, unknown>): Obj => ({
  apiVersion: 'virtflow.io/v1alpha1',
  kind: 'Datacenter',
  metadata: { name: 'dc-1', resourceVersion: rv, generation: 1 },
  status,
});

describe('reportStatus', () => {
  const failing = (reason: string) => [{ type: 'Ready', status: 'False' as const, reason, message: 'm' }];
  const warning = (reason: string) => ({ type: 'Warning' as const, reason, message: 'm' });

  it('records a Warning only when a condition reason changes, and a Normal Event whenever it writes', async () => {
    const { client } = fakeClient();
    const events: string[] = [];
    const ctx = { ...context(client, { now: 0 }), events: { record: (_: unknown, type: string, reason: string) => events.push(`${type}/${reason}`) } };
    const first = await reportStatus(ctx, Kinds.Datacenter, dc('1'), {}, failing('Unreachable'), warning('Unreachable'));
    // Same reason, another message: written, but the failure is already told.
    const again = await reportStatus(ctx, Kinds.Datacenter, first.obj, { attempt: 2 }, failing('Unreachable'), warning('Unreachable'));
    // Nothing differs: no write, no Event, even a Normal one.
    const same = await reportStatus(ctx, Kinds.Datacenter, again.obj, { attempt: 2 }, failing('Unreachable'), { type: 'Normal', reason: 'Fine', message: 'm' });
    await reportStatus(ctx, Kinds.Datacenter, same.obj, { attempt: 3 }, failing('Unreachable'), { type: 'Normal', reason: 'Fine', message: 'm' });
    expect({ wrote: [first.wrote, again.wrote, same.wrote], rv: [first.obj.metadata.resourceVersion, same.obj.metadata.resourceVersion], events }).toEqual({
      wrote: [true, true, false],
      rv: ['2', '3'],
      events: ['Warning/Unreachable', 'Normal/Fine'],
    });
  });

  it('shares the stale-cache bookkeeping with writeStatus, until the object is forgotten', async () => {
    const { client } = fakeClient();
    const ctx = context(client, { now: 0 });
    await reportStatus(ctx, Kinds.Datacenter, dc('1'), { racks: 2 }, []);
    expect(cacheIsBehind(ctx, Kinds.Datacenter, dc('1'))).toBe(true);
    await expect(writeStatus(ctx, Kinds.Datacenter, dc('1'), { racks: 3 })).rejects.toBeInstanceOf(StaleCacheError);
    forgetWrites(ctx, Kinds.Datacenter, { name: 'dc-1' });
    expect(cacheIsBehind(ctx, Kinds.Datacenter, dc('1'))).toBe(false);
  });
});

describe('writeStatus', () => {
  it('writes only a status that differs from the cached one', async () => {
    const { client, writes } = fakeClient();
    const ctx = context(client, { now: 0 });
    expect(await writeStatus(ctx, Kinds.Datacenter, dc('1', { racks: 1 }), { racks: 1 })).toBe(false);
    expect(await writeStatus(ctx, Kinds.Datacenter, dc('1', { racks: 1 }), { racks: 2 })).toBe(true);
    expect(writes).toHaveLength(1);
  });

  it('refuses, without a request, to write from the version its own last write replaced', async () => {
    const { client, writes } = fakeClient();
    const ctx = context(client, { now: 0 });
    await writeStatus(ctx, Kinds.Datacenter, dc('1', { racks: 1 }), { racks: 2 });
    // The cache still shows version 1: the write would only answer 409.
    await expect(writeStatus(ctx, Kinds.Datacenter, dc('1', { racks: 1 }), { racks: 3 })).rejects.toBeInstanceOf(StaleCacheError);
    // Once the cache shows the write (version 2), writing goes on.
    expect(await writeStatus(ctx, Kinds.Datacenter, dc('2', { racks: 2 }), { racks: 3 })).toBe(true);
    expect(writes.map((w) => w.status)).toEqual([{ racks: 2 }, { racks: 3 }]);
  });

  it('keeps the bookkeeping of two managers apart', async () => {
    const a = fakeClient();
    const b = fakeClient();
    await writeStatus(context(a.client, { now: 0 }), Kinds.Datacenter, dc('1'), { racks: 2 });
    expect(await writeStatus(context(b.client, { now: 0 }), Kinds.Datacenter, dc('1'), { racks: 2 })).toBe(true);
  });
});

describe('statusReconciler', () => {
  function setup(statusIntervalMs?: number) {
    const { client, writes } = fakeClient();
    const clock = { now: 10_000 };
    const items: Obj[] = [dc('1', { racks: 0 })];
    let racks = 1;
    let computed = 0;
    const reconciler = statusReconciler(context(client, clock, statusIntervalMs), Kinds.Datacenter, () => memoryLister(items), () => {
      computed++;
      return { fields: { racks }, conditions: [] };
    });
    const run = () => reconciler.reconcile({ signal: new AbortController().signal } as never, { name: 'dc-1' });
    /** The cache catches up with the last write, as the informer would. */
    const catchUp = () => {
      const last = writes[writes.length - 1]!;
      items[0] = { ...last, metadata: { ...last.metadata, resourceVersion: String(Number(last.metadata.resourceVersion) + 1) } };
    };
    return { writes, clock, run, catchUp, setRacks: (n: number) => (racks = n), computed: () => computed };
  }

  it('without an interval, recomputes and writes on every change', async () => {
    const t = setup();
    expect(await t.run()).toEqual({});
    t.catchUp();
    t.setRacks(2);
    expect(await t.run()).toEqual({});
    expect(t.writes.map((w) => w.status?.racks)).toEqual([1, 2]);
  });

  it('with an interval, handles the first change at once and defers the next ones to one later computation', async () => {
    const t = setup(1_000);
    expect(await t.run()).toEqual({});
    t.catchUp();
    t.setRacks(2);
    t.clock.now += 200;
    expect(await t.run()).toEqual({ requeueAfterMs: 800 });
    t.setRacks(3);
    t.clock.now += 300;
    expect(await t.run()).toEqual({ requeueAfterMs: 500 });
    expect(t.computed()).toBe(1);
    t.clock.now += 500;
    expect(await t.run()).toEqual({});
    expect(t.writes.map((w) => w.status?.racks)).toEqual([1, 3]);
  });

  it('leaves a reconcile that finds the cache behind its own write to that write\'s event', async () => {
    const t = setup();
    await t.run();
    t.setRacks(2);
    // Version 1 is still cached: no request, no error, and the write that follows the event.
    expect(await t.run()).toEqual({});
    expect(t.writes).toHaveLength(1);
    t.catchUp();
    await t.run();
    expect(t.writes.map((w) => w.status?.racks)).toEqual([1, 2]);
  });
});

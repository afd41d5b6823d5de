import { describe, expect, it } from 'vitest';
import type { InformerEvent } from './informer.js';
import { selectedChanged, specChanged } from './predicates.js';

type Obj = { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec?: unknown; status?: unknown };
const host = (rv: number, spec: unknown, status: unknown = {}, extra: Record<string, unknown> = {}): Obj => ({
  apiVersion: 'virtflow.io/v1alpha1',
  kind: 'Baremetal',
  metadata: { name: 'bm-1', resourceVersion: String(rv), generation: 1, ...extra },
  spec,
  status,
});
const updated = (previous: Obj, object: Obj) => ({ type: 'updated', previous, object }) as unknown as InformerEvent<never>;

describe('specChanged', () => {
  const spec = { rack: 'r-1', state: 'Available' };
  const cases = [
    { name: 'An added object counts.', event: { type: 'added', object: host(1, spec) }, want: true },
    { name: 'A removed object counts.', event: { type: 'deleted', object: host(1, spec) }, want: true },
    { name: 'A status write does not count.', event: updated(host(1, spec, { allocated: 1 }), host(2, spec, { allocated: 2 })), want: false },
    { name: 'A label or finalizer change does not count.', event: updated(host(1, spec), host(2, spec, {}, { labels: { a: 'b' } })), want: false },
    { name: 'A spec change counts.', event: updated(host(1, spec), host(2, { ...spec, state: 'Maintenance' }, {}, { generation: 2 })), want: true },
    { name: 'A spec change counts even where generation is not kept.', event: updated(host(1, spec), host(2, { ...spec, state: 'Maintenance' })), want: true },
    { name: 'A deletion that waits for finalizers counts.', event: updated(host(1, spec), host(2, spec, {}, { deletionTimestamp: '2026-01-01T00:00:00Z' })), want: true },
    { name: 'A periodic resync does not count.', event: { type: 'resync', object: host(1, spec) }, want: false },
  ];
  it.each(cases)('$name', ({ event, want }) => {
    expect(specChanged(event as InformerEvent<never>)).toBe(want);
  });
});

describe('selectedChanged', () => {
  const spec = { rack: 'r-1' };
  const labelsChanged = selectedChanged((o: Obj) => [o.metadata.labels, (o.status as { kept?: unknown })?.kept]);
  const cases = [
    { name: 'An added object counts.', event: { type: 'added', object: host(1, spec) }, want: true },
    { name: 'A removed object counts.', event: { type: 'deleted', object: host(1, spec) }, want: true },
    { name: 'A periodic resync counts: it is the safety net.', event: { type: 'resync', object: host(1, spec) }, want: true },
    { name: 'A write of other status fields does not count.', event: updated(host(1, spec, { phase: 'A' }), host(2, spec, { phase: 'B' })), want: false },
    { name: 'A spec change does not count.', event: updated(host(1, spec), host(2, { rack: 'r-2' })), want: false },
    { name: 'A label change counts.', event: updated(host(1, spec), host(2, spec, {}, { labels: { a: 'b' } })), want: true },
    { name: 'A change of the kept status field counts.', event: updated(host(1, spec, { kept: ['x'] }), host(2, spec, {})), want: true },
    { name: 'A deletion that waits for finalizers counts.', event: updated(host(1, spec), host(2, spec, {}, { deletionTimestamp: '2026-01-01T00:00:00Z' })), want: true },
  ];
  it.each(cases)('$name', ({ event, want }) => {
    expect(labelsChanged(event as InformerEvent<never>)).toBe(want);
  });
});

import { describe, expect, it } from 'vitest';
import type { KubeObject, ManagedFieldsEntry } from '../machinery/object.js';
import { applyObject } from './merge.js';
import { managerFromUserAgent, recordUpdate, type UpdateOptions } from './update.js';
import { cluster, clusterSchema, T0, T1, T2 } from './testdata.js';

const opts = (extra: Partial<UpdateOptions> = {}): UpdateOptions => ({
  operation: 'Update',
  now: T1,
  apiVersion: 'example.com/v1',
  schema: clusterSchema,
  ...extra,
});

const fieldsOf = (entries: ManagedFieldsEntry[], manager: string) => entries.find((e) => e.manager === manager)?.fieldsV1;

function withFields(obj: KubeObject, entries: ManagedFieldsEntry[]): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, managedFields: entries } };
}

describe('recordUpdate', () => {
  it('never records ownership inside whatever a creator sent as managedFields', () => {
    for (const sent of [{ a: 'b' }, [{ manager: 'x', fieldsV1: { 'f:spec': {} } }], 'text']) {
      const created = cluster({ replicas: 1 }, { metadata: { managedFields: sent } } as unknown as Partial<KubeObject>);
      expect(recordUpdate(undefined, created, 'creator', opts())).toEqual([
        { manager: 'creator', operation: 'Update', apiVersion: 'example.com/v1', time: T1, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { '.': {}, 'f:replicas': {} } } },
      ]);
    }
  });

  it('gives a creator every field it set, with inner nodes marked as owned', () => {
    const created = cluster({ replicas: 1, nodePools: [{ name: 'a', size: 1 }] }, { metadata: { labels: { app: 'x' } } });
    const entries = recordUpdate(undefined, created, 'kubectl-create', opts());
    expect(entries).toEqual([
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'example.com/v1',
        time: T1,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            '.': {},
            'f:nodePools': { '.': {}, 'k:{"name":"a"}': { '.': {}, 'f:name': {}, 'f:size': {} } },
            'f:replicas': {},
          },
        },
      },
    ]);
  });

  it('steals a changed field from its applier without conflict', () => {
    const applied = applyObject(undefined, cluster({ replicas: 1, region: 'r1' }), 'alice', {
      force: false,
      schema: clusterSchema,
      now: T0,
      apiVersion: 'example.com/v1',
    }).object;
    const edited = withFields(cluster({ replicas: 4, region: 'r1' }), applied.metadata.managedFields!);
    delete edited.metadata.managedFields; // kubectl edit sends them back, but omitting must behave the same
    const entries = recordUpdate(applied, edited, 'kubectl-edit', opts());
    expect(fieldsOf(entries, 'alice')).toEqual({ 'f:spec': { 'f:region': {} } });
    expect(fieldsOf(entries, 'kubectl-edit')).toEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  it('removes a deleted field from every manager and drops entries left empty', () => {
    const before = withFields(cluster({ replicas: 1, region: 'r1' }), [
      { manager: 'a', operation: 'Apply', apiVersion: 'example.com/v1', time: T0, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:region': {} } } },
      { manager: 'b', operation: 'Apply', apiVersion: 'example.com/v1', time: T0, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:region': {}, 'f:replicas': {} } } },
    ]);
    const after = withFields(cluster({ replicas: 1 }), before.metadata.managedFields!);
    const entries = recordUpdate(before, after, 'kubectl-patch', opts());
    expect(entries.map((e) => e.manager)).toEqual(['b']);
    expect(fieldsOf(entries, 'b')).toEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  it('adds to an updater’s existing entry and refreshes its time only when it changed something', () => {
    const first = cluster({ replicas: 1 });
    const e1 = recordUpdate(undefined, first, 'ctl', opts({ now: T0 }));
    const second = withFields(cluster({ replicas: 1, region: 'r' }), e1);
    const e2 = recordUpdate(withFields(first, e1), second, 'ctl', opts({ now: T1 }));
    expect(e2).toHaveLength(1);
    expect(e2[0]).toMatchObject({ time: T1, fieldsV1: { 'f:spec': { '.': {}, 'f:region': {}, 'f:replicas': {} } } });
    const e3 = recordUpdate(withFields(second, e2), withFields(second, e2), 'ctl', opts({ now: T2 }));
    expect(e3[0]!.time).toBe(T1);
  });

  it('keeps one entry per API version for an updater', () => {
    const first = cluster({ replicas: 1 });
    const e1 = recordUpdate(undefined, first, 'ctl', opts({ apiVersion: 'example.com/v1beta1' }));
    const e2 = recordUpdate(withFields(first, e1), cluster({ replicas: 2 }), 'ctl', opts({ now: T2 }));
    expect(e2.map((e) => [e.manager, e.apiVersion])).toEqual([
      ['ctl', 'example.com/v1beta1'],
      ['ctl', 'example.com/v1'],
    ]);
  });

  const clientSent: { name: string; sent: ManagedFieldsEntry[] | undefined; want: string[] }[] = [
    { name: 'omitted managedFields keep the stored ones', sent: undefined, want: ['alice', 'editor'] },
    { name: 'an empty list clears all stored ownership', sent: [], want: ['editor'] },
    { name: 'a list with one empty entry also clears all stored ownership', sent: [{}], want: ['editor'] },
    {
      name: 'valid client-sent entries replace the stored ones',
      sent: [{ manager: 'imported', operation: 'Apply', apiVersion: 'example.com/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:region': {} } } }],
      want: ['imported', 'editor'],
    },
    {
      name: 'unreadable client-sent entries fall back to the stored ones',
      sent: [{ manager: 'bad', operation: 'Apply', apiVersion: 'example.com/v1', fieldsType: 'FieldsV1', fieldsV1: { 'x:y': {} } }],
      want: ['alice', 'editor'],
    },
  ];
  for (const c of clientSent) {
    it(c.name, () => {
      const stored = applyObject(undefined, cluster({ replicas: 1, region: 'r1' }), 'alice', {
        force: false,
        schema: clusterSchema,
        now: T0,
        apiVersion: 'example.com/v1',
      }).object;
      const next = cluster({ replicas: 2, region: 'r1' });
      if (c.sent !== undefined) next.metadata.managedFields = c.sent;
      const entries = recordUpdate(stored, next, 'editor', opts());
      expect(entries.map((e) => e.manager)).toEqual(c.want);
    });
  }

  it('ignores managedFields sent through a subresource', () => {
    const stored = applyObject(undefined, cluster({ replicas: 1 }), 'alice', {
      force: false,
      schema: clusterSchema,
      now: T0,
      apiVersion: 'example.com/v1',
    }).object;
    const next = cluster({ replicas: 1 }, { status: { phase: 'Ready' } } as Partial<KubeObject>);
    next.metadata.managedFields = [];
    const entries = recordUpdate(stored, next, 'ctrl', opts({ subresource: 'status' }));
    expect(entries.map((e) => [e.manager, e.subresource])).toEqual([
      ['alice', undefined],
      ['ctrl', 'status'],
    ]);
  });

  it('folds the oldest of more than ten updaters into ancient-changes', () => {
    let obj: KubeObject = cluster({});
    for (let i = 0; i < 12; i++) {
      const next = withFields(cluster({ selector: { ...(obj.spec as { selector?: object }).selector, [`k${i}`]: 'v' } }), obj.metadata.managedFields ?? []);
      if (!obj.metadata.managedFields) delete next.metadata.managedFields;
      const entries = recordUpdate(i === 0 ? undefined : obj, next, `m${i}`, opts({ now: `2024-01-01T00:00:${String(i).padStart(2, '0')}Z` }));
      obj = withFields(next, entries);
    }
    const managers = obj.metadata.managedFields!.map((e) => e.manager);
    expect(managers).toHaveLength(10);
    expect(managers).toContain('ancient-changes');
    expect(managers).not.toContain('m0');
    expect(managers).toContain('m11');
  });
});

describe('managerFromUserAgent', () => {
  const cases: { name: string; ua: string; want: string }[] = [
    { name: 'kubectl client-side apply is named by the part before the slash', ua: 'kubectl-client-side-apply/v1.31.0 (linux/amd64) kubernetes/abc', want: 'kubectl-client-side-apply' },
    { name: 'kubectl edit keeps its command suffix', ua: 'kubectl-edit/v1.31.0 (darwin/arm64) kubernetes/abc', want: 'kubectl-edit' },
    { name: 'a user agent without a slash is used whole', ua: 'my-controller', want: 'my-controller' },
    { name: 'unprintable characters are dropped', ua: 'bad\u0007name/1.0', want: 'badname' },
    { name: 'the name is cut at 128 bytes', ua: 'x'.repeat(200) + '/1', want: 'x'.repeat(128) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(managerFromUserAgent(c.ua)).toBe(c.want);
    });
  }
});

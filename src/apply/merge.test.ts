import { describe, expect, it } from 'vitest';
import { ApiError } from '../machinery/errors.js';
import type { KubeObject, ManagedFieldsEntry } from '../machinery/object.js';
import { applyObject, resetFieldsFor, type ApplyOptions } from './merge.js';
import { recordUpdate } from './update.js';
import { lastAppliedAnnotation } from './last-applied.js';
import { cluster, clusterSchema, T0, T1, T2 } from './testdata.js';

const opts = (extra: Partial<ApplyOptions> = {}): ApplyOptions => ({
  force: false,
  schema: clusterSchema,
  now: T1,
  apiVersion: 'example.com/v1',
  ...extra,
});

/** Applies a sequence of (manager, config) steps starting from nothing. */
function applyAll(steps: [string, KubeObject][], extra: Partial<ApplyOptions> = {}): KubeObject {
  let live: KubeObject | undefined;
  for (const [manager, config] of steps) live = applyObject(live, config, manager, opts(extra)).object;
  return live!;
}

function entry(obj: KubeObject, manager: string): ManagedFieldsEntry | undefined {
  return obj.metadata.managedFields?.find((e) => e.manager === manager);
}

function conflictOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected a conflict');
}

describe('applyObject: ownership and merging', () => {
  it('records the applied fields for the applier on create, and only those', () => {
    const obj = applyAll([['alice', cluster({ replicas: 3, region: 'r1' }, { metadata: { labels: { app: 'db' } } })]]);
    expect(obj.metadata.managedFields).toEqual([
      {
        manager: 'alice',
        operation: 'Apply',
        apiVersion: 'example.com/v1',
        time: T1,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:region': {}, 'f:replicas': {} } },
      },
    ]);
    expect(obj.spec).toEqual({ replicas: 3, region: 'r1' });
  });

  it('lets two managers each own one node pool of a list keyed by name', () => {
    const obj = applyAll([
      ['alice', cluster({ nodePools: [{ name: 'a', size: 1 }] })],
      ['bob', cluster({ nodePools: [{ name: 'b', size: 2 }] })],
    ]);
    expect(obj.spec).toEqual({ nodePools: [{ name: 'a', size: 1 }, { name: 'b', size: 2 }] });
    expect(entry(obj, 'alice')!.fieldsV1).toEqual({
      'f:spec': { 'f:nodePools': { 'k:{"name":"a"}': { '.': {}, 'f:name': {}, 'f:size': {} } } },
    });
    expect(entry(obj, 'bob')!.fieldsV1).toEqual({
      'f:spec': { 'f:nodePools': { 'k:{"name":"b"}': { '.': {}, 'f:name': {}, 'f:size': {} } } },
    });
  });

  it('removes only its own pool when a manager stops applying it', () => {
    const obj = applyAll([
      ['alice', cluster({ nodePools: [{ name: 'a', size: 1 }] })],
      ['bob', cluster({ nodePools: [{ name: 'b', size: 2 }] })],
      ['alice', cluster({})],
    ]);
    expect(obj.spec).toEqual({ nodePools: [{ name: 'b', size: 2 }] });
    expect(entry(obj, 'alice')!.fieldsV1).toEqual({ 'f:spec': {} });
  });

  it('merges set lists by value so each manager keeps its own tags', () => {
    const obj = applyAll([
      ['alice', cluster({ tags: ['x', 'y'] })],
      ['bob', cluster({ tags: ['y', 'z'] })],
      ['alice', cluster({ tags: ['x'] })],
    ]);
    // y stays: bob still applies it.
    expect(obj.spec).toEqual({ tags: ['x', 'y', 'z'] });
  });

  it('replaces an atomic list whole and lets a second applier of a different list conflict', () => {
    const first = applyAll([['alice', cluster({ dnsServers: ['1.1.1.1', '8.8.8.8'] })]]);
    const again = applyObject(first, cluster({ dnsServers: ['9.9.9.9'] }), 'alice', opts()).object;
    expect(again.spec).toEqual({ dnsServers: ['9.9.9.9'] });
    const err = conflictOf(() => applyObject(again, cluster({ dnsServers: ['1.1.1.1'] }), 'bob', opts()));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "alice": .spec.dnsServers');
  });

  it('removes a field the applier no longer applies when nobody else owns it', () => {
    const obj = applyAll([
      ['alice', cluster({ replicas: 3, region: 'r1' }, { metadata: { labels: { app: 'db', tier: 't' } } })],
      ['alice', cluster({ replicas: 3 }, { metadata: { labels: { app: 'db' } } })],
    ]);
    expect(obj.spec).toEqual({ replicas: 3 });
    expect(obj.metadata.labels).toEqual({ app: 'db' });
  });

  it('drops a map that its only applier stopped applying altogether', () => {
    const obj = applyAll([
      ['alice', cluster({ replicas: 1 }, { metadata: { labels: { app: 'db' } } })],
      ['alice', cluster({ replicas: 1 })],
    ]);
    expect(obj.metadata.labels).toBeUndefined();
    expect(obj.metadata.name).toBe('c1');
  });

  it('keeps a field the applier no longer applies when another manager also owns it', () => {
    const obj = applyAll([
      ['alice', cluster({ replicas: 3, region: 'r1' })],
      ['bob', cluster({ region: 'r1' })],
      ['alice', cluster({ replicas: 3 })],
    ]);
    expect(obj.spec).toEqual({ replicas: 3, region: 'r1' });
    expect(entry(obj, 'bob')!.fieldsV1).toEqual({ 'f:spec': { 'f:region': {} } });
  });

  it('shares ownership when a second applier applies an identical value, without conflict', () => {
    const obj = applyAll([
      ['alice', cluster({ replicas: 3 })],
      ['bob', cluster({ replicas: 3 })],
    ]);
    expect(entry(obj, 'alice')!.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(entry(obj, 'bob')!.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  it('keeps fields no applier mentions, such as a status written by a controller', () => {
    const live = cluster({ replicas: 1 }, { status: { phase: 'Ready' } } as Partial<KubeObject>);
    const obj = applyObject(live, cluster({ replicas: 2 }), 'alice', opts()).object;
    expect(obj.status).toEqual({ phase: 'Ready' });
    expect(obj.spec).toEqual({ replicas: 2 });
  });

  it('treats an atomic map as one field that is replaced whole', () => {
    const obj = applyAll([
      ['alice', cluster({ placement: { zone: 'z1', rack: 'r1' } })],
      ['alice', cluster({ placement: { zone: 'z2' } })],
    ]);
    expect(obj.spec).toEqual({ placement: { zone: 'z2' } });
  });

  it('keeps the applier time when a repeated apply changes nothing', () => {
    const first = applyAll([['alice', cluster({ replicas: 1 })]]);
    const result = applyObject(first, cluster({ replicas: 1 }), 'alice', opts({ now: T2 }));
    expect(result.changed).toBe(false);
    expect(entry(result.object, 'alice')!.time).toBe(T1);
    const changed = applyObject(first, cluster({ replicas: 2 }), 'alice', opts({ now: T2 }));
    expect(changed.changed).toBe(true);
    expect(entry(changed.object, 'alice')!.time).toBe(T2);
  });

  it('records status applied through the status subresource under its own entry, not spec', () => {
    const live = applyAll([['alice', cluster({ replicas: 1 })]]);
    const obj = applyObject(live, cluster({ replicas: 9 }, { status: { phase: 'Ready' } } as Partial<KubeObject>), 'ctrl', opts({
      subresource: 'status',
      resetFields: resetFieldsFor('status', true),
    })).object;
    expect(entry(obj, 'ctrl')).toMatchObject({ subresource: 'status', fieldsV1: { 'f:status': { 'f:phase': {} } } });
    expect(entry(obj, 'alice')!.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  it('does not record status applied to the main resource of a kind with a status subresource', () => {
    const obj = applyObject(undefined, cluster({ replicas: 1 }, { status: { phase: 'x' } } as Partial<KubeObject>), 'alice', opts({
      resetFields: resetFieldsFor(undefined, true),
    })).object;
    expect(entry(obj, 'alice')!.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  const malformed: { name: string; config: KubeObject; want: RegExp }[] = [
    {
      name: 'an apply that sets managedFields is refused',
      config: cluster({}, { metadata: { managedFields: [] } }),
      want: /metadata.managedFields must be nil/,
    },
    {
      name: 'an apply with a keyed item missing its key is refused',
      config: cluster({ nodePools: [{ size: 1 }] }),
      want: /omits key field "name"/,
    },
  ];
  for (const c of malformed) {
    it(c.name, () => {
      const err = conflictOf(() => applyObject(undefined, c.config, 'alice', opts()));
      expect(err.code).toBe(400);
      expect(err.message).toMatch(c.want);
    });
  }
});

describe('applyObject: conflicts and force', () => {
  const csaLive = (): KubeObject => {
    const created = cluster({ replicas: 1, region: 'r1' });
    created.metadata.managedFields = recordUpdate(undefined, created, 'kubectl-client-side-apply', {
      operation: 'Update',
      now: T0,
      apiVersion: 'example.com/v1',
      schema: clusterSchema,
    });
    return created;
  };

  it('refuses to change a value owned by an updater with the exact Kubernetes wording', () => {
    const err = conflictOf(() => applyObject(csaLive(), cluster({ replicas: 3 }), 'alice', opts()));
    expect(err.code).toBe(409);
    expect(err.reason).toBe('Conflict');
    expect(err.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using example.com/v1: .spec.replicas',
    );
    expect(err.toStatus().details).toEqual({
      causes: [
        {
          reason: 'FieldManagerConflict',
          message: 'conflict with "kubectl-client-side-apply" using example.com/v1',
          field: '.spec.replicas',
        },
      ],
    });
  });

  it('lists several conflicts grouped by manager in the plural form', () => {
    const live = applyAll([
      ['alice', cluster({ replicas: 1 })],
      ['bob', cluster({ region: 'r1', nodePools: [{ name: 'a', size: 1 }] })],
    ]);
    const err = conflictOf(() =>
      applyObject(live, cluster({ replicas: 2, region: 'r2', nodePools: [{ name: 'a', size: 5 }] }), 'carol', opts()),
    );
    expect(err.message).toBe(
      'Apply failed with 3 conflicts: conflicts with "alice":\n- .spec.replicas\nconflicts with "bob":\n- .spec.region\n- .spec.nodePools[name="a"].size',
    );
    expect(err.details!.causes!.map((c) => c.field)).toEqual(['.spec.replicas', '.spec.region', '.spec.nodePools[name="a"].size']);
    expect(err.details!.causes![1]!.message).toBe('conflict with "bob"');
  });

  it('names the subresource of a conflicting status manager', () => {
    const live = applyObject(cluster({}), cluster({}, { status: { phase: 'Ready' } } as Partial<KubeObject>), 'ctrl', opts({ subresource: 'status' })).object;
    const err = conflictOf(() =>
      applyObject(live, cluster({}, { status: { phase: 'Gone' } } as Partial<KubeObject>), 'alice', opts()),
    );
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "ctrl" with subresource "status": .status.phase');
  });

  it('moves ownership to a forcing applier and takes it from the previous owner', () => {
    const obj = applyObject(csaLive(), cluster({ replicas: 3 }), 'alice', opts({ force: true })).object;
    expect(obj.spec).toEqual({ replicas: 3, region: 'r1' });
    expect(entry(obj, 'alice')!.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(entry(obj, 'kubectl-client-side-apply')!.fieldsV1).toEqual({ 'f:spec': { '.': {}, 'f:region': {} } });
  });

  it('removes an entry whose last field was taken by force', () => {
    const live = applyAll([['bob', cluster({ replicas: 1 })]]);
    const obj = applyObject(live, cluster({ replicas: 2 }), 'alice', opts({ force: true })).object;
    expect(obj.metadata.managedFields!.map((e) => e.manager)).toEqual(['alice']);
  });

  it('conflicts on a nested field of an item another manager owns in a keyed list', () => {
    const live = applyAll([['alice', cluster({ nodePools: [{ name: 'a', size: 1 }] })]]);
    const err = conflictOf(() => applyObject(live, cluster({ nodePools: [{ name: 'a', size: 4 }] }), 'bob', opts()));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "alice": .spec.nodePools[name="a"].size');
  });
});

describe('applyObject: upgrading from client-side apply', () => {
  // What `kubectl apply` (client-side) leaves behind: the annotation and an Update entry.
  const csaObject = (spec: Record<string, unknown>, lastApplied: Record<string, unknown>): KubeObject => {
    const obj = cluster(spec, {
      metadata: { annotations: { [lastAppliedAnnotation]: JSON.stringify(cluster(lastApplied)) } },
    });
    obj.metadata.managedFields = recordUpdate(undefined, obj, 'kubectl-client-side-apply', {
      operation: 'Update',
      now: T0,
      apiVersion: 'example.com/v1',
      schema: clusterSchema,
    });
    return obj;
  };

  it('lets kubectl take fields that still hold their last-applied values without conflict', () => {
    const live = csaObject({ replicas: 1, region: 'r1' }, { replicas: 1, region: 'r1' });
    const obj = applyObject(live, cluster({ replicas: 5, region: 'r1' }), 'kubectl', opts()).object;
    expect(obj.spec).toEqual({ replicas: 5, region: 'r1' });
    expect(entry(obj, 'kubectl')!.fieldsV1).toEqual({ 'f:spec': { 'f:region': {}, 'f:replicas': {} } });
    // The annotation follows the server-side apply so a later client-side apply stays correct.
    expect(JSON.parse(obj.metadata.annotations![lastAppliedAnnotation]!).spec).toEqual({ replicas: 5, region: 'r1' });
  });

  it('still conflicts on fields changed since the last client-side apply', () => {
    const live = csaObject({ replicas: 7, region: 'r1' }, { replicas: 1, region: 'r1' });
    const err = conflictOf(() => applyObject(live, cluster({ replicas: 5, region: 'r1' }), 'kubectl', opts()));
    expect(err.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using example.com/v1: .spec.replicas',
    );
  });

  it('gives no such pass to a manager other than kubectl', () => {
    const live = csaObject({ replicas: 1 }, { replicas: 1 });
    expect(() => applyObject(live, cluster({ replicas: 5 }), 'helm', opts())).toThrow(/Apply failed with 1 conflict/);
  });
});

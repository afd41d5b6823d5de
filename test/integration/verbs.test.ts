// The verbs on built-in kinds and their rules: get, list (selectors, pagination,
// resourceVersion semantics), create (generateName), update (optimistic concurrency), dry
// runs, delete (preconditions, finalizers), deletecollection, Secret stringData, Namespace
// termination, errors as metav1.Status, body limits, and the audit log.
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

let vf: TestServer;
beforeAll(async () => {
  vf = await startTestServer();
});
afterAll(async () => {
  await vf?.stop();
});

const cms = (ns = 'default', name = '') => `/api/v1/namespaces/${ns}/configmaps${name ? `/${name}` : ''}`;
const MERGE = { 'content-type': 'application/merge-patch+json' };
const names = (list: { items: { metadata: { name: string } }[] }) => list.items.map((i) => i.metadata.name);

async function makeNamespace(name: string) {
  const res = await vf.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function makeCm(ns: string, name: string, extra: Record<string, unknown> = {}) {
  const res = await vf.call('POST', cms(ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, ...extra });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

/** The audit records of writes (reads are recorded too, in batches: see the test of that). */
async function auditRows(where: string, params: unknown[]) {
  return vf.db.query<{ username: string; verb: string; resource: string; namespace: string; name: string; code: number; subresource: string }>(
    `SELECT username, verb, resource, namespace, name, code, subresource FROM audit_events WHERE (${where}) AND verb NOT IN ('get', 'list', 'watch') ORDER BY id`,
    params,
  );
}

describe('built-in kinds', () => {
  it('creates, reads, updates, patches and deletes a ConfigMap', async () => {
    await makeNamespace('cm-crud');
    const created = await makeCm('cm-crud', 'one', { data: { a: '1' } });
    expect(created).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one', namespace: 'cm-crud' } });
    expect(created.metadata.generation).toBeUndefined();
    const updated = await vf.call('PUT', cms('cm-crud', 'one'), { ...created, data: { a: '2' } });
    expect(updated.status).toBe(200);
    expect(Number(updated.body.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    // Built-in kinds allow an unconditional update (no resourceVersion).
    const { resourceVersion: _rv, ...meta } = updated.body.metadata;
    const unconditional = await vf.call('PUT', cms('cm-crud', 'one'), { ...updated.body, metadata: meta, data: { a: '3' } });
    expect(unconditional.status).toBe(200);
    const patched = await vf.call('PATCH', cms('cm-crud', 'one'), { data: { b: 'x' } }, { 'content-type': 'application/strategic-merge-patch+json' });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toEqual({ a: '3', b: 'x' });
    const bad = await vf.call('PATCH', cms('cm-crud', 'one'), { data: { c: 5 } }, MERGE);
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes[0].field).toBe('data[c]');
    const del = await vf.call('DELETE', cms('cm-crud', 'one'));
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'one', kind: 'configmaps', uid: created.metadata.uid } });
    const gone = await vf.call('GET', cms('cm-crud', 'one'));
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'configmaps "one" not found', details: { name: 'one', kind: 'configmaps' } });
  });

  it('stores Secret stringData base64-encoded in data and never returns stringData', async () => {
    const res = await vf.call('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds' },
      data: { user: Buffer.from('old').toString('base64'), keep: Buffer.from('k').toString('base64') },
      stringData: { user: 'admin', password: 'héllo' },
    });
    expect(res.status).toBe(201);
    expect(res.body.stringData).toBeUndefined();
    expect(res.body.type).toBe('Opaque');
    expect(res.body.data).toEqual({
      user: Buffer.from('admin').toString('base64'),
      password: Buffer.from('héllo').toString('base64'),
      keep: Buffer.from('k').toString('base64'),
    });
    const patched = await vf.call('PATCH', '/api/v1/namespaces/default/secrets/creds', { stringData: { user: 'root' } }, MERGE);
    expect(patched.body.data.user).toBe(Buffer.from('root').toString('base64'));
    expect(patched.body.stringData).toBeUndefined();
    // The row is sealed (see encryption-at-rest.test.ts); the store opens it.
    const stored = await vf.store.objects.get({ resource: '/secrets', namespace: 'default', name: 'creds' });
    expect(stored?.object.data).toEqual(patched.body.data);
    expect(stored?.object.stringData).toBeUndefined();
    const typed = await vf.call('GET', '/api/v1/namespaces/default/secrets?fieldSelector=type%3DOpaque');
    expect(names(typed.body)).toContain('creds');
  });

  it('serves Leases in coordination.k8s.io/v1 with optimistic concurrency', async () => {
    const path = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
    const created = await vf.call('POST', path, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'leader' },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15 },
    });
    expect(created.status).toBe(201);
    const renewed = await vf.call('PUT', `${path}/leader`, { ...created.body, spec: { ...created.body.spec, holderIdentity: 'b' } });
    expect(renewed.status).toBe(200);
    const lost = await vf.call('PUT', `${path}/leader`, { ...created.body, spec: { ...created.body.spec, holderIdentity: 'c' } });
    expect(lost.status).toBe(409);
    expect(lost.body).toMatchObject({ reason: 'Conflict', code: 409, details: { name: 'leader', group: 'coordination.k8s.io', kind: 'leases' } });
    expect(lost.body.message).toBe(
      'Operation cannot be fulfilled on leases.coordination.k8s.io "leader": the object has been modified; please apply your changes to the latest version and try again',
    );
    const got = await vf.call('GET', `${path}/leader`);
    expect(got.body.spec.holderIdentity).toBe('b');
    const list = await vf.call('GET', '/apis/coordination.k8s.io/v1/leases');
    expect(list.body.kind).toBe('LeaseList');
    expect(list.body.apiVersion).toBe('coordination.k8s.io/v1');
  });

  it('serves Events with their selectable fields', async () => {
    const path = '/api/v1/namespaces/default/events';
    const event = (name: string, reason: string) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name },
      involvedObject: { kind: 'ConfigMap', name: 'x', namespace: 'default' },
      reason,
      message: 'hello',
      type: 'Normal',
    });
    expect((await vf.call('POST', path, event('ev-1', 'Created'))).status).toBe(201);
    expect((await vf.call('POST', path, event('ev-2', 'Deleted'))).status).toBe(201);
    const byReason = await vf.call('GET', `${path}?fieldSelector=reason%3DCreated,involvedObject.kind%3DConfigMap`);
    expect(byReason.status).toBe(200);
    expect(names(byReason.body)).toEqual(['ev-1']);
    const del = await vf.call('DELETE', `${path}/ev-2`);
    expect(del.status).toBe(200);
  });

  it('refuses writes to a namespace that does not exist and wrong scopes', async () => {
    const res = await vf.call('POST', cms('nowhere'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ reason: 'NotFound', details: { name: 'nowhere', kind: 'namespaces' } });
    const scoped = await vf.call('GET', '/api/v1/namespaces/default/namespaces/default');
    expect(scoped.status).toBe(404);
    const method = await vf.call('DELETE', '/api/v1/namespaces');
    expect(method.status).toBe(405);
    expect(method.body.reason).toBe('MethodNotAllowed');
  });
});

describe('create', () => {
  it('fills the name from generateName and retries on a clash', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await vf.call('POST', cms(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } });
      expect(res.status).toBe(201);
      expect(res.body.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
      expect(res.body.metadata.generateName).toBe('gen-');
      seen.add(res.body.metadata.name);
    }
    expect(seen.size).toBe(5);
    const bad = await vf.call('POST', cms(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'Bad_' } });
    expect(bad.status).toBe(422);
    const none = await vf.call('POST', cms(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} });
    expect(none.status).toBe(422);
    expect(none.body.details.causes[0]).toMatchObject({ reason: 'FieldValueRequired', field: 'metadata.name' });
  });

  it('answers 409 AlreadyExists for a taken name', async () => {
    await makeCm('default', 'taken');
    const res = await vf.call('POST', cms(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'taken' } });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ reason: 'AlreadyExists', message: 'configmaps "taken" already exists', details: { name: 'taken', kind: 'configmaps' } });
  });

  it('refuses a resourceVersion on create and ignores server-set metadata', async () => {
    const rv = await vf.call('POST', cms(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'with-rv', resourceVersion: '5' } });
    expect(rv.status).toBe(400);
    const forged = await vf.call('POST', cms(), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'forged', uid: 'mine', creationTimestamp: '2000-01-01T00:00:00Z', deletionTimestamp: '2000-01-01T00:00:00Z' },
    });
    expect(forged.status).toBe(201);
    expect(forged.body.metadata.uid).not.toBe('mine');
    expect(forged.body.metadata.creationTimestamp).not.toBe('2000-01-01T00:00:00Z');
    expect(forged.body.metadata.deletionTimestamp).toBeUndefined();
  });
});

describe('dryRun=All', () => {
  it('stores nothing on create, update, patch, delete and deletecollection, yet answers the would-be object', async () => {
    await makeNamespace('dry');
    const dryCreate = await vf.call('POST', `${cms('dry')}?dryRun=All`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'd' }, data: { a: '1' } });
    expect(dryCreate.status).toBe(201);
    expect(dryCreate.body.data).toEqual({ a: '1' });
    expect(dryCreate.body.metadata.uid).toBeTruthy();
    expect((await vf.call('GET', cms('dry', 'd'))).status).toBe(404);
    const live = await makeCm('dry', 'd', { data: { a: '1' } });
    const dryPut = await vf.call('PUT', `${cms('dry', 'd')}?dryRun=All`, { ...live, data: { a: '2' } });
    expect(dryPut.status).toBe(200);
    expect(dryPut.body.data).toEqual({ a: '2' });
    const dryPatch = await vf.call('PATCH', `${cms('dry', 'd')}?dryRun=All`, { data: { b: '3' } }, MERGE);
    expect(dryPatch.status).toBe(200);
    expect(dryPatch.body.data).toEqual({ a: '1', b: '3' });
    const dryJson = await vf.call('PATCH', `${cms('dry', 'd')}?dryRun=All`, [{ op: 'add', path: '/data/c', value: '4' }], { 'content-type': 'application/json-patch+json' });
    expect(dryJson.body.data).toEqual({ a: '1', c: '4' });
    const dryDelete = await vf.call('DELETE', `${cms('dry', 'd')}?dryRun=All`);
    expect(dryDelete.status).toBe(200);
    const dryCollection = await vf.call('DELETE', `${cms('dry')}?dryRun=All`);
    expect(dryCollection.status).toBe(200);
    expect(names(dryCollection.body)).toEqual(['d']);
    const after = await vf.call('GET', cms('dry', 'd'));
    expect(after.status).toBe(200);
    expect(after.body).toEqual(live);
    const badDry = await vf.call('POST', `${cms('dry')}?dryRun=Some`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
    expect(badDry.status).toBe(400);
    // Dry runs write no changes and no audit rows of success.
    const rows = await auditRows("namespace = 'dry' AND code < 300", []);
    expect(rows.map((r) => r.verb)).toEqual(['create']);
  });
});

describe('update', () => {
  it('refuses a stale resourceVersion with 409 Conflict and keeps the newer object', async () => {
    const created = await makeCm('default', 'occ', { data: { v: '0' } });
    const first = await vf.call('PUT', cms('default', 'occ'), { ...created, data: { v: '1' } });
    expect(first.status).toBe(200);
    const second = await vf.call('PUT', cms('default', 'occ'), { ...created, data: { v: '2' } });
    expect(second.status).toBe(409);
    expect(second.body.reason).toBe('Conflict');
    const got = await vf.call('GET', cms('default', 'occ'));
    expect(got.body.data).toEqual({ v: '1' });
    const missing = await vf.call('PUT', cms('default', 'occ-missing'), { ...created, metadata: { name: 'occ-missing', resourceVersion: '1' } });
    expect(missing.status).toBe(404);
  });

  it('writes nothing when an update changes nothing', async () => {
    const created = await makeCm('default', 'noop', { data: { v: '0' } });
    const same = await vf.call('PUT', cms('default', 'noop'), created);
    expect(same.status).toBe(200);
    expect(same.body.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  });
});

describe('delete', () => {
  it('honours uid and resourceVersion preconditions', async () => {
    const created = await makeCm('default', 'pre');
    const wrongUid = await vf.call('DELETE', cms('default', 'pre'), { preconditions: { uid: 'not-it' } });
    expect(wrongUid.status).toBe(409);
    expect(wrongUid.body.message).toContain('Precondition failed: UID in precondition: not-it');
    const wrongRv = await vf.call('DELETE', cms('default', 'pre'), { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: '1' } });
    expect(wrongRv.status).toBe(409);
    expect(wrongRv.body.message).toContain('Precondition failed: ResourceVersion in precondition: 1');
    expect((await vf.call('GET', cms('default', 'pre'))).status).toBe(200);
    const ok = await vf.call('DELETE', cms('default', 'pre'), {
      preconditions: { uid: created.metadata.uid, resourceVersion: created.metadata.resourceVersion },
    });
    expect(ok.status).toBe(200);
    expect((await vf.call('GET', cms('default', 'pre'))).status).toBe(404);
    expect((await vf.call('DELETE', cms('default', 'pre'))).status).toBe(404);
    const badBody = await vf.call('DELETE', cms('default', 'pre'), '{"preconditions":');
    expect(badBody.status).toBe(400);
  });

  it('sets deletionTimestamp while finalizers remain and removes the object when the last one goes', async () => {
    const created = await makeCm('default', 'fin', { metadata: { name: 'fin', finalizers: ['example.com/a', 'example.com/b'] } });
    const del = await vf.call('DELETE', cms('default', 'fin'));
    expect(del.status).toBe(200);
    expect(del.body.kind).toBe('ConfigMap');
    expect(del.body.metadata.deletionTimestamp).toBeTruthy();
    expect(del.body.metadata.deletionGracePeriodSeconds).toBe(0);
    const again = await vf.call('DELETE', cms('default', 'fin'));
    expect(again.status).toBe(200);
    expect(again.body.metadata.deletionTimestamp).toBe(del.body.metadata.deletionTimestamp);
    // No new finalizers on an object that is being deleted.
    const add = await vf.call('PATCH', cms('default', 'fin'), { metadata: { finalizers: ['example.com/a', 'example.com/b', 'example.com/c'] } }, MERGE);
    expect(add.status).toBe(422);
    expect(add.body.details.causes[0].field).toBe('metadata.finalizers');
    // The deletion timestamp cannot be cleared.
    const clear = await vf.call('PATCH', cms('default', 'fin'), { metadata: { deletionTimestamp: null, labels: { x: 'y' } } }, MERGE);
    expect(clear.status).toBe(200);
    expect(clear.body.metadata.deletionTimestamp).toBe(del.body.metadata.deletionTimestamp);
    const one = await vf.call('PATCH', cms('default', 'fin'), { metadata: { finalizers: ['example.com/b'] } }, MERGE);
    expect(one.status).toBe(200);
    expect((await vf.call('GET', cms('default', 'fin'))).status).toBe(200);
    const last = await vf.call('PATCH', cms('default', 'fin'), { metadata: { finalizers: null } }, MERGE);
    expect(last.status).toBe(200);
    expect((await vf.call('GET', cms('default', 'fin'))).status).toBe(404);
    expect(created.metadata.uid).toBe(last.body.metadata.uid);
  });

  it('deletes a collection by label selector and answers the deleted list', async () => {
    await makeNamespace('dc');
    for (const [name, tier] of [['a', 'web'], ['b', 'web'], ['c', 'db']] as const) {
      await makeCm('dc', name, { metadata: { name, labels: { tier } } });
    }
    const res = await vf.call('DELETE', `${cms('dc')}?labelSelector=tier%3Dweb`);
    expect(res.status).toBe(200);
    expect(res.body.kind).toBe('ConfigMapList');
    expect(names(res.body).sort()).toEqual(['a', 'b']);
    const left = await vf.call('GET', cms('dc'));
    expect(names(left.body)).toEqual(['c']);
    const bad = await vf.call('DELETE', `${cms('dc')}?labelSelector=tier%20in%20web`);
    expect(bad.status).toBe(400);
    expect(names((await vf.call('GET', cms('dc'))).body)).toEqual(['c']);
  });
});

describe('namespaces', () => {
  it('shows Terminating while its contents are deleted, refuses new content, then goes', async () => {
    await makeNamespace('doomed');
    expect((await vf.call('GET', '/api/v1/namespaces/doomed')).body.status.phase).toBe('Active');
    await makeCm('doomed', 'held', { metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    await makeCm('doomed', 'free');
    const del = await vf.call('DELETE', '/api/v1/namespaces/doomed');
    expect(del.status).toBe(200);
    expect(del.body.status.phase).toBe('Terminating');
    expect(del.body.metadata.deletionTimestamp).toBeTruthy();
    await waitUntil(async () => (await vf.call('GET', cms('doomed', 'free'))).status === 404, 'free configmap deleted');
    const ns = await vf.call('GET', '/api/v1/namespaces/doomed');
    expect(ns.status).toBe(200);
    expect(ns.body.status.phase).toBe('Terminating');
    const refused = await vf.call('POST', cms('doomed'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      reason: 'Forbidden',
      message: 'configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated',
      details: { causes: [{ reason: 'NamespaceTerminating', field: 'metadata.namespace' }] },
    });
    const terminating = await vf.call('GET', '/api/v1/namespaces?fieldSelector=status.phase%3DTerminating');
    expect(names(terminating.body)).toContain('doomed');
    // Releasing the last finalizer lets the namespace go.
    const held = await vf.call('PATCH', cms('doomed', 'held'), { metadata: { finalizers: null } }, MERGE);
    expect(held.status).toBe(200);
    await waitUntil(async () => (await vf.call('GET', '/api/v1/namespaces/doomed')).status === 404, 'namespace gone');
    const rows = await vf.db.query<{ n: number }>("SELECT count(*)::int AS n FROM objects WHERE namespace = 'doomed'");
    expect(rows[0]!.n).toBe(0);
  });
});

describe('list', () => {
  it('pages with limit and continue, consistent at the first page\'s revision', async () => {
    await makeNamespace('pages');
    for (let i = 0; i < 7; i++) await makeCm('pages', `p${i}`);
    const first = await vf.call('GET', `${cms('pages')}?limit=3`);
    expect(names(first.body)).toEqual(['p0', 'p1', 'p2']);
    expect(first.body.metadata.remainingItemCount).toBe(4);
    const token = first.body.metadata.continue as string;
    expect(token).toBeTruthy();
    // Changes after the first page do not show in later pages.
    await makeCm('pages', 'p3a');
    expect((await vf.call('DELETE', cms('pages', 'p5'))).status).toBe(200);
    await vf.call('PATCH', cms('pages', 'p4'), { data: { changed: 'yes' } }, MERGE);
    const second = await vf.call('GET', `${cms('pages')}?limit=3&continue=${encodeURIComponent(token)}`);
    expect(second.status).toBe(200);
    expect(names(second.body)).toEqual(['p3', 'p4', 'p5']);
    expect(second.body.items[1].data).toBeUndefined();
    expect(second.body.metadata.resourceVersion).toBe(first.body.metadata.resourceVersion);
    const third = await vf.call('GET', `${cms('pages')}?limit=3&continue=${encodeURIComponent(second.body.metadata.continue)}`);
    expect(names(third.body)).toEqual(['p6']);
    expect(third.body.metadata.continue).toBeUndefined();
    const fresh = await vf.call('GET', cms('pages'));
    expect(names(fresh.body)).toEqual(['p0', 'p1', 'p2', 'p3', 'p3a', 'p4', 'p6']);
    const bad = await vf.call('GET', `${cms('pages')}?limit=3&continue=garbage`);
    expect(bad.status).toBe(400);
    const withRv = await vf.call('GET', `${cms('pages')}?limit=3&continue=${encodeURIComponent(token)}&resourceVersion=5`);
    expect(withRv.status).toBe(400);
    const badLimit = await vf.call('GET', `${cms('pages')}?limit=-1`);
    expect(badLimit.status).toBe(400);
  });

  it('pages with a label selector', async () => {
    await makeNamespace('pages-sel');
    for (let i = 0; i < 6; i++) await makeCm('pages-sel', `s${i}`, { metadata: { name: `s${i}`, labels: { even: String(i % 2 === 0) } } });
    const all: string[] = [];
    let token = '';
    for (;;) {
      const res = await vf.call('GET', `${cms('pages-sel')}?labelSelector=even%3Dtrue&limit=1${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
      expect(res.status).toBe(200);
      all.push(...names(res.body));
      token = res.body.metadata.continue ?? '';
      if (!token) break;
    }
    expect(all).toEqual(['s0', 's2', 's4']);
  });

  it('follows resourceVersion semantics: unset, 0, NotOlderThan, Exact, too large', async () => {
    await makeNamespace('rvs');
    const a = await makeCm('rvs', 'a', { data: { v: '1' } });
    const atA = Number(a.metadata.resourceVersion);
    await vf.call('PATCH', cms('rvs', 'a'), { data: { v: '2' } }, MERGE);
    await makeCm('rvs', 'b');
    const latest = await vf.call('GET', cms('rvs'));
    expect(names(latest.body)).toEqual(['a', 'b']);
    const latestRv = Number(latest.body.metadata.resourceVersion);
    expect(latestRv).toBeGreaterThan(atA);
    const any = await vf.call('GET', `${cms('rvs')}?resourceVersion=0`);
    expect(any.status).toBe(200);
    expect(Number(any.body.metadata.resourceVersion)).toBeGreaterThanOrEqual(latestRv);
    const notOlder = await vf.call('GET', `${cms('rvs')}?resourceVersion=${atA}&resourceVersionMatch=NotOlderThan`);
    expect(names(notOlder.body)).toEqual(['a', 'b']);
    expect(Number(notOlder.body.metadata.resourceVersion)).toBeGreaterThanOrEqual(latestRv);
    const exact = await vf.call('GET', `${cms('rvs')}?resourceVersion=${atA}&resourceVersionMatch=Exact`);
    expect(exact.status).toBe(200);
    expect(exact.body.metadata.resourceVersion).toBe(String(atA));
    expect(names(exact.body)).toEqual(['a']);
    expect(exact.body.items[0].data).toEqual({ v: '1' });
    // The legacy rule: a resourceVersion with a limit and no match is Exact.
    const legacy = await vf.call('GET', `${cms('rvs')}?resourceVersion=${atA}&limit=10`);
    expect(names(legacy.body)).toEqual(['a']);
    const tooLarge = await vf.call('GET', `${cms('rvs')}?resourceVersion=${latestRv + 100000}`);
    expect(tooLarge.status).toBe(504);
    expect(tooLarge.body).toMatchObject({ reason: 'Timeout', details: { causes: [{ reason: 'ResourceVersionTooLarge' }] } });
    const invalid = await vf.call('GET', `${cms('rvs')}?resourceVersion=abc`);
    expect(invalid.status).toBe(400);
    const matchWithout = await vf.call('GET', `${cms('rvs')}?resourceVersionMatch=Exact`);
    expect(matchWithout.status).toBe(422);
    expect(matchWithout.body.details).toMatchObject({ kind: 'ListOptions', group: 'meta.k8s.io' });
    const exactZero = await vf.call('GET', `${cms('rvs')}?resourceVersion=0&resourceVersionMatch=Exact`);
    expect(exactZero.status).toBe(422);
    const unknownMatch = await vf.call('GET', `${cms('rvs')}?resourceVersion=1&resourceVersionMatch=Newest`);
    expect(unknownMatch.status).toBe(422);
    expect(unknownMatch.body.details.causes[0].reason).toBe('FieldValueNotSupported');
  });

  it('lists across namespaces and by metadata.name field selector', async () => {
    const all = await vf.call('GET', '/api/v1/configmaps?fieldSelector=metadata.namespace%3Drvs');
    expect(names(all.body)).toEqual(['a', 'b']);
    const one = await vf.call('GET', '/api/v1/configmaps?fieldSelector=metadata.name%3Db,metadata.namespace%3Drvs');
    expect(names(one.body)).toEqual(['b']);
    const bad = await vf.call('GET', '/api/v1/configmaps?fieldSelector=data.v%3D1');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('data.v');
  });

  it('answers YAML when asked', async () => {
    const res = await vf.call('GET', cms('rvs', 'a'), undefined, { accept: 'application/yaml' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/yaml/);
    expect(res.text).toContain('kind: ConfigMap');
  });

  it('answers YAML that a YAML 1.1 reader (kubectl, Go clients) reads as written', async () => {
    const data = { power: 'On', enabled: 'no', mode: '0755', at: '1:30', nothing: '~' };
    expect((await vf.call('POST', cms('rvs'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'yaml11' }, data })).status).toBe(201);
    const res = await vf.call('GET', cms('rvs', 'yaml11'), undefined, { accept: 'application/yaml' });
    expect(YAML.parse(res.text, { version: '1.1' }).data).toEqual(data);
  });
});

describe('malformed requests', () => {
  it('answers malformed JSON and YAML with 400 Status saying what is wrong', async () => {
    const json = await vf.call('POST', cms(), '{"apiVersion": "v1", "kind": ');
    expect(json.status).toBe(400);
    expect(json.body).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    expect(json.body.message).toMatch(/JSON/);
    const yaml = await vf.call('POST', cms(), 'apiVersion: v1\nkind: [ConfigMap\n', { 'content-type': 'application/yaml' });
    expect(yaml.status).toBe(400);
    expect(yaml.body.message).toMatch(/YAML/);
    const goodYaml = await vf.call('POST', cms(), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: "1"\n', { 'content-type': 'application/yaml' });
    expect(goodYaml.status).toBe(201);
    const empty = await vf.call('POST', cms(), '');
    expect(empty.status).toBe(400);
    const scalar = await vf.call('POST', cms(), '42');
    expect(scalar.status).toBe(400);
    const wrongKind = await vf.call('POST', cms(), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } });
    expect(wrongKind.status).toBe(400);
    const wrongVersion = await vf.call('POST', cms(), { apiVersion: 'v2', kind: 'ConfigMap', metadata: { name: 'x' } });
    expect(wrongVersion.status).toBe(400);
    const metaString = await vf.call('POST', cms(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: 'x' });
    expect(metaString.status).toBe(400);
    const bomb = await vf.call('POST', cms(), 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n', { 'content-type': 'application/yaml' });
    expect(bomb.status).toBe(400);
  });

  it('refuses bodies over the limit with 413', async () => {
    const big = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { x: 'a'.repeat(4 * 1024 * 1024) } });
    const res = await vf.call('POST', cms(), big);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge', code: 413 });
    expect((await vf.call('GET', cms('default', 'big'))).status).toBe(404);
    // The server keeps answering.
    expect((await vf.call('GET', '/readyz')).status).toBe(200);
  });

  it('answers unknown paths, resources and methods with a Status', async () => {
    for (const [method, path, code] of [
      ['GET', '/api/v1/widgets', 404],
      ['GET', '/apis/nope.io/v1/things', 404],
      ['GET', '/nothing-here', 404],
      ['GET', '/api/v1/namespaces/default/configmaps/a/b/c/d', 404],
      ['POST', '/api/v1/namespaces/default/configmaps/named', 405],
    ] as const) {
      const res = await vf.call(method, path, method === 'POST' ? { metadata: { name: 'named' } } : undefined);
      expect(res.status, path).toBe(code);
      expect(res.body?.kind, path).toBe('Status');
    }
  });
});

describe('audit', () => {
  it('records successful and refused writes with who, verb, resource, namespace, name and code', async () => {
    await makeNamespace('audited');
    await makeCm('audited', 'x');
    await vf.call('POST', cms('audited'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
    await vf.call('PATCH', cms('audited', 'x'), { data: { a: '1' } }, MERGE);
    await vf.call('PATCH', cms('audited', 'x'), { data: { a: 1 } }, MERGE);
    await vf.call('DELETE', cms('audited', 'x'));
    await vf.call('DELETE', cms('audited', 'x'));
    await vf.call('GET', cms('audited', 'x'));
    const rows = await auditRows("namespace = 'audited' AND resource = 'configmaps'", []);
    expect(rows.map((r) => [r.verb, r.name, r.code])).toEqual([
      ['create', 'x', 201],
      ['create', 'x', 409],
      ['patch', 'x', 200],
      ['patch', 'x', 422],
      ['delete', 'x', 200],
      ['delete', 'x', 404],
    ]);
    expect(new Set(rows.map((r) => r.username))).toEqual(new Set(['admin']));
    const ns = await auditRows("resource = 'namespaces' AND name = 'audited'", []);
    expect(ns).toEqual([expect.objectContaining({ verb: 'create', code: 201, namespace: '' })]);
    // An unauthenticated write is refused before anyone is known, and recorded nowhere as a success.
    await vf.call('POST', cms('audited'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'anon' } }, { authorization: '' });
    const anon = await auditRows("namespace = 'audited' AND name = 'anon' AND code < 300", []);
    expect(anon).toEqual([]);
  });

  it('records reads too, with the real user, in batches that never delay the read', async () => {
    await makeNamespace('read-audited');
    await makeCm('read-audited', 'seen');
    expect((await vf.call('GET', cms('read-audited', 'seen'))).status).toBe(200);
    expect((await vf.call('GET', cms('read-audited'))).status).toBe(200);
    expect((await vf.call('GET', cms('read-audited', 'absent'))).status).toBe(404);
    const reads = async () =>
      vf.db.query<{ username: string; verb: string; name: string; code: number }>(
        "SELECT username, verb, name, code FROM audit_events WHERE namespace = 'read-audited' AND verb IN ('get', 'list', 'watch') ORDER BY id",
      );
    await waitUntil(async () => (await reads()).length === 3, 'the reads to be on record');
    expect((await reads()).map((r) => [r.username, r.verb, r.name, r.code])).toEqual([
      ['admin', 'get', 'seen', 200],
      ['admin', 'list', '', 200],
      ['admin', 'get', 'absent', 404],
    ]);
  });
});

// Custom resources through a CRD: schema validation (Strict, Warn, Ignore), defaults, the
// status and scale subresources, generation, immutable metadata, patches, Table output and
// selectableFields.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gadgetCrd, installCrd, TEST_GROUP, widget, widgetCrd, widgets } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

let vf: TestServer;
beforeAll(async () => {
  vf = await startTestServer();
  await installCrd(vf, widgetCrd());
  await installCrd(vf, gadgetCrd());
});
afterAll(async () => {
  await vf?.stop();
});

const gadgets = (name = '') => `/apis/${TEST_GROUP}/v1/gadgets${name ? `/${name}` : ''}`;
const MERGE = { 'content-type': 'application/merge-patch+json' };
const JSONPATCH = { 'content-type': 'application/json-patch+json' };

async function create(name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) {
  const res = await vf.call('POST', widgets(), widget(name, spec, metadata));
  expect(res.status, res.text).toBe(201);
  return res.body;
}

describe('schema validation', () => {
  it('refuses unknown fields under Strict (the default) with 400 naming each field', async () => {
    const body = widget('strict-1', { color: 'red', bogus: 1, nested: { x: 1 } });
    const res = await vf.call('POST', widgets(), body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    expect(res.body.message).toContain('unknown field "spec.bogus"');
    expect(res.body.message).toContain('unknown field "spec.nested"');
    const explicit = await vf.call('POST', `${widgets()}?fieldValidation=Strict`, body);
    expect(explicit.status).toBe(400);
    expect((await vf.call('GET', widgets('default', 'strict-1'))).status).toBe(404);
  });

  it('warns about unknown fields under Warn and stores the object without them', async () => {
    const res = await vf.call('POST', `${widgets()}?fieldValidation=Warn`, widget('warn-1', { color: 'red', bogus: 1 }));
    expect(res.status).toBe(201);
    const warning = String(res.headers.warning);
    expect(warning).toMatch(/^299 - /);
    expect(warning).toContain('unknown field \\"spec.bogus\\"');
    expect(res.body.spec).toEqual({ color: 'red' });
  });

  it('prunes unknown fields silently under Ignore', async () => {
    const res = await vf.call('POST', `${widgets()}?fieldValidation=Ignore`, { ...widget('ignore-1', { size: 3, bogus: true }), extra: 'x' });
    expect(res.status).toBe(201);
    expect(res.headers.warning).toBeUndefined();
    expect(res.body.spec).toEqual({ size: 3, color: 'blue' });
    expect(res.body.extra).toBeUndefined();
    const stored = await vf.call('GET', widgets('default', 'ignore-1'));
    expect(stored.body.spec).toEqual({ size: 3, color: 'blue' });
  });

  it('refuses a bad fieldValidation value', async () => {
    const res = await vf.call('POST', `${widgets()}?fieldValidation=Loose`, widget('fv-bad'));
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('fieldValidation');
  });

  it('refuses schema violations with 422 Invalid and one cause per field', async () => {
    const res = await vf.call('POST', widgets(), widget('invalid-1', { size: 1000, replicas: -1, color: 7 }));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ reason: 'Invalid', code: 422, details: { name: 'invalid-1', group: TEST_GROUP, kind: 'Widget' } });
    const fields = res.body.details.causes.map((c: { field: string }) => c.field).sort();
    expect(fields).toEqual(['spec.color', 'spec.replicas', 'spec.size']);
    expect(res.body.message).toMatch(/^Widget\.test\.virtflow\.io "invalid-1" is invalid: /);
  });

  it('refuses bad object metadata with 422', async () => {
    const res = await vf.call('POST', widgets(), widget('Not_A_Name'));
    expect(res.status).toBe(422);
    expect(res.body.details.causes[0].field).toBe('metadata.name');
    const labels = await vf.call('POST', widgets(), widget('bad-labels', {}, { labels: { 'a b': 'c' } }));
    expect(labels.status).toBe(422);
    expect(labels.body.details.causes[0].field).toBe('metadata.labels');
  });

  it('applies schema defaults on create and on update', async () => {
    const created = await create('defaults-1', { size: 1 });
    expect(created.spec.color).toBe('blue');
    const updated = await vf.call('PUT', widgets('default', 'defaults-1'), { ...created, spec: { size: 2 } });
    expect(updated.status).toBe(200);
    expect(updated.body.spec).toEqual({ size: 2, color: 'blue' });
  });

  it('writes nothing for a change that defaulting undoes, and keeps the generation', async () => {
    const created = await create('defaults-2', { size: 1, ports: [{ name: 'http', port: 80 }] });
    expect(created.spec.ports).toEqual([{ name: 'http', port: 80, protocol: 'TCP' }]);
    // What client-side apply sends for a list again and again.
    const patch = { spec: { ports: [{ name: 'http', port: 80 }] } };
    const dry = await vf.call('PATCH', `${widgets('default', 'defaults-2')}?dryRun=All`, patch, MERGE);
    expect(dry.body).toEqual(created);
    const again = await vf.call('PATCH', widgets('default', 'defaults-2'), patch, MERGE);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(created);
    const put = await vf.call('PUT', widgets('default', 'defaults-2'), { ...created, spec: { size: 1, ports: [{ name: 'http', port: 80 }] } });
    expect(put.body.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(put.body.metadata.generation).toBe(1);
  });

  it('never stores empty metadata maps and lists, and records no field owner for them', async () => {
    const created = await create('empty-meta', {}, { labels: {}, annotations: {}, finalizers: [] });
    expect(Object.keys(created.metadata).sort()).toEqual(['creationTimestamp', 'generation', 'managedFields', 'name', 'namespace', 'resourceVersion', 'uid']);
    const patched = await vf.call(
      'PATCH',
      `${widgets('default', 'empty-meta')}?fieldManager=kubectl-client-side-apply`,
      { metadata: { annotations: {}, labels: {}, resourceVersion: created.metadata.resourceVersion } },
      MERGE,
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual(created);
    const labelled = await vf.call('PATCH', widgets('default', 'empty-meta'), { metadata: { labels: { a: 'b' } } }, MERGE);
    const cleared = await vf.call('PATCH', widgets('default', 'empty-meta'), { metadata: { labels: { a: null } } }, MERGE);
    expect(labelled.body.metadata.labels).toEqual({ a: 'b' });
    expect(cleared.body.metadata.labels).toBeUndefined();
  });

  it('refuses a body of the wrong kind or apiVersion with 400', async () => {
    const kind = await vf.call('POST', widgets(), { ...widget('wrong-kind'), kind: 'Gadget' });
    expect(kind.status).toBe(400);
    expect(kind.body.message).toContain('Gadget');
    const version = await vf.call('POST', widgets(), { ...widget('wrong-version'), apiVersion: `${TEST_GROUP}/v2` });
    expect(version.status).toBe(400);
    const ns = await vf.call('POST', widgets(), widget('wrong-ns', {}, { namespace: 'kube-system' }));
    expect(ns.status).toBe(400);
    const notObject = await vf.call('POST', widgets(), '[1,2,3]');
    expect(notObject.status).toBe(400);
  });
});

describe('status subresource', () => {
  it('never changes status through the main resource, on create, update or patch', async () => {
    const created = await vf.call('POST', widgets(), { ...widget('st-1', { size: 1 }), status: { phase: 'Forged' } });
    expect(created.status).toBe(201);
    expect(created.body.status).toBeUndefined();
    const put = await vf.call('PUT', widgets('default', 'st-1'), { ...created.body, status: { phase: 'Forged' } });
    expect(put.status).toBe(200);
    expect(put.body.status).toBeUndefined();
    const patched = await vf.call('PATCH', widgets('default', 'st-1'), { status: { phase: 'Forged' } }, MERGE);
    expect(patched.status).toBe(200);
    expect(patched.body.status).toBeUndefined();
    // A patch that changes nothing storable writes nothing.
    expect(patched.body.metadata.resourceVersion).toBe(put.body.metadata.resourceVersion);
  });

  it('changes only status through /status, keeping spec, labels and generation', async () => {
    const created = await create('st-2', { size: 1 }, { labels: { a: '1' } });
    const res = await vf.call(
      'PUT',
      `${widgets('default', 'st-2')}/status`,
      { ...created, metadata: { ...created.metadata, labels: { a: '2' } }, spec: { size: 99 }, status: { phase: 'Ready', replicas: 2 } },
    );
    expect(res.status).toBe(200);
    expect(res.body.status).toEqual({ phase: 'Ready', replicas: 2 });
    expect(res.body.spec).toEqual({ size: 1, color: 'blue' });
    expect(res.body.metadata.labels).toEqual({ a: '1' });
    expect(res.body.metadata.generation).toBe(1);
    const patched = await vf.call('PATCH', `${widgets('default', 'st-2')}/status`, { status: { phase: 'Done' }, spec: { size: 5 } }, MERGE);
    expect(patched.status).toBe(200);
    expect(patched.body.status).toEqual({ phase: 'Done', replicas: 2 });
    expect(patched.body.spec.size).toBe(1);
    // The main resource then keeps that status.
    const spec = await vf.call('PATCH', widgets('default', 'st-2'), { spec: { size: 7 } }, MERGE);
    expect(spec.body.status).toEqual({ phase: 'Done', replicas: 2 });
    expect(spec.body.metadata.generation).toBe(2);
    const got = await vf.call('GET', `${widgets('default', 'st-2')}/status`);
    expect(got.status).toBe(200);
    expect(got.body.status.phase).toBe('Done');
  });

  it('validates status against the schema and honours a stale resourceVersion on /status', async () => {
    const created = await create('st-3');
    const bad = await vf.call('PATCH', `${widgets('default', 'st-3')}/status`, { status: { replicas: 'many' } }, MERGE);
    expect(bad.status).toBe(422);
    const ok = await vf.call('PUT', `${widgets('default', 'st-3')}/status`, { ...created, status: { phase: 'A' } });
    expect(ok.status).toBe(200);
    const stale = await vf.call('PUT', `${widgets('default', 'st-3')}/status`, { ...created, status: { phase: 'B' } });
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
  });

  it('answers 404 for /status on a kind without the subresource and for unknown subresources', async () => {
    await vf.call('POST', gadgets(), { apiVersion: `${TEST_GROUP}/v1`, kind: 'Gadget', metadata: { name: 'g0' }, spec: {} });
    expect((await vf.call('GET', `${gadgets('g0')}/status`)).status).toBe(404);
    expect((await vf.call('GET', `${widgets('default', 'st-3')}/exec`)).status).toBe(404);
  });
});

describe('metadata.generation and immutable metadata', () => {
  it('increments generation on spec changes only', async () => {
    const created = await create('gen-1', { size: 1 });
    expect(created.metadata.generation).toBe(1);
    const labels = await vf.call('PATCH', widgets('default', 'gen-1'), { metadata: { labels: { x: 'y' }, annotations: { a: 'b' } } }, MERGE);
    expect(labels.body.metadata.generation).toBe(1);
    const spec = await vf.call('PATCH', widgets('default', 'gen-1'), { spec: { size: 2 } }, MERGE);
    expect(spec.body.metadata.generation).toBe(2);
    const same = await vf.call('PATCH', widgets('default', 'gen-1'), { spec: { size: 2 } }, MERGE);
    expect(same.body.metadata.generation).toBe(2);
    const status = await vf.call('PATCH', `${widgets('default', 'gen-1')}/status`, { status: { phase: 'x' } }, MERGE);
    expect(status.body.metadata.generation).toBe(2);
    const forged = await vf.call('PATCH', widgets('default', 'gen-1'), { metadata: { generation: 40 } }, MERGE);
    expect(forged.body.metadata.generation).toBe(2);
  });

  it('counts a status change as a spec change on a kind without a status subresource', async () => {
    const created = await vf.call('POST', gadgets(), { apiVersion: `${TEST_GROUP}/v1`, kind: 'Gadget', metadata: { name: 'g1' }, spec: { a: 1 } });
    expect(created.body.metadata.generation).toBe(1);
    const status = await vf.call('PATCH', gadgets('g1'), { status: { b: 2 } }, MERGE);
    expect(status.body.status).toEqual({ b: 2 });
    expect(status.body.metadata.generation).toBe(2);
  });

  it('keeps uid and creationTimestamp: a changed uid is refused, a changed timestamp ignored', async () => {
    const created = await create('imm-1');
    const uid = await vf.call('PUT', widgets('default', 'imm-1'), { ...created, metadata: { ...created.metadata, uid: '00000000-0000-0000-0000-000000000000' } });
    expect(uid.status).toBe(409);
    expect(uid.body.message).toContain('Precondition failed: UID in precondition');
    const patchUid = await vf.call('PATCH', widgets('default', 'imm-1'), { metadata: { uid: '00000000-0000-0000-0000-000000000000' } }, MERGE);
    expect(patchUid.status).toBe(422);
    expect(patchUid.body.details.causes[0]).toMatchObject({ field: 'metadata.uid', reason: 'FieldValueInvalid' });
    const ts = await vf.call('PATCH', widgets('default', 'imm-1'), { metadata: { creationTimestamp: '2000-01-01T00:00:00Z' } }, MERGE);
    expect(ts.status).toBe(200);
    expect(ts.body.metadata.creationTimestamp).toBe(created.metadata.creationTimestamp);
    const got = await vf.call('GET', widgets('default', 'imm-1'));
    expect(got.body.metadata.uid).toBe(created.metadata.uid);
    expect(got.body.metadata.creationTimestamp).toBe(created.metadata.creationTimestamp);
    // A deletionTimestamp may not be set by an update.
    const del = await vf.call('PATCH', widgets('default', 'imm-1'), { metadata: { deletionTimestamp: '2030-01-01T00:00:00Z' } }, MERGE);
    expect(del.status).toBe(422);
    expect((await vf.call('GET', widgets('default', 'imm-1'))).body.metadata.deletionTimestamp).toBeUndefined();
  });

  it('refuses an update without resourceVersion for custom resources (no unconditional update)', async () => {
    const created = await create('imm-2');
    const { resourceVersion: _rv, ...meta } = created.metadata;
    const res = await vf.call('PUT', widgets('default', 'imm-2'), { ...created, metadata: meta });
    expect(res.status).toBe(422);
    expect(res.body.details.causes[0].field).toBe('metadata.resourceVersion');
  });

  it('refuses a rename through the URL/body mismatch with 400', async () => {
    const created = await create('imm-3');
    const res = await vf.call('PUT', widgets('default', 'imm-3'), { ...created, metadata: { ...created.metadata, name: 'other' } });
    expect(res.status).toBe(400);
  });
});

describe('patches', () => {
  it('applies merge and JSON patches', async () => {
    await create('p-1', { size: 1, tags: ['a'] });
    const merge = await vf.call('PATCH', widgets('default', 'p-1'), { spec: { note: 'hi', size: null } }, MERGE);
    expect(merge.status).toBe(200);
    expect(merge.body.spec).toEqual({ color: 'blue', note: 'hi', tags: ['a'] });
    const json = await vf.call(
      'PATCH',
      widgets('default', 'p-1'),
      [
        { op: 'test', path: '/spec/note', value: 'hi' },
        { op: 'add', path: '/spec/tags/-', value: 'b' },
        { op: 'replace', path: '/spec/color', value: 'green' },
        { op: 'remove', path: '/spec/note' },
      ],
      JSONPATCH,
    );
    expect(json.status).toBe(200);
    expect(json.body.spec).toEqual({ color: 'green', tags: ['a', 'b'] });
  });

  it('answers bad patches with 4xx and leaves the object as it was', async () => {
    const before = await create('p-2', { size: 1 });
    const cases: [unknown, Record<string, string>, number][] = [
      ['{not json', MERGE, 400],
      ['[1,2]', MERGE, 400],
      ['"text"', MERGE, 400],
      ['{"op":"add"}', JSONPATCH, 400],
      [[{ op: 'remove', path: '/spec/missing' }], JSONPATCH, 422],
      [[{ op: 'test', path: '/spec/size', value: 2 }], JSONPATCH, 422],
      [[{ op: 'frobnicate', path: '/spec' }], JSONPATCH, 422],
      [[{ op: 'add', path: 'spec/size', value: 1 }], JSONPATCH, 422],
      [[{ op: 'replace', path: '', value: 5 }], JSONPATCH, 400],
      [[{ op: 'replace', path: '/metadata', value: 5 }], JSONPATCH, 400],
      [[{ op: 'replace', path: '/kind', value: 'Gadget' }], JSONPATCH, 400],
      [{ spec: { size: 'big' } }, MERGE, 422],
      [{ spec: { unknownThing: 1 } }, MERGE, 400],
      [{ metadata: { name: 'renamed' } }, MERGE, 400],
      [{ metadata: { namespace: 'kube-system' } }, MERGE, 400],
      [{ metadata: null }, MERGE, 400],
      [{ metadata: { labels: 'x' } }, MERGE, 422],
      [{ metadata: { resourceVersion: '1' } }, MERGE, 409],
      ['{}', { 'content-type': 'application/strategic-merge-patch+json' }, 415],
      ['{}', { 'content-type': 'text/plain' }, 415],
      ['', MERGE, 400],
    ];
    for (const [body, headers, code] of cases) {
      const res = await vf.call('PATCH', widgets('default', 'p-2'), body, headers);
      expect(res.status, `${JSON.stringify(body)} ${headers['content-type']}: ${res.text}`).toBe(code);
      expect(res.body?.kind, res.text).toBe('Status');
    }
    const after = await vf.call('GET', widgets('default', 'p-2'));
    expect(after.body).toEqual(before);
  });

  it('answers 415 for a strategic merge patch on a custom kind, as Kubernetes does', async () => {
    await create('p-3');
    const res = await vf.call('PATCH', widgets('default', 'p-3'), { spec: { size: 2 } }, { 'content-type': 'application/strategic-merge-patch+json' });
    expect(res.status).toBe(415);
    expect(res.body.reason).toBe('UnsupportedMediaType');
  });

  it('answers 404 when patching an object that does not exist', async () => {
    const res = await vf.call('PATCH', widgets('default', 'nope'), { spec: {} }, MERGE);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ reason: 'NotFound', details: { name: 'nope', group: TEST_GROUP, kind: 'widgets' } });
  });
});

describe('scale subresource', () => {
  it('reads and writes replicas through autoscaling/v1 Scale', async () => {
    await create('sc-1', { replicas: 2 });
    await vf.call('PATCH', `${widgets('default', 'sc-1')}/status`, { status: { replicas: 1, selector: 'app=sc' } }, MERGE);
    const scale = await vf.call('GET', `${widgets('default', 'sc-1')}/scale`);
    expect(scale.status).toBe(200);
    expect(scale.body).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: 'sc-1', namespace: 'default' },
      spec: { replicas: 2 },
      status: { replicas: 1, selector: 'app=sc' },
    });
    const put = await vf.call('PUT', `${widgets('default', 'sc-1')}/scale`, { ...scale.body, spec: { replicas: 5 } });
    expect(put.status).toBe(200);
    expect(put.body.spec.replicas).toBe(5);
    const patched = await vf.call('PATCH', `${widgets('default', 'sc-1')}/scale`, { spec: { replicas: 3 } }, MERGE);
    expect(patched.body.spec.replicas).toBe(3);
    const obj = await vf.call('GET', widgets('default', 'sc-1'));
    expect(obj.body.spec.replicas).toBe(3);
    expect(obj.body.metadata.generation).toBe(3);
    const stale = await vf.call('PUT', `${widgets('default', 'sc-1')}/scale`, { ...scale.body, spec: { replicas: 9 } });
    expect(stale.status).toBe(409);
    const negative = await vf.call('PATCH', `${widgets('default', 'sc-1')}/scale`, { spec: { replicas: -1 } }, MERGE);
    expect(negative.status).toBe(422);
    const dry = await vf.call('PATCH', `${widgets('default', 'sc-1')}/scale?dryRun=All`, { spec: { replicas: 8 } }, MERGE);
    expect(dry.body.spec.replicas).toBe(8);
    expect((await vf.call('GET', widgets('default', 'sc-1'))).body.spec.replicas).toBe(3);
    expect((await vf.call('GET', `${gadgets('g0')}/scale`)).status).toBe(404);
  });
});

describe('Table output and selectors', () => {
  it('answers as=Table with the printer columns for lists and single objects', async () => {
    await create('tb-1', { color: 'red', replicas: 4 }, { labels: { table: 'yes' } });
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
    const res = await vf.call('GET', `${widgets()}?labelSelector=table%3Dyes`, undefined, { accept });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/as=Table/);
    expect(res.body).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1' });
    expect(res.body.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(['Name', 'Color', 'Replicas', 'Phase']);
    expect(res.body.columnDefinitions[3].priority).toBe(1);
    expect(res.body.rows).toHaveLength(1);
    expect(res.body.rows[0].cells).toEqual(['tb-1', 'red', 4, null]);
    expect(res.body.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'tb-1' } });
    expect(res.body.metadata.resourceVersion).toMatch(/^\d+$/);
    const one = await vf.call('GET', `${widgets('default', 'tb-1')}?includeObject=Object`, undefined, { accept });
    expect(one.body.rows[0].object.spec.color).toBe('red');
    const none = await vf.call('GET', `${widgets()}?includeObject=None&labelSelector=table%3Dyes`, undefined, { accept });
    expect(none.body.rows[0].object).toBeUndefined();
    const unacceptable = await vf.call('GET', widgets(), undefined, { accept: 'application/vnd.kubernetes.protobuf' });
    expect(unacceptable.status).toBe(406);
  });

  it('filters by a selectableField and refuses an unknown field selector with 400', async () => {
    await create('sf-1', { color: 'purple' });
    await create('sf-2', { color: 'orange' });
    const res = await vf.call('GET', `${widgets()}?fieldSelector=spec.color%3Dpurple`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['sf-1']);
    const not = await vf.call('GET', `${widgets()}?fieldSelector=spec.color!%3Dpurple,metadata.name%3Dsf-2`);
    expect(not.body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['sf-2']);
    const bad = await vf.call('GET', `${widgets()}?fieldSelector=spec.size%3D1`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('spec.size');
  });

  it('filters by label selectors and refuses a malformed one with 400 naming the problem', async () => {
    await create('ls-1', {}, { labels: { tier: 'web', env: 'prod' } });
    await create('ls-2', {}, { labels: { tier: 'db', env: 'prod' } });
    await create('ls-3', {}, { labels: { tier: 'web' } });
    const names = async (selector: string) => {
      const res = await vf.call('GET', `${widgets()}?labelSelector=${encodeURIComponent(selector)}`);
      expect(res.status, selector).toBe(200);
      return res.body.items.map((i: { metadata: { name: string } }) => i.metadata.name).filter((n: string) => n.startsWith('ls-'));
    };
    expect(await names('tier=web')).toEqual(['ls-1', 'ls-3']);
    expect(await names('tier in (web,db),env')).toEqual(['ls-1', 'ls-2']);
    expect(await names('!env')).toEqual(['ls-3']);
    expect(await names('tier!=web,env=prod')).toEqual(['ls-2']);
    for (const bad of ['tier in web', 'a=b=c', '=x', 'tier in (web', 'bad key!=1']) {
      const res = await vf.call('GET', `${widgets()}?labelSelector=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.reason).toBe('BadRequest');
      expect(res.body.message.length).toBeGreaterThan(10);
    }
  });
});

// Server-side apply over HTTPS: ownership by manager, conflicts as Kubernetes reports them,
// force, list-map merging by x-kubernetes-list-map-keys, managedFields after update
// operations, the client-side to server-side apply upgrade, and dry runs of patches (what
// kubectl diff sends).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrd, TEST_GROUP, widget, widgetCrd, widgets } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

let vf: TestServer;
beforeAll(async () => {
  vf = await startTestServer();
  await installCrd(vf, widgetCrd());
});
afterAll(async () => {
  await vf?.stop();
});

const APPLY = { 'content-type': 'application/apply-patch+yaml' };
const MERGE = { 'content-type': 'application/merge-patch+json' };
const GV = `${TEST_GROUP}/v1`;

function apply(name: string, manager: string, body: unknown, extra = '', headers: Record<string, string> = {}) {
  return vf.call('PATCH', `${widgets('default', name)}?fieldManager=${manager}${extra}`, typeof body === 'string' ? body : JSON.stringify(body), {
    ...APPLY,
    ...headers,
  });
}

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  fieldsV1: Record<string, unknown>;
  subresource?: string;
  time: string;
  fieldsType: string;
}
const entry = (obj: { metadata: { managedFields?: Entry[] } }, manager: string, operation = 'Apply') =>
  obj.metadata.managedFields?.find((e) => e.manager === manager && e.operation === operation);

describe('server-side apply', () => {
  it('creates an object from an apply patch in YAML and records the Apply manager', async () => {
    const yaml = `apiVersion: ${GV}\nkind: Widget\nmetadata:\n  name: ssa-1\n  labels:\n    team: a\nspec:\n  color: red\n  size: 1\n`;
    const res = await apply('ssa-1', 'alice', yaml);
    expect(res.status, res.text).toBe(201);
    expect(res.body.spec).toEqual({ color: 'red', size: 1 });
    const alice = entry(res.body, 'alice')!;
    expect(alice).toMatchObject({ operation: 'Apply', apiVersion: GV, fieldsType: 'FieldsV1' });
    expect(alice.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:team': {} } },
      'f:spec': { 'f:color': {}, 'f:size': {} },
    });
    expect(res.body.metadata.managedFields).toHaveLength(1);
    // Applying the same configuration again changes nothing.
    const again = await apply('ssa-1', 'alice', yaml);
    expect(again.status).toBe(200);
    expect(again.body.metadata.resourceVersion).toBe(res.body.metadata.resourceVersion);
  });

  it('refuses an apply without a fieldManager, with a body that is not an object, or of the wrong kind', async () => {
    const none = await vf.call('PATCH', widgets('default', 'ssa-1'), JSON.stringify(widget('ssa-1')), APPLY);
    expect(none.status).toBe(400);
    expect(none.body.message).toContain('fieldManager');
    expect((await apply('ssa-1', 'alice', '- a\n- b\n')).status).toBe(400);
    expect((await apply('ssa-1', 'alice', 'spec: {color: red}\n')).status).toBe(400);
    expect((await apply('ssa-1', 'alice', { ...widget('ssa-1'), kind: 'Gadget' })).status).toBe(400);
    expect((await apply('ssa-1', 'alice', widget('other-name'))).status).toBe(400);
    expect((await apply('ssa-1', 'alice', 'a: [unclosed\n')).status).toBe(400);
    const cbor = await vf.call('PATCH', `${widgets('default', 'ssa-1')}?fieldManager=alice`, 'x', { 'content-type': 'application/apply-patch+cbor' });
    expect(cbor.status).toBe(415);
    const strict = await apply('ssa-1', 'alice', widget('ssa-1', { color: 'red', size: 1, bogus: 1 }));
    expect(strict.status).toBe(400);
    expect(strict.body.message).toContain('spec.bogus');
  });

  it('reports a conflict with the owning manager and field, as Kubernetes words it', async () => {
    const res = await apply('ssa-1', 'bob', widget('ssa-1', { color: 'blue' }));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Conflict',
      code: 409,
      message: 'Apply failed with 1 conflict: conflict with "alice": .spec.color',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.spec.color' }] },
    });
    const two = await apply('ssa-1', 'bob', widget('ssa-1', { color: 'blue', size: 2 }));
    expect(two.status).toBe(409);
    expect(two.body.message).toBe('Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.color\n- .spec.size');
    expect(two.body.details.causes.map((c: { field: string }) => c.field).sort()).toEqual(['.spec.color', '.spec.size']);
    expect((await vf.call('GET', widgets('default', 'ssa-1'))).body.spec.color).toBe('red');
  });

  it('shares a field applied with the same value, and lets force take a field over', async () => {
    const shared = await apply('ssa-1', 'carol', widget('ssa-1', { color: 'red' }));
    expect(shared.status).toBe(200);
    expect(entry(shared.body, 'carol')!.fieldsV1).toEqual({ 'f:spec': { 'f:color': {} } });
    expect(entry(shared.body, 'alice')!.fieldsV1).toMatchObject({ 'f:spec': { 'f:color': {} } });
    const forced = await apply('ssa-1', 'bob', widget('ssa-1', { color: 'blue' }), '&force=true');
    expect(forced.status).toBe(200);
    expect(forced.body.spec.color).toBe('blue');
    expect(entry(forced.body, 'bob')!.fieldsV1).toEqual({ 'f:spec': { 'f:color': {} } });
    expect(entry(forced.body, 'alice')!.fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { 'f:team': {} } }, 'f:spec': { 'f:size': {} } });
    expect(entry(forced.body, 'carol')).toBeUndefined();
  });

  it('removes a field its only owner stops applying, and keeps one another manager still owns', async () => {
    const res = await apply('ssa-1', 'alice', widget('ssa-1', { note: 'n' }, { labels: { team: 'a' } }));
    expect(res.status).toBe(200);
    expect(res.body.spec).toEqual({ color: 'blue', note: 'n' });
    const dropLabel = await apply('ssa-1', 'alice', widget('ssa-1', { note: 'n' }));
    expect(dropLabel.body.metadata.labels).toBeUndefined();
  });

  it('merges lists by x-kubernetes-list-map-keys, owning each entry separately', async () => {
    const a = await apply('ssa-ports', 'alice', widget('ssa-ports', { ports: [{ name: 'http', port: 80 }] }));
    expect(a.status).toBe(201);
    const b = await apply('ssa-ports', 'bob', widget('ssa-ports', { ports: [{ name: 'https', port: 443 }], tags: ['b'] }));
    expect(b.status).toBe(200);
    expect(b.body.spec.ports).toEqual([
      { name: 'http', port: 80, protocol: 'TCP' },
      { name: 'https', port: 443, protocol: 'TCP' },
    ]);
    expect(entry(b.body, 'bob')!.fieldsV1).toEqual({
      'f:spec': { 'f:ports': { 'k:{"name":"https"}': { '.': {}, 'f:name': {}, 'f:port': {} } }, 'f:tags': { 'v:"b"': {} } },
    });
    const c = await apply('ssa-ports', 'carol', widget('ssa-ports', { tags: ['c'] }));
    expect(c.body.spec.tags.sort()).toEqual(['b', 'c']);
    const conflict = await apply('ssa-ports', 'bob', widget('ssa-ports', { ports: [{ name: 'https', port: 443 }, { name: 'http', port: 8080 }] }));
    expect(conflict.status).toBe(409);
    expect(conflict.body.message).toBe('Apply failed with 1 conflict: conflict with "alice": .spec.ports[name="http"].port');
    const aliceDrops = await apply('ssa-ports', 'alice', widget('ssa-ports', {}));
    expect(aliceDrops.body.spec.ports).toEqual([{ name: 'https', port: 443, protocol: 'TCP' }]);
  });

  it('records Update managers for create, update and patch, from fieldManager or the user agent', async () => {
    const created = await vf.call('POST', `${widgets()}?fieldManager=creator`, widget('upd-1', { color: 'red', size: 1 }));
    expect(created.status).toBe(201);
    expect(entry(created.body, 'creator', 'Update')).toMatchObject({ apiVersion: GV, fieldsV1: { 'f:spec': { 'f:color': {}, 'f:size': {} } } });
    const patched = await vf.call('PATCH', widgets('default', 'upd-1'), { spec: { size: 2 } }, { ...MERGE, 'user-agent': 'kubectl-patch/v1.32.0 (linux/amd64) kubernetes/abcdef' });
    expect(patched.status).toBe(200);
    expect(entry(patched.body, 'kubectl-patch', 'Update')!.fieldsV1).toEqual({ 'f:spec': { 'f:size': {} } });
    const creator = entry(patched.body, 'creator', 'Update')!.fieldsV1 as { 'f:spec': Record<string, unknown> };
    expect(creator['f:spec']['f:color']).toEqual({});
    expect(creator['f:spec']['f:size']).toBeUndefined();
    const edited = await vf.call(
      'PUT',
      widgets('default', 'upd-1'),
      { ...patched.body, metadata: { ...patched.body.metadata, labels: { edited: 'yes' } } },
      { 'user-agent': 'kubectl-edit/v1.32.0 (linux/amd64) kubernetes/abcdef' },
    );
    expect(entry(edited.body, 'kubectl-edit', 'Update')!.fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { '.': {}, 'f:edited': {} } } });
    const status = await vf.call('PATCH', `${widgets('default', 'upd-1')}/status?fieldManager=ctrl`, { status: { phase: 'Ready' } }, MERGE);
    expect(entry(status.body, 'ctrl', 'Update')).toMatchObject({ subresource: 'status', fieldsV1: { 'f:status': { '.': {}, 'f:phase': {} } } });
    // An apply of a field an Update manager owns conflicts with it, naming its version.
    const conflict = await apply('upd-1', 'applier', widget('upd-1', { size: 5 }));
    expect(conflict.status).toBe(409);
    expect(conflict.body.message).toBe(`Apply failed with 1 conflict: conflict with "kubectl-patch" using ${GV}: .spec.size`);
    // Every entry carries a time and the FieldsV1 type.
    for (const e of edited.body.metadata.managedFields as Entry[]) {
      expect(e.fieldsType).toBe('FieldsV1');
      expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
  });

  it('applies to the status subresource and keeps that manager apart', async () => {
    await apply('ssa-status', 'alice', widget('ssa-status', { color: 'red' }));
    const res = await vf.call(
      'PATCH',
      `${widgets('default', 'ssa-status')}/status?fieldManager=ctrl`,
      JSON.stringify({ ...widget('ssa-status'), spec: undefined, status: { phase: 'Ready' } }),
      APPLY,
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body.status).toEqual({ phase: 'Ready' });
    expect(res.body.spec.color).toBe('red');
    expect(entry(res.body, 'ctrl')).toMatchObject({ subresource: 'status', fieldsV1: { 'f:status': { 'f:phase': {} } } });
    expect(entry(res.body, 'alice')).toBeDefined();
    const stored = await vf.call('GET', widgets('default', 'ssa-status'));
    expect(entry(stored.body, 'ctrl')).toBeDefined();
  });

  it('upgrades a client-side applied object to server-side apply by kubectl without conflicts', async () => {
    const config = widget('csa-1', { color: 'red', size: 1 });
    const lastApplied = JSON.stringify(config);
    const created = await vf.call(
      'POST',
      widgets(),
      { ...config, metadata: { ...config.metadata, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } } },
      { 'user-agent': 'kubectl-client-side-apply/v1.32.0 (linux/amd64) kubernetes/abcdef' },
    );
    expect(created.status).toBe(201);
    expect(entry(created.body, 'kubectl-client-side-apply', 'Update')).toBeDefined();
    // Another manager conflicts with the client-side applier.
    const other = await apply('csa-1', 'someone', widget('csa-1', { color: 'green' }));
    expect(other.status).toBe(409);
    expect(other.body.message).toContain(`conflict with "kubectl-client-side-apply" using ${GV}`);
    // kubectl apply --server-side takes over what client-side apply last applied.
    const upgraded = await apply('csa-1', 'kubectl', widget('csa-1', { color: 'green', size: 1 }));
    expect(upgraded.status, upgraded.text).toBe(200);
    expect(upgraded.body.spec).toEqual({ color: 'green', size: 1 });
    expect(entry(upgraded.body, 'kubectl')!.fieldsV1).toMatchObject({ 'f:spec': { 'f:color': {}, 'f:size': {} } });
    const annotation = JSON.parse(upgraded.body.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    expect(annotation.spec.color).toBe('green');
  });

  it('dry-runs apply and merge patches (kubectl diff), answering the would-be object and storing nothing', async () => {
    const before = await vf.call('GET', widgets('default', 'ssa-1'));
    const dryApply = await apply('ssa-1', 'kubectl', widget('ssa-1', { color: 'blue', note: 'changed' }), '&dryRun=All&force=true');
    expect(dryApply.status).toBe(200);
    expect(dryApply.body.spec.note).toBe('changed');
    expect(entry(dryApply.body, 'kubectl')).toBeDefined();
    const dryCreate = await apply('ssa-new', 'kubectl', widget('ssa-new', { color: 'red' }), '&dryRun=All');
    expect(dryCreate.status).toBe(201);
    expect(dryCreate.body.spec.color).toBe('red');
    expect((await vf.call('GET', widgets('default', 'ssa-new'))).status).toBe(404);
    const dryMerge = await vf.call('PATCH', `${widgets('default', 'ssa-1')}?dryRun=All`, { spec: { size: 42 } }, MERGE);
    expect(dryMerge.status).toBe(200);
    expect(dryMerge.body.spec.size).toBe(42);
    const dryConflict = await apply('ssa-1', 'mallory', widget('ssa-1', { color: 'black' }), '&dryRun=All');
    expect(dryConflict.status).toBe(409);
    const after = await vf.call('GET', widgets('default', 'ssa-1'));
    expect(after.body).toEqual(before.body);
  });
});

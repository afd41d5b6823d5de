// Discovery (legacy and aggregated), OpenAPI v2/v3, health, version, metrics, authentication,
// and CustomResourceDefinitions served and withdrawn without a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrd, TEST_GROUP, widget, widgetCrd, widgets } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

let vf: TestServer;
beforeAll(async () => {
  vf = await startTestServer();
  await installCrd(vf, widgetCrd());
});
afterAll(async () => {
  await vf?.stop();
});

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

describe('health, version and authentication', () => {
  it('answers /livez, /readyz, /healthz and /version without a token', async () => {
    for (const path of ['/livez', '/readyz', '/healthz']) {
      const res = await vf.call('GET', path, undefined, { authorization: '' });
      expect(res.status, path).toBe(200);
      expect(res.text).toBe('ok');
    }
    const version = await vf.call('GET', '/version', undefined, { authorization: '' });
    expect(version.status).toBe(200);
    expect(version.body).toMatchObject({ major: '1', gitVersion: expect.stringMatching(/^v1\.\d+\.\d+/) });
  });

  it('refuses every API path, /metrics and /openapi without a valid bearer token with a 401 Status', async () => {
    for (const path of ['/api', '/apis', '/api/v1/namespaces', '/openapi/v2', '/metrics', `/apis/${TEST_GROUP}/v1`]) {
      const none = await vf.call('GET', path, undefined, { authorization: '' });
      expect(none.status, path).toBe(401);
      expect(none.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 });
      const wrong = await vf.call('GET', path, undefined, { authorization: 'Bearer not-a-token' });
      expect(wrong.status, path).toBe(401);
      const basic = await vf.call('GET', path, undefined, { authorization: 'Basic YWRtaW46YWRtaW4=' });
      expect(basic.status, path).toBe(401);
    }
    const write = await vf.call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'x' } }, { authorization: '' });
    expect(write.status).toBe(401);
  });
});

describe('discovery', () => {
  it('serves the legacy core documents /api and /api/v1', async () => {
    const api = await vf.call('GET', '/api');
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const v1 = await vf.call('GET', '/api/v1');
    expect(v1.body).toMatchObject({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'v1' });
    const names = v1.body.resources.map((r: { name: string }) => r.name);
    expect(names).toEqual(expect.arrayContaining(['namespaces', 'namespaces/status', 'configmaps', 'secrets', 'events']));
    const cm = v1.body.resources.find((r: { name: string }) => r.name === 'configmaps');
    expect(cm).toMatchObject({ namespaced: true, kind: 'ConfigMap', shortNames: ['cm'], singularName: 'configmap' });
    expect(cm.verbs).toEqual(expect.arrayContaining(['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']));
    const ns = v1.body.resources.find((r: { name: string }) => r.name === 'namespaces');
    expect(ns.namespaced).toBe(false);
    expect(ns.verbs).not.toContain('deletecollection');
  });

  it('serves /apis, /apis/<group> and /apis/<group>/<version> with a CRD and its subresources', async () => {
    const apis = await vf.call('GET', '/apis');
    expect(apis.body.kind).toBe('APIGroupList');
    const groups = apis.body.groups.map((g: { name: string }) => g.name);
    expect(groups).toEqual(expect.arrayContaining(['coordination.k8s.io', 'apiextensions.k8s.io', TEST_GROUP, 'virtflow.io']));
    expect(groups).not.toContain('');
    const group = await vf.call('GET', `/apis/${TEST_GROUP}`);
    expect(group.body).toMatchObject({
      kind: 'APIGroup',
      name: TEST_GROUP,
      preferredVersion: { groupVersion: `${TEST_GROUP}/v1`, version: 'v1' },
    });
    const list = await vf.call('GET', `/apis/${TEST_GROUP}/v1`);
    expect(list.body.groupVersion).toBe(`${TEST_GROUP}/v1`);
    const byName = Object.fromEntries(list.body.resources.map((r: { name: string }) => [r.name, r]));
    expect(byName.widgets).toMatchObject({ kind: 'Widget', namespaced: true, shortNames: ['wd'], categories: ['testing'], singularName: 'widget' });
    expect(byName['widgets/status']).toMatchObject({ kind: 'Widget', verbs: ['get', 'patch', 'update'] });
    expect(byName['widgets/scale']).toMatchObject({ kind: 'Scale', group: 'autoscaling', version: 'v1' });
  });

  it('answers 404 Status for unknown groups and versions', async () => {
    for (const path of ['/apis/nope.example.com', '/apis/nope.example.com/v1', `/apis/${TEST_GROUP}/v9`, '/api/v2']) {
      const res = await vf.call('GET', path);
      expect(res.status, path).toBe(404);
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    }
  });

  it('serves the aggregated form kubectl asks for first, on /api and on /apis', async () => {
    for (const [path, core] of [['/api', true], ['/apis', false]] as const) {
      const res = await vf.call('GET', path, undefined, { accept: AGGREGATED });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json;g=apidiscovery\.k8s\.io;v=v2;as=APIGroupDiscoveryList/);
      expect(res.body).toMatchObject({ kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2' });
      const names = res.body.items.map((g: { metadata: { name: string } }) => g.metadata.name);
      if (core) expect(names).toEqual(['']);
      else expect(names).not.toContain('');
    }
    const apis = await vf.call('GET', '/apis', undefined, { accept: AGGREGATED });
    const test = apis.body.items.find((g: { metadata: { name: string } }) => g.metadata.name === TEST_GROUP);
    const resource = test.versions[0].resources.find((r: { resource: string }) => r.resource === 'widgets');
    expect(resource).toMatchObject({
      resource: 'widgets',
      responseKind: { group: TEST_GROUP, version: 'v1', kind: 'Widget' },
      scope: 'Namespaced',
      singularResource: 'widget',
      shortNames: ['wd'],
      categories: ['testing'],
    });
    expect(resource.subresources.map((s: { subresource: string }) => s.subresource).sort()).toEqual(['scale', 'status']);
    // v2beta1 only, as older kubectl asks.
    const beta = await vf.call('GET', '/apis', undefined, { accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList' });
    expect(beta.body.apiVersion).toBe('apidiscovery.k8s.io/v2beta1');
  });

  it('falls back to the legacy form when the client accepts only plain JSON', async () => {
    const res = await vf.call('GET', '/apis', undefined, { accept: 'application/json' });
    expect(res.body.kind).toBe('APIGroupList');
  });
});

describe('OpenAPI', () => {
  it('serves /openapi/v2 with the built-in kinds and the CRD schemas', async () => {
    const res = await vf.call('GET', '/openapi/v2');
    expect(res.status).toBe(200);
    expect(res.body.swagger).toBe('2.0');
    const widgetDef = res.body.definitions['io.virtflow.test.v1.Widget'];
    expect(widgetDef['x-kubernetes-group-version-kind']).toEqual([{ group: TEST_GROUP, kind: 'Widget', version: 'v1' }]);
    expect(widgetDef.properties.spec.properties.color.description).toBe('Paint color.');
    expect(res.body.definitions['io.k8s.api.core.v1.ConfigMap']).toBeDefined();
    expect(Object.keys(res.body.paths)).toContain(`/apis/${TEST_GROUP}/v1/namespaces/{namespace}/widgets/{name}`);
    // ETag caching.
    const etag = res.headers.etag as string;
    expect(etag).toBeTruthy();
    const again = await vf.call('GET', '/openapi/v2', undefined, { 'if-none-match': etag });
    expect(again.status).toBe(304);
  });

  it('serves the /openapi/v3 index and each group-version document it links to', async () => {
    const index = await vf.call('GET', '/openapi/v3');
    expect(index.status).toBe(200);
    const paths = index.body.paths as Record<string, { serverRelativeURL: string }>;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['api/v1', `apis/${TEST_GROUP}/v1`, 'apis/coordination.k8s.io/v1']));
    for (const [path, entry] of Object.entries(paths)) {
      expect(entry.serverRelativeURL).toMatch(new RegExp(`^/openapi/v3/${path.replace(/\./g, '\\.')}\\?hash=[0-9A-F]+$`));
      const doc = await vf.call('GET', entry.serverRelativeURL);
      expect(doc.status, path).toBe(200);
      expect(doc.body.openapi).toMatch(/^3\./);
    }
    const test = await vf.call('GET', paths[`apis/${TEST_GROUP}/v1`]!.serverRelativeURL);
    const schema = test.body.components.schemas['io.virtflow.test.v1.Widget'];
    expect(schema.properties.spec.properties.ports['x-kubernetes-list-map-keys']).toEqual(['name']);
    const missing = await vf.call('GET', '/openapi/v3/apis/nope.example.com/v1');
    expect(missing.status).toBe(404);
    expect(missing.body.kind).toBe('Status');
  });
});

describe('metrics', () => {
  it('exposes request counts and latency by verb, resource and code', async () => {
    await vf.call('GET', '/api/v1/namespaces/default/configmaps');
    await vf.call('GET', '/api/v1/namespaces/default/configmaps/does-not-exist');
    const res = await vf.call('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const lines = res.text.split('\n');
    const count = (pattern: RegExp) => lines.find((l) => l.startsWith('apiserver_request_total{') && pattern.test(l));
    expect(count(/verb="LIST".*resource="configmaps".*code="200"/)).toBeDefined();
    expect(count(/verb="GET".*resource="configmaps".*code="404"/)).toBeDefined();
    const latency = lines.find(
      (l) => l.startsWith('apiserver_request_duration_seconds_count{') && /verb="GET"/.test(l) && /resource="configmaps"/.test(l) && /code="404"/.test(l),
    );
    expect(latency).toBeDefined();
    expect(lines.some((l) => l.startsWith('apiserver_request_duration_seconds_bucket{'))).toBe(true);
  });
});

describe('CustomResourceDefinitions', () => {
  it('serves a CRD applied after start without a restart, and stops serving it and removes its objects once deleted', async () => {
    const crd = widgetCrd({ plural: 'sprockets', kind: 'Sprocket', group: 'later.virtflow.io' });
    const path = '/apis/later.virtflow.io/v1/namespaces/default/sprockets';
    expect((await vf.call('GET', path)).status).toBe(404);
    await installCrd(vf, crd);
    const stored = await vf.call('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
    expect(stored.body.status.conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Established', status: 'True' })]),
    );
    const discovery = await vf.call('GET', '/apis/later.virtflow.io/v1');
    expect(discovery.body.resources.map((r: { name: string }) => r.name)).toContain('sprockets');
    const openapi = await vf.call('GET', '/openapi/v3');
    expect(Object.keys(openapi.body.paths)).toContain('apis/later.virtflow.io/v1');
    for (const name of ['s1', 's2']) {
      const created = await vf.call('POST', path, { ...widget(name), apiVersion: 'later.virtflow.io/v1', kind: 'Sprocket' });
      expect(created.status).toBe(201);
    }
    const rowsBefore = await vf.db.query<{ n: number }>("SELECT count(*)::int AS n FROM objects WHERE resource = 'later.virtflow.io/sprockets'");
    expect(rowsBefore[0]!.n).toBe(2);

    const del = await vf.call('DELETE', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
    expect(del.status).toBe(200);
    await waitUntil(
      async () => (await vf.call('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`)).status === 404,
      'CRD gone',
    );
    expect((await vf.call('GET', path)).status).toBe(404);
    expect((await vf.call('GET', '/apis/later.virtflow.io/v1')).status).toBe(404);
    const apis = await vf.call('GET', '/apis');
    expect(apis.body.groups.map((g: { name: string }) => g.name)).not.toContain('later.virtflow.io');
    const openapiAfter = await vf.call('GET', '/openapi/v3');
    expect(Object.keys(openapiAfter.body.paths)).not.toContain('apis/later.virtflow.io/v1');
    const rowsAfter = await vf.db.query<{ n: number }>("SELECT count(*)::int AS n FROM objects WHERE resource = 'later.virtflow.io/sprockets'");
    expect(rowsAfter[0]!.n).toBe(0);

    // Created again, it starts empty.
    await installCrd(vf, crd);
    const list = await vf.call('GET', path);
    expect(list.body.items).toEqual([]);
  });

  it('refuses an invalid CRD with 422 and field causes', async () => {
    const bad = widgetCrd({ plural: 'bads', kind: 'Bad', group: 'bad.virtflow.io' });
    (bad.metadata as { name: string }).name = 'wrong-name';
    const res = await vf.call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', bad);
    expect(res.status).toBe(422);
    expect(res.body.reason).toBe('Invalid');
    expect(res.body.details.causes.length).toBeGreaterThan(0);
  });

  it('still serves the test kind', async () => {
    expect((await vf.call('GET', widgets())).status).toBe(200);
  });
});

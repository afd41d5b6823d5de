// The audit trail through the API (audit.virtflow.io/v1alpha1 AuditEvents) over real HTTPS on
// real PostgreSQL: what it records and shows, field and label selectors, pages with continue,
// Table output, read-only verbs, who may read which namespace's trail, hostile queries, the
// indexes a page uses on a large table, and kubectl against it.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerToken } from '../../src/api/auth.js';
import { auditPageSql } from '../../src/audit/query.js';
import { ReadAuditLog } from '../../src/store/read-audit.js';
import { fieldSelectorFromSet } from '../../src/machinery/fields.js';
import { parseLabelSelector } from '../../src/machinery/labels.js';
import { runKubectl } from '../support/kubectl.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

let vf: TestServer;
const AUDIT = '/apis/audit.virtflow.io/v1alpha1';
const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const SECRET_VALUE = 'the-secret-canary-value-7f3a';
const tokens = { alice: 'alice-token-0123456789abcdef', bob: 'bob-token-0123456789abcdef', carol: 'carol-token-0123456789abcdef' };
const as = (user: keyof typeof tokens) => ({ authorization: `Bearer ${tokens[user]}` });
let started: number;

/** Every read so far is in the table (reads are written in batches). */
const flushed = () => vf.server.readAudit.flush();

async function list(query = '', namespace?: string, user?: keyof typeof tokens) {
  const base = namespace ? `${AUDIT}/namespaces/${namespace}/auditevents` : `${AUDIT}/auditevents`;
  return vf.call('GET', `${base}${query ? `?${query}` : ''}`, undefined, user ? as(user) : {});
}

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

beforeAll(async () => {
  vf = await startTestServer();
  started = Math.floor(Date.now() / 1000);
  for (const name of ['team-a', 'team-b']) {
    expect((await vf.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })).status).toBe(201);
  }
  for (const [username, token] of Object.entries(tokens)) await registerToken(vf.db, token, { username, groups: ['system:authenticated'] });
  // alice administers tenant team-a; bob is an operator; carol has no role.
  const bindings: [string, unknown][] = [
    [`${RBAC}/namespaces/team-a/rolebindings`, { metadata: { name: 'alice-admin', namespace: 'team-a' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'virtflow:tenant-admin' }, subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }] }],
    [`${RBAC}/clusterrolebindings`, { metadata: { name: 'bob-operator' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'virtflow:operator' }, subjects: [{ kind: 'User', name: 'bob', apiGroup: 'rbac.authorization.k8s.io' }] }],
  ];
  for (const [at, body] of bindings) expect((await vf.call('POST', at, body)).status).toBe(201);
  await vf.store.syncCache();
  await waitUntil(async () => (await vf.call('GET', '/apis/virtflow.io/v1alpha1/namespaces/team-a/virtualmachines', undefined, as('alice'))).status === 200, 'alice may read team-a');
  // alice's traffic: reads in her namespace, a refused create in another one.
  expect((await vf.call('GET', '/apis/virtflow.io/v1alpha1/namespaces/team-a/virtualmachines/web-1', undefined, as('alice'))).status).toBe(404);
  const refused = await vf.call('POST', '/apis/virtflow.io/v1alpha1/namespaces/team-b/virtualmachines', { apiVersion: 'virtflow.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'sneaky' }, spec: {} }, as('alice'));
  expect(refused.status).toBe(403);
  // A Secret whose content must never reach the trail.
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-password', namespace: 'team-a' }, stringData: { password: SECRET_VALUE } };
  expect((await vf.call('POST', '/api/v1/namespaces/team-a/secrets', secret)).status).toBe(201);
  await flushed();
}, 60_000);

afterAll(async () => {
  await vf?.stop();
});

describe('AuditEvents', () => {
  it('are discoverable as a namespaced, read-only kind of audit.virtflow.io/v1alpha1', async () => {
    const res = await vf.call('GET', AUDIT);
    expect(res.status).toBe(200);
    const resource = res.body.resources.find((r: { name: string }) => r.name === 'auditevents');
    expect(resource).toMatchObject({ kind: 'AuditEvent', namespaced: true, verbs: ['get', 'list'] });
  });

  it('record who did what to which object, newest first, in the shape of an audit.k8s.io Event', async () => {
    const res = await list(q({ fieldSelector: 'user.username=alice' }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'AuditEventList', apiVersion: 'audit.virtflow.io/v1alpha1' });
    const items = res.body.items as any[];
    const times = items.map((e) => e.stageTimestamp as string);
    expect(times).toEqual([...times].sort().reverse());
    expect(items.every((e) => e.user.username === 'alice')).toBe(true);
    const get = items.find((e) => e.verb === 'get' && e.objectRef.name === 'web-1');
    expect(get).toMatchObject({
      kind: 'AuditEvent',
      metadata: { namespace: 'team-a' },
      level: 'Metadata',
      stage: 'ResponseComplete',
      objectRef: { apiGroup: 'virtflow.io', resource: 'virtualmachines', namespace: 'team-a', name: 'web-1' },
      responseStatus: { code: 404 },
    });
    expect(get.stageTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(get.metadata.creationTimestamp).toBe(`${get.stageTimestamp.slice(0, 19)}Z`);
    expect(Number(get.metadata.labels['audit.virtflow.io/time'])).toBeGreaterThanOrEqual(started - 1);
    const refused = items.find((e) => e.verb === 'create');
    // Refused before its body was read: kube-apiserver's audit names no object either.
    expect(refused).toMatchObject({ metadata: { namespace: 'team-b' }, objectRef: { resource: 'virtualmachines', namespace: 'team-b' }, responseStatus: { code: 403 } });
  });

  it('never hold a Secret\'s content, only that it was written', async () => {
    const all = await list();
    expect(all.status).toBe(200);
    expect(all.text).not.toContain(SECRET_VALUE);
    expect(all.text).not.toContain(Buffer.from(SECRET_VALUE).toString('base64'));
    const created = await list(q({ fieldSelector: 'objectRef.resource=secrets,verb=create' }), 'team-a');
    expect(created.body.items.map((e: any) => e.objectRef.name)).toEqual(['db-password']);
  });

  it('answer field selectors on user, verb, resource, namespace, name and code, with != too', async () => {
    const byName = await list(q({ fieldSelector: 'objectRef.name=web-1' }));
    expect(byName.body.items).toHaveLength(1);
    expect(byName.body.items[0].metadata.namespace).toBe('team-a');
    const denied = await list(q({ fieldSelector: 'responseStatus.code=403,user.username=alice,objectRef.resource=virtualmachines' }));
    expect(denied.body.items.map((e: any) => `${e.verb} ${e.objectRef.namespace}`)).toEqual(['create team-b']);
    const notAlice = await list(q({ fieldSelector: 'user.username!=alice,metadata.namespace=team-a' }));
    expect(notAlice.body.items.length).toBeGreaterThan(0);
    expect(notAlice.body.items.every((e: any) => e.user.username !== 'alice' && e.metadata.namespace === 'team-a')).toBe(true);
    const inTeamB = await list(q({ fieldSelector: 'objectRef.namespace=team-b' }));
    expect(inTeamB.body.items.every((e: any) => e.objectRef.namespace === 'team-b')).toBe(true);
    // A value no event can have selects nothing rather than failing.
    expect((await list(q({ fieldSelector: 'responseStatus.code=abc' }))).body.items).toEqual([]);
    expect((await list(q({ fieldSelector: 'metadata.name=-1' }))).body.items).toEqual([]);
  });

  it('select a time range and failures through their integer labels', async () => {
    const since = await list(q({ labelSelector: `audit.virtflow.io/time>${started - 2},audit.virtflow.io/time<${started + 3600}`, fieldSelector: 'user.username=alice' }));
    expect(since.body.items.length).toBeGreaterThanOrEqual(3);
    expect((await list(q({ labelSelector: `audit.virtflow.io/time>${started + 3600}` }))).body.items).toEqual([]);
    expect((await list(q({ labelSelector: 'audit.virtflow.io/time<1000' }))).body.items).toEqual([]);
    const failures = await list(q({ labelSelector: 'audit.virtflow.io/code>399', fieldSelector: 'user.username=alice' }));
    expect(failures.body.items.map((e: any) => e.responseStatus.code).sort()).toEqual([403, 404]);
    // Labels no event carries: absent, as for any object without them.
    expect((await list(q({ labelSelector: 'team=a' }))).body.items).toEqual([]);
    expect((await list(q({ labelSelector: '!team,user.username', fieldSelector: 'user.username=alice' }))).body.items).toEqual([]);
    expect((await list(q({ labelSelector: '!team', fieldSelector: 'user.username=alice' }))).body.items.length).toBeGreaterThan(0);
  });

  it('page with limit and continue, each page older than the last, until none is left', async () => {
    const whole = (await list(q({ fieldSelector: 'metadata.namespace=team-a' }))).body.items.map((e: any) => e.metadata.name);
    expect(whole.length).toBeGreaterThanOrEqual(4);
    const paged: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await list(q({ fieldSelector: 'metadata.namespace=team-a', limit: '2', ...(token ? { continue: token } : {}) }));
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      paged.push(...res.body.items.map((e: any) => e.metadata.name));
      token = res.body.metadata.continue;
      pages++;
    } while (token);
    // Reads of the trail are audited too, but in the cluster-wide list's namespace "": none here.
    expect(paged).toEqual(whole);
    expect(pages).toBe(Math.ceil(whole.length / 2));
  });

  it('get one event by name in its namespace, and nowhere else', async () => {
    const one = (await list(q({ fieldSelector: 'objectRef.name=db-password' }), 'team-a')).body.items[0];
    const got = await vf.call('GET', `${AUDIT}/namespaces/team-a/auditevents/${one.metadata.name}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(one);
    const elsewhere = await vf.call('GET', `${AUDIT}/namespaces/team-b/auditevents/${one.metadata.name}`);
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body).toMatchObject({ kind: 'Status', reason: 'NotFound', message: `auditevents.audit.virtflow.io "${one.metadata.name}" not found` });
    for (const name of ['abc', '0', '99999999999999999999999', '1e3']) {
      expect((await vf.call('GET', `${AUDIT}/namespaces/team-a/auditevents/${name}`)).status, name).toBe(404);
    }
  });

  it('print as a Table for kubectl', async () => {
    const res = await list(q({ fieldSelector: 'objectRef.name=web-1' }));
    const table = await vf.call('GET', `${AUDIT}/auditevents?fieldSelector=objectRef.name%3Dweb-1`, undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    expect(table.status).toBe(200);
    expect(table.body.kind).toBe('Table');
    expect(table.body.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Time', 'User', 'Verb', 'Resource', 'Object', 'Code', 'User-Agent']);
    const event = res.body.items[0];
    expect(table.body.rows[0].cells).toEqual([event.metadata.name, event.metadata.creationTimestamp, 'alice', 'get', 'virtualmachines.virtflow.io', 'web-1', 404, event.userAgent ?? null]);
  });

  it('refuse every write, even from system:masters, with 405 MethodNotAllowed', async () => {
    const one = (await list(q({ limit: '1' }), 'team-a')).body.items[0];
    const at = `${AUDIT}/namespaces/team-a/auditevents`;
    const attempts: [string, string, unknown][] = [
      ['POST', at, { apiVersion: 'audit.virtflow.io/v1alpha1', kind: 'AuditEvent', metadata: { name: '1' } }],
      ['PUT', `${at}/${one.metadata.name}`, one],
      ['PATCH', `${at}/${one.metadata.name}`, { verb: 'get' }],
      ['DELETE', `${at}/${one.metadata.name}`, undefined],
      ['DELETE', at, undefined],
      ['GET', `${at}?watch=true`, undefined],
    ];
    for (const [method, where, body] of attempts) {
      const res = await vf.call(method, where, body, method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {});
      expect(res.status, `${method} ${where}`).toBe(405);
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'MethodNotAllowed', code: 405 });
      expect(res.body.message).toContain(method === 'GET' ? 'cannot be watched' : 'read-only');
    }
    expect((await vf.call('GET', `${AUDIT}/namespaces/team-a/auditevents/${one.metadata.name}`)).body).toEqual(one);
  });

  it("let a tenant admin read their namespace's trail and nothing else; an operator reads all; others nothing", async () => {
    const own = await list('', 'team-a', 'alice');
    expect(own.status).toBe(200);
    expect(own.body.items.every((e: any) => e.metadata.namespace === 'team-a')).toBe(true);
    for (const [ns, user] of [['team-b', 'alice'], [undefined, 'alice'], ['team-a', 'carol'], [undefined, 'carol']] as const) {
      const res = await list('', ns, user);
      expect(res.status, `${user} in ${ns ?? 'all namespaces'}`).toBe(403);
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'Forbidden' });
      expect(res.body.message).toContain(`User "${user}" cannot list resource "auditevents" in API group "audit.virtflow.io"`);
    }
    const operator = await list(q({ limit: '5' }), undefined, 'bob');
    expect(operator.status).toBe(200);
    expect(operator.body.items).toHaveLength(5);
    // Neither may write it: RBAC refuses alice before the kind would.
    expect((await vf.call('DELETE', `${AUDIT}/namespaces/team-a/auditevents`, undefined, as('alice'))).status).toBe(403);
  });
});

describe('the read audit log', () => {
  it('stamps a read with when it was made, not when its batch was written', async () => {
    const log = new ReadAuditLog(vf.db.pool, () => new Date('2020-01-02T03:04:05.678Z'));
    log.record({ username: 'clock-test', verb: 'get', apiGroup: '', resource: 'configmaps', subresource: '', namespace: 'team-a', name: 'x', userAgent: '' }, 200);
    await log.flush();
    const res = await list(q({ fieldSelector: 'user.username=clock-test' }), 'team-a');
    expect(res.body.items.map((e: any) => e.stageTimestamp)).toEqual(['2020-01-02T03:04:05.678000Z']);
  });
});

describe('AuditEvents against hostile queries', () => {
  it('refuse an unknown field, a malformed selector, a bad limit or continue with a 400 that names it', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ fieldSelector: 'spec.foo=bar' }, 'field label not supported: spec.foo'],
      [{ fieldSelector: 'user.username' }, "invalid selector: 'user.username'"],
      [{ fieldSelector: 'verb=a\\b' }, 'invalid escape sequence'],
      [{ labelSelector: 'audit.virtflow.io/time>abc' }, 'must be an integer'],
      [{ labelSelector: '=x' }, ''],
      [{ limit: '-1' }, 'invalid value for query parameter "limit"'],
      [{ limit: 'many' }, 'invalid value for query parameter "limit"'],
      [{ continue: 'not-a-token' }, 'invalid continue token'],
      [{ continue: Buffer.from(JSON.stringify({ v: 'virtflow-audit/1', time: '2026-01-01T00:00:00.000000Z', id: '1 OR 1=1' })).toString('base64url') }, 'invalid continue token'],
      [{ continue: Buffer.from(JSON.stringify({ v: 'virtflow-audit/1', time: '2026-02-30T00:00:00.000000Z', id: '5' })).toString('base64url') }, 'invalid continue token'],
      [{ continue: Buffer.from(JSON.stringify({ v: 'virtflow-audit/1', time: '0000-01-01T00:00:00.000000Z', id: '5' })).toString('base64url') }, 'invalid continue token'],
      [{ continue: Buffer.from(JSON.stringify({ v: 'virtflow/1', rv: 1, start: 'x' })).toString('base64url') }, 'invalid continue token'],
    ];
    for (const [params, message] of cases) {
      const res = await list(q(params));
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
      expect(res.body.message).toContain(message);
    }
  });

  it('answer a huge limit with one bounded page and a continue token, and extreme values without a 5xx', async () => {
    // Enough events for more than one bounded page.
    await vf.db.query(
      `INSERT INTO audit_events (username, verb, api_group, resource, namespace, name, code)
       SELECT 'filler', 'get', '', 'configmaps', 'team-a', 'cm-' || n, 200 FROM generate_series(1, 600) AS n`,
    );
    const res = await list(q({ limit: '9223372036854775807', fieldSelector: 'user.username=filler' }));
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(500);
    expect(res.body.metadata.continue).toBeTruthy();
    const rest = await list(q({ continue: res.body.metadata.continue, fieldSelector: 'user.username=filler' }));
    expect(rest.body.items).toHaveLength(100);
    expect(rest.body.metadata.continue).toBeUndefined();
    const extremes: Record<string, string>[] = [
      { labelSelector: 'audit.virtflow.io/time>99999999999999999999999999' },
      { labelSelector: 'audit.virtflow.io/time<1' },
      { labelSelector: 'audit.virtflow.io/time in (1,99999999999999999999)' },
      { labelSelector: 'audit.virtflow.io/code>99999999999' },
      { fieldSelector: 'responseStatus.code=99999999999999' },
      { fieldSelector: 'metadata.name=99999999999999999999999' },
      { fieldSelector: 'user.username=a\u0000b' },
      { fieldSelector: "verb=' OR 1\\=1 --" },
    ];
    for (const params of extremes) {
      const answer = await list(q(params));
      expect(answer.status, JSON.stringify(params)).toBe(200);
      expect(answer.body.items, JSON.stringify(params)).toEqual([]);
    }
    expect((await list(q({ labelSelector: 'audit.virtflow.io/time<99999999999999999999999999', limit: '1' }))).body.items).toHaveLength(1);
  });

  it('read a page of a large trail through an index, never the whole table', async () => {
    await vf.db.query(
      `INSERT INTO audit_events (time, username, verb, api_group, resource, namespace, name, code)
       SELECT now() - n * interval '1 second', 'bulk-' || (n % 1000), 'get', 'virtflow.io', 'virtualmachines', 'bulk-' || (n % 200), 'vm-' || n, 200
       FROM generate_series(1, 200000) AS n`,
    );
    await vf.db.query('ANALYZE audit_events');
    const plans: Record<string, string> = {};
    const queries = {
      everything: auditPageSql({ limit: 500 }),
      namespace: auditPageSql({ namespace: 'bulk-7', limit: 500 }),
      user: auditPageSql({ fields: fieldSelectorFromSet({ 'user.username': 'bulk-42' }), before: { time: new Date(Date.now() - 3600_000).toISOString().replace('Z', '000Z'), id: 150000n }, limit: 500 }),
      range: auditPageSql({ labels: parseLabelSelector(`audit.virtflow.io/time>${started - 7200},audit.virtflow.io/time<${started - 3600}`), limit: 500 }),
    };
    for (const [what, { text, values }] of Object.entries(queries)) {
      const rows = await vf.db.pool.query(`EXPLAIN ${text}`, values);
      plans[what] = rows.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
      expect(plans[what], what).toMatch(/Index/);
      expect(plans[what], what).not.toMatch(/Seq Scan/);
    }
  }, 60_000);
});

describe('kubectl', () => {
  const kubectl = (args: string[]) =>
    runKubectl(args, { env: { ...process.env, KUBECONFIG: vf.kubeconfig, KUBECACHEDIR: path.join(vf.home, 'kube-cache') } as Record<string, string> });

  it('gets auditevents across namespaces, by field selector, in chunks, and cannot write them', async () => {
    const all = await kubectl(['get', 'auditevents', '-A', '--field-selector', 'user.username=alice']);
    expect(all.code, all.stderr).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+TIME\s+USER\s+VERB\s+RESOURCE\s+OBJECT\s+CODE$/);
    expect(lines.slice(1).every((l) => /\salice\s/.test(l))).toBe(true);
    expect(all.stdout).toMatch(/^team-a\s+\d+\s+\d{4}-\d\d-\d\dT[\d:]+Z\s+alice\s+get\s+virtualmachines\.virtflow\.io\s+web-1\s+404$/m);
    // kubectl follows continue tokens itself: small chunks list the same events (leaving out
    // the lists of the trail, which each of these adds to).
    const selector = 'user.username!=filler,objectRef.resource!=auditevents';
    const chunked = await kubectl(['get', 'auditevents', '-n', 'team-a', '--field-selector', selector, '--chunk-size=2', '-o', 'name']);
    const whole = await kubectl(['get', 'auditevents', '-n', 'team-a', '--field-selector', selector, '-o', 'name']);
    expect(chunked.code, chunked.stderr).toBe(0);
    expect(chunked.stdout).toBe(whole.stdout);
    expect(chunked.stdout.trim().split('\n').length).toBeGreaterThan(2);
    const wrong = await kubectl(['get', 'auditevents', '-A', '--field-selector', 'spec.foo=bar']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('field label not supported: spec.foo');
    const explained = await kubectl(['explain', 'auditevents.objectRef']);
    expect(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toContain('The namespace of the request');
    const write = await kubectl(['delete', 'auditevents', '--all', '-n', 'team-a']);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/MethodNotAllowed|not allowed|read-only/);
  }, 60_000);
});

// RBAC and ServiceAccount tokens through the real API over HTTPS: deny by default, the
// kube-apiserver wording of a denial, Roles and ClusterRoles bound in a namespace, resource
// names, subresources, non-resource URLs, the review kinds, revocation and escalation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceAccountTokens } from '../../src/auth/service-account-tokens.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

let vf: TestServer;
const RBAC = '/apis/rbac.authorization.k8s.io/v1';

beforeAll(async () => {
  vf = await startTestServer();
  for (const name of ['team-a', 'team-b']) {
    expect((await vf.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })).status).toBe(201);
  }
});
afterAll(async () => {
  await vf?.stop();
});

async function serviceAccountToken(namespace: string, name: string): Promise<string> {
  const created = await vf.call('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
  expect([201, 409]).toContain(created.status);
  await vf.store.syncCache();
  const res = await vf.call('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  expect(res.status).toBe(201);
  return res.body.status.token as string;
}

const as = (token: string) => ({ authorization: `Bearer ${token}` });

async function allowedEventually(token: string, method: string, path: string, body?: unknown): Promise<number> {
  let status = 0;
  await waitUntil(async () => {
    status = (await vf.call(method, path, body, as(token))).status;
    return status !== 403;
  }, `${method} ${path} allowed`);
  return status;
}

describe('ServiceAccount tokens', () => {
  it('issues a JWT with Kubernetes claims that authenticates as the ServiceAccount', async () => {
    const token = await serviceAccountToken('team-a', 'robot');
    const [, payload] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    expect(claims.sub).toBe('system:serviceaccount:team-a:robot');
    expect(claims.iss).toBe('https://kubernetes.default.svc.cluster.local');
    expect(claims.aud).toEqual(['https://kubernetes.default.svc.cluster.local']);
    expect(claims.exp - claims.iat).toBe(3600);
    const sa = await vf.call('GET', '/api/v1/namespaces/team-a/serviceaccounts/robot');
    expect(claims['kubernetes.io']).toEqual({ namespace: 'team-a', serviceaccount: { name: 'robot', uid: sa.body.metadata.uid } });

    const whoami = await vf.call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, as(token));
    expect(whoami.status).toBe(201);
    expect(whoami.body.status.userInfo).toEqual({
      username: 'system:serviceaccount:team-a:robot',
      uid: sa.body.metadata.uid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
    });
  });

  it('refuses a token shorter than ten minutes, naming the field', async () => {
    await serviceAccountToken('team-a', 'robot');
    const res = await vf.call('POST', '/api/v1/namespaces/team-a/serviceaccounts/robot/token', { spec: { expirationSeconds: 10 } });
    expect(res.status).toBe(422);
    expect(res.body.details.causes[0].field).toBe('spec.expirationSeconds');
  });

  it('ends every token of a ServiceAccount when it is deleted, even if one of the same name is made again', async () => {
    const token = await serviceAccountToken('team-a', 'short-lived');
    const review = () => vf.call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' }, as(token));
    expect((await review()).status).toBe(201);
    expect((await vf.call('DELETE', '/api/v1/namespaces/team-a/serviceaccounts/short-lived')).status).toBe(200);
    await waitUntil(async () => (await review()).status === 401, 'the token refused after its ServiceAccount is deleted');
    await vf.call('POST', '/api/v1/namespaces/team-a/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'short-lived' } });
    await vf.store.syncCache();
    expect((await review()).status).toBe(401);
  });

  it('refuses an expired token, with the signing key every replica shares', async () => {
    await serviceAccountToken('team-a', 'robot');
    let now = Date.now();
    // Another issuer over the same database: the same key, a clock the test moves.
    const tokens = await ServiceAccountTokens.open(vf.db, vf.store.cache, () => now);
    const sa = (await vf.call('GET', '/api/v1/namespaces/team-a/serviceaccounts/robot')).body;
    const issued = await tokens.issue({ namespace: 'team-a', name: 'robot', uid: sa.metadata.uid }, { expirationSeconds: 600 });
    expect((await vf.call('GET', '/apis', undefined, as(issued.token))).status).toBe(200);
    expect(await tokens.verify(issued.token)).toBeDefined();
    now += 601_000;
    expect(await tokens.verify(issued.token)).toBeUndefined();
    // The server's own clock: a token that expired an hour ago is refused.
    now = Date.now() - 3_600_000 - 601_000;
    const old = await tokens.issue({ namespace: 'team-a', name: 'robot', uid: sa.metadata.uid }, { expirationSeconds: 600 });
    expect((await vf.call('GET', '/apis', undefined, as(old.token))).status).toBe(401);
  });

  it('refuses a token whose signature does not match', async () => {
    const token = await serviceAccountToken('team-a', 'robot');
    const [h, p, sig] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'admin' })).toString('base64url')}.${sig}`;
    const res = await vf.call('GET', '/api/v1/namespaces', undefined, as(forged));
    expect(res.status).toBe(401);
  });
});

describe('RBAC authorization', () => {
  it('denies by default, worded as kube-apiserver words it', async () => {
    const token = await serviceAccountToken('team-a', 'nobody');
    const named = await vf.call('GET', '/api/v1/namespaces/team-a/configmaps/settings', undefined, as(token));
    expect(named.status).toBe(403);
    expect(named.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
      message: 'configmaps "settings" is forbidden: User "system:serviceaccount:team-a:nobody" cannot get resource "configmaps" in API group "" in the namespace "team-a"',
      details: { name: 'settings', kind: 'configmaps' },
    });
    const list = await vf.call('GET', '/apis/virtflow.io/v1alpha1/tenants', undefined, as(token));
    expect(list.body.message).toBe(
      'tenants.virtflow.io is forbidden: User "system:serviceaccount:team-a:nobody" cannot list resource "tenants" in API group "virtflow.io" at the cluster scope',
    );
    const status = await vf.call('PATCH', '/apis/virtflow.io/v1alpha1/namespaces/team-a/virtualmachines/x/status', {}, { ...as(token), 'content-type': 'application/merge-patch+json' });
    expect(status.body.message).toBe(
      'virtualmachines.virtflow.io "x" is forbidden: User "system:serviceaccount:team-a:nobody" cannot patch resource "virtualmachines/status" in API group "virtflow.io" in the namespace "team-a"',
    );
    const metrics = await vf.call('GET', '/metrics', undefined, as(token));
    expect(metrics.status).toBe(403);
    expect(metrics.body.message).toBe('forbidden: User "system:serviceaccount:team-a:nobody" cannot get path "/metrics"');
    // Discovery and the version are every authenticated user's, as in Kubernetes.
    expect((await vf.call('GET', '/apis', undefined, as(token))).status).toBe(200);
    expect((await vf.call('GET', '/version', undefined, as(token))).status).toBe(200);
  });

  it('records the refused write in the audit table under the real user', async () => {
    const token = await serviceAccountToken('team-a', 'nobody');
    const res = await vf.call('POST', '/api/v1/namespaces/team-a/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nope' } }, as(token));
    expect(res.status).toBe(403);
    const rows = await vf.db.query<{ username: string; code: number }>(
      "SELECT username, code FROM audit_events WHERE resource = 'configmaps' AND namespace = 'team-a' AND verb = 'create' AND code = 403",
    );
    expect(rows).toEqual([{ username: 'system:serviceaccount:team-a:nobody', code: 403 }]);
  });

  it('grants a Role through a RoleBinding in its namespace only, with resource names and subresources', async () => {
    const token = await serviceAccountToken('team-a', 'editor');
    for (const ns of ['team-a', 'team-b']) {
      await vf.call('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' } });
      await vf.call('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'two' } });
    }
    expect((await vf.call('POST', `${RBAC}/namespaces/team-a/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'one-reader' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'], resourceNames: ['one'] }],
    })).status).toBe(201);
    expect((await vf.call('POST', `${RBAC}/namespaces/team-a/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'editor-reads-one' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'one-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'editor', namespace: 'team-a' }],
    })).status).toBe(201);
    expect(await allowedEventually(token, 'GET', '/api/v1/namespaces/team-a/configmaps/one')).toBe(200);
    expect((await vf.call('GET', '/api/v1/namespaces/team-a/configmaps/two', undefined, as(token))).status).toBe(403);
    expect((await vf.call('GET', '/api/v1/namespaces/team-b/configmaps/one', undefined, as(token))).status).toBe(403);
    // A list is not one name; a list of exactly one name is (fieldSelector=metadata.name=one).
    expect((await vf.call('GET', '/api/v1/namespaces/team-a/configmaps', undefined, as(token))).status).toBe(403);
    const one = await vf.call('GET', '/api/v1/namespaces/team-a/configmaps?fieldSelector=metadata.name%3Done', undefined, as(token));
    expect(one.status).toBe(200);
    expect(one.body.items.map((i: any) => i.metadata.name)).toEqual(['one']);
  });

  it('scopes a ClusterRole bound by a RoleBinding to that namespace, and grants groups and wildcards', async () => {
    const token = await serviceAccountToken('team-b', 'viewer');
    expect((await vf.call('POST', `${RBAC}/clusterroles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'everything-read' },
      rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] }],
    })).status).toBe(201);
    expect((await vf.call('POST', `${RBAC}/namespaces/team-b/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'team-b-sas-read' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'everything-read' },
      subjects: [{ kind: 'Group', name: 'system:serviceaccounts:team-b', apiGroup: 'rbac.authorization.k8s.io' }],
    })).status).toBe(201);
    expect(await allowedEventually(token, 'GET', '/api/v1/namespaces/team-b/configmaps')).toBe(200);
    expect((await vf.call('GET', '/api/v1/namespaces/team-a/configmaps', undefined, as(token))).status).toBe(403);
    expect((await vf.call('GET', '/api/v1/configmaps', undefined, as(token))).status).toBe(403);
    expect((await vf.call('GET', '/api/v1/namespaces', undefined, as(token))).status).toBe(403);
    expect((await vf.call('DELETE', '/api/v1/namespaces/team-b/configmaps/one', undefined, as(token))).status).toBe(403);
    // "*" covers subresources too: resources "*" matches "configmaps/status"-like requests.
    expect((await vf.call('GET', '/api/v1/namespaces/team-b/serviceaccounts/viewer', undefined, as(token))).status).toBe(200);
  });

  it('answers SelfSubjectAccessReview and SelfSubjectRulesReview from the same rules', async () => {
    const token = await serviceAccountToken('team-a', 'editor');
    await allowedEventually(token, 'GET', '/api/v1/namespaces/team-a/configmaps/one');
    const ask = async (resourceAttributes: Record<string, string>) =>
      (await vf.call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } }, as(token))).body.status.allowed;
    expect(await ask({ namespace: 'team-a', verb: 'get', resource: 'configmaps', name: 'one' })).toBe(true);
    expect(await ask({ namespace: 'team-a', verb: 'get', resource: 'configmaps', name: 'two' })).toBe(false);
    expect(await ask({ namespace: 'team-a', verb: 'delete', resource: 'configmaps', name: 'one' })).toBe(false);
    const rules = await vf.call('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'team-a' } }, as(token));
    expect(rules.status).toBe(201);
    expect(rules.body.status.resourceRules).toContainEqual({ verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['one'] });
    expect(rules.body.status.resourceRules).toContainEqual({ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] });
  });

  it('refuses a binding that grants more than its author holds, and a changed roleRef', async () => {
    const adminToken = await serviceAccountToken('team-a', 'rbac-editor');
    expect((await vf.call('POST', `${RBAC}/namespaces/team-a/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'rbac-editor' },
      // Not "*": that would include the escalate and bind verbs.
      rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }],
    })).status).toBe(201);
    await vf.call('POST', `${RBAC}/namespaces/team-a/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'rbac-editor' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'rbac-editor' },
      subjects: [{ kind: 'ServiceAccount', name: 'rbac-editor', namespace: 'team-a' }],
    });
    await allowedEventually(adminToken, 'GET', `${RBAC}/namespaces/team-a/roles`);
    const grab = await vf.call('POST', `${RBAC}/namespaces/team-a/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'grab-admin' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'virtflow:platform-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'rbac-editor', namespace: 'team-a' }],
    }, as(adminToken));
    expect(grab.status).toBe(403);
    expect(grab.body.message).toContain('is attempting to grant RBAC permissions not currently held');
    const widen = await vf.call('POST', `${RBAC}/namespaces/team-a/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'secrets' },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
    }, as(adminToken));
    expect(widen.status).toBe(403);
    // What it holds, it may hand on.
    const same = await vf.call('POST', `${RBAC}/namespaces/team-a/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'rolebinding-reader' },
      rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['get'] }],
    }, as(adminToken));
    expect(same.status).toBe(201);
    const changed = await vf.call('PATCH', `${RBAC}/namespaces/team-a/rolebindings/rbac-editor`, { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'rolebinding-reader' } }, { 'content-type': 'application/merge-patch+json' });
    expect(changed.status).toBe(422);
  });

  it('validates RBAC objects against their schema', async () => {
    const res = await vf.call('POST', `${RBAC}/clusterrolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'broken' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Rol', name: 'x' },
    });
    expect(res.status).toBe(422);
    expect(res.body.details.causes[0].field).toBe('roleRef.kind');
  });
});

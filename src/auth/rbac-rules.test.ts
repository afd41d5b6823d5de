import { describe, expect, it } from 'vitest';
import { RbacIndex } from './rbac-index.js';
import { forbidden, ruleAllows, rulesCover, type Attributes, type PolicyRule } from './rbac-rules.js';

const user = { username: 'alice', groups: ['team', 'system:authenticated'] };

function req(fields: Partial<Attributes>): Attributes {
  return { user, verb: 'get', resourceRequest: true, apiGroup: '', resource: 'configmaps', subresource: '', namespace: 'ns', name: '', path: '', ...fields };
}

describe('ruleAllows', () => {
  const cases: { name: string; rule: PolicyRule; attrs: Partial<Attributes>; want: boolean }[] = [
    { name: 'a listed verb, group and resource allow', rule: { verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }, attrs: {}, want: true },
    { name: 'another verb is not allowed', rule: { verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }, attrs: { verb: 'delete' }, want: false },
    { name: '"*" verbs allow any verb, escalate and bind included', rule: { verbs: ['*'], apiGroups: [''], resources: ['configmaps'] }, attrs: { verb: 'bind' }, want: true },
    { name: 'another group is not allowed', rule: { verbs: ['get'], apiGroups: ['apps'], resources: ['configmaps'] }, attrs: {}, want: false },
    { name: 'a bare resource does not cover its subresources', rule: { verbs: ['patch'], apiGroups: ['virtflow.io'], resources: ['virtualmachines'] }, attrs: { verb: 'patch', apiGroup: 'virtflow.io', resource: 'virtualmachines', subresource: 'status' }, want: false },
    { name: '"plural/sub" covers that subresource', rule: { verbs: ['patch'], apiGroups: ['virtflow.io'], resources: ['virtualmachines/status'] }, attrs: { verb: 'patch', apiGroup: 'virtflow.io', resource: 'virtualmachines', subresource: 'status' }, want: true },
    { name: '"*/sub" covers that subresource of every resource', rule: { verbs: ['get'], apiGroups: ['*'], resources: ['*/status'] }, attrs: { apiGroup: 'x', resource: 'widgets', subresource: 'status' }, want: true },
    { name: '"*" resources cover subresources', rule: { verbs: ['get'], apiGroups: ['*'], resources: ['*'] }, attrs: { subresource: 'status' }, want: true },
    { name: 'resourceNames allow only those names', rule: { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['one'] }, attrs: { name: 'two' }, want: false },
    { name: 'resourceNames do not allow a request without a name', rule: { verbs: ['list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['one'] }, attrs: { verb: 'list' }, want: false },
    { name: 'a non-resource URL matches exactly', rule: { verbs: ['get'], nonResourceURLs: ['/metrics'] }, attrs: { resourceRequest: false, path: '/metrics' }, want: true },
    { name: 'a trailing "*" matches a prefix', rule: { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, attrs: { resourceRequest: false, path: '/apis/virtflow.io' }, want: true },
    { name: 'a resource rule never matches a non-resource request', rule: { verbs: ['get'], apiGroups: ['*'], resources: ['*'] }, attrs: { resourceRequest: false, path: '/metrics' }, want: false },
  ];
  for (const c of cases) {
    it(c.name, () => expect(ruleAllows(c.rule, req(c.attrs))).toBe(c.want));
  }
});

describe('RbacIndex', () => {
  const index = new RbacIndex();
  const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}) });
  index.set('rbac.authorization.k8s.io/clusterroles', { metadata: meta('reader'), rules: [{ verbs: ['get'], apiGroups: [''], resources: ['*'] }] } as never);
  index.set('rbac.authorization.k8s.io/roles', { metadata: meta('writer', 'a'), rules: [{ verbs: ['create'], apiGroups: [''], resources: ['configmaps'] }] } as never);
  index.set('rbac.authorization.k8s.io/rolebindings', { metadata: meta('team-reads', 'a'), roleRef: { kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'Group', name: 'team' }] } as never);
  index.set('rbac.authorization.k8s.io/rolebindings', { metadata: meta('alice-writes', 'a'), roleRef: { kind: 'Role', name: 'writer' }, subjects: [{ kind: 'User', name: 'alice' }] } as never);
  index.set('rbac.authorization.k8s.io/rolebindings', { metadata: meta('sa', 'b'), roleRef: { kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'bot' }] } as never);

  it('applies a ClusterRole bound by a RoleBinding only in that namespace', () => {
    expect(index.allows(req({ namespace: 'a' }))).toBe(true);
    expect(index.allows(req({ namespace: 'b' }))).toBe(false);
    expect(index.allows(req({ namespace: '' }))).toBe(false);
  });

  it('applies a Role of the binding namespace', () => {
    expect(index.allows(req({ namespace: 'a', verb: 'create' }))).toBe(true);
    expect(index.allows(req({ namespace: 'b', verb: 'create' }))).toBe(false);
  });

  it('defaults a ServiceAccount subject to the binding namespace', () => {
    expect(index.allows(req({ user: { username: 'system:serviceaccount:b:bot', groups: [] }, namespace: 'b' }))).toBe(true);
    expect(index.allows(req({ user: { username: 'system:serviceaccount:a:bot', groups: [] }, namespace: 'b' }))).toBe(false);
  });

  it('forgets a deleted binding', () => {
    index.remove('rbac.authorization.k8s.io/rolebindings', { metadata: meta('alice-writes', 'a') } as never);
    expect(index.allows(req({ namespace: 'a', verb: 'create' }))).toBe(false);
  });
});

describe('rulesCover', () => {
  it('covers what is held, and names each atom that is not', () => {
    const owned: PolicyRule[] = [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'] }];
    expect(rulesCover(owned, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['x'] }])).toEqual([]);
    expect(rulesCover(owned, [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['configmaps'] }])).toEqual([{ verbs: ['delete'], apiGroups: [''], resources: ['configmaps'] }]);
    // A wildcard is covered only by a wildcard.
    expect(rulesCover(owned, [{ verbs: ['*'], apiGroups: [''], resources: ['configmaps'] }])).toHaveLength(1);
  });
});

describe('forbidden', () => {
  it('words a cluster-scoped denial as kube-apiserver does', () => {
    expect(forbidden(req({ verb: 'list', apiGroup: 'virtflow.io', resource: 'tenants', namespace: '' })).message).toBe(
      'tenants.virtflow.io is forbidden: User "alice" cannot list resource "tenants" in API group "virtflow.io" at the cluster scope',
    );
  });
});

// The roles VirtFlow ships (docs/security.md, "Roles"), created at bootstrap on every start
// so that an upgrade brings them up to date. One definition each: bootstrap, the Tenant and
// ExternalController controllers, the tests and manifests/rbac.yaml all read them from here.
import type { KubeObject } from '../machinery/object.js';
import { RBAC_GROUP, AUTHENTICATED_GROUP, type PolicyRule, type Subject } from './rbac-rules.js';
import { STATUS_WRITERS_GROUP } from './external-controller-scope.js';

export const ROLES = {
  platformAdmin: 'virtflow:platform-admin',
  operator: 'virtflow:operator',
  tenantAdmin: 'virtflow:tenant-admin',
  tenantViewer: 'virtflow:tenant-viewer',
  externalController: 'virtflow:external-controller',
  controllers: 'virtflow:controllers',
  discovery: 'system:discovery',
  basicUser: 'system:basic-user',
} as const;

export const CONTROLLERS_NAMESPACE = 'virtflow-system';
export const CONTROLLERS_SERVICE_ACCOUNT = 'virtflow-controllers';
/** The Role of the controllers in their own namespace (same name as their ClusterRole). */
export const CONTROLLERS_NAMESPACE_ROLE = 'virtflow:controllers';

const V = 'virtflow.io';
/** Reading the audit trail (AuditEvents are read-only: no role can grant writing them). */
const READ_AUDIT: PolicyRule = { apiGroups: ['audit.virtflow.io'], resources: ['auditevents'], verbs: ['get', 'list'] };
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
/** What a tenant owns in its namespace. */
const TENANT_KINDS = ['virtualmachines', 'k8sclusters', 'k8snodepools'];

export const defaultClusterRoles: Record<string, PolicyRule[]> = {
  [ROLES.platformAdmin]: [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ],
  // Runs the estate: every VirtFlow kind, and reads what surrounds them; no RBAC, no
  // Secrets, no ServiceAccounts (so no tokens).
  [ROLES.operator]: [
    { apiGroups: [V], resources: ['*'], verbs: ['*'] },
    { apiGroups: [''], resources: ['namespaces', 'events'], verbs: READ },
    { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: READ },
    READ_AUDIT,
  ],
  // Bound in a tenant's namespace by the Tenant controller (spec.admins).
  [ROLES.tenantAdmin]: [
    { apiGroups: [V], resources: TENANT_KINDS, verbs: [...READ, ...WRITE] },
    { apiGroups: [V], resources: TENANT_KINDS.map((k) => `${k}/status`), verbs: ['get'] },
    { apiGroups: [V], resources: ['k8snodepools/scale'], verbs: ['get', 'update', 'patch'] },
    { apiGroups: [''], resources: ['events'], verbs: READ },
    // Bound in one namespace, so the trail of that namespace only.
    READ_AUDIT,
  ],
  // Bound in a tenant's namespace by the Tenant controller (spec.viewers).
  [ROLES.tenantViewer]: [
    { apiGroups: [V], resources: TENANT_KINDS, verbs: READ },
    { apiGroups: [V], resources: [...TENANT_KINDS.map((k) => `${k}/status`), 'k8snodepools/scale'], verbs: ['get'] },
    { apiGroups: [''], resources: ['events'], verbs: READ },
  ],
  // An external controller reads what is routed to it and reports status; admission keeps it
  // to the protocol's status fields (src/auth/external-controller-scope.ts).
  [ROLES.externalController]: [
    { apiGroups: [V], resources: ['virtualmachines', 'k8sclusters'], verbs: READ },
    { apiGroups: [V], resources: ['virtualmachines/status', 'k8sclusters/status'], verbs: ['get', 'update', 'patch'] },
  ],
  // VirtFlow's own controllers: what they read and write, no more.
  [ROLES.controllers]: [
    { apiGroups: [V], resources: ['*'], verbs: [...READ, 'update', 'patch'] },
    // A cluster's VMs and, when it is deleted, its pools.
    { apiGroups: [V], resources: ['virtualmachines', 'k8snodepools'], verbs: ['create', 'delete'] },
    { apiGroups: [V], resources: ['*/status'], verbs: ['get', 'update', 'patch'] },
    { apiGroups: [''], resources: ['namespaces'], verbs: [...READ, 'create', 'patch'] },
    { apiGroups: [''], resources: ['events'], verbs: [...READ, 'create', 'patch', 'update'] },
    // An ExternalController's credentialsSecret, an imported cluster's credentials, and the
    // kubeconfig Secret of each cluster VirtFlow builds.
    { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'update', 'patch'] },
    // Tenant access (RoleBindings in tenant namespaces, a ClusterRole and binding per tenant)
    // and ExternalController identities.
    { apiGroups: [RBAC_GROUP], resources: ['rolebindings', 'clusterroles', 'clusterrolebindings'], verbs: [...READ, 'create', 'update', 'patch', 'delete'] },
    { apiGroups: [RBAC_GROUP], resources: ['clusterroles'], verbs: ['bind'], resourceNames: [ROLES.tenantAdmin, ROLES.tenantViewer, ROLES.externalController] },
  ],
  // What every authenticated user may do, as in Kubernetes.
  [ROLES.discovery]: [
    {
      nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*', '/version', '/version/', '/healthz', '/livez', '/readyz'],
      verbs: ['get'],
    },
  ],
  [ROLES.basicUser]: [
    { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
    { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
  ],
};

/** The controllers' rights in their own namespace: leader election, ExternalController identities. */
export const controllersNamespaceRules: PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: [...READ, 'create', 'update', 'patch'] },
  { apiGroups: [''], resources: ['serviceaccounts'], verbs: [...READ, 'create', 'update', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
];

const controllersSubject: Subject = { kind: 'ServiceAccount', name: CONTROLLERS_SERVICE_ACCOUNT, namespace: CONTROLLERS_NAMESPACE };

export const defaultClusterRoleBindings: { name: string; role: string; subjects: Subject[] }[] = [
  { name: ROLES.discovery, role: ROLES.discovery, subjects: [{ kind: 'Group', name: AUTHENTICATED_GROUP, apiGroup: RBAC_GROUP }] },
  { name: ROLES.basicUser, role: ROLES.basicUser, subjects: [{ kind: 'Group', name: AUTHENTICATED_GROUP, apiGroup: RBAC_GROUP }] },
  { name: ROLES.controllers, role: ROLES.controllers, subjects: [controllersSubject] },
  // The shared status-writer token of `virtflow up` (for `agent simulate` and older setups).
  { name: 'virtflow:status-writers', role: ROLES.externalController, subjects: [{ kind: 'Group', name: STATUS_WRITERS_GROUP, apiGroup: RBAC_GROUP }] },
];

export function clusterRole(name: string, rules: PolicyRule[], labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRole',
    metadata: { name, labels: { 'app.kubernetes.io/part-of': 'virtflow', ...labels } },
    rules,
  };
}

export function binding(
  kind: 'RoleBinding' | 'ClusterRoleBinding',
  name: string,
  roleRef: { kind: 'Role' | 'ClusterRole'; name: string },
  subjects: Subject[],
  namespace?: string,
  extra: Partial<KubeObject['metadata']> = {},
): KubeObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind,
    metadata: { name, ...(namespace ? { namespace } : {}), ...extra, labels: { 'app.kubernetes.io/part-of': 'virtflow', ...(extra.labels ?? {}) } },
    roleRef: { apiGroup: RBAC_GROUP, ...roleRef },
    subjects: subjects.map((s) => ({ ...s, ...(s.kind === 'ServiceAccount' ? { apiGroup: '' } : { apiGroup: RBAC_GROUP }) })),
  };
}

/** Everything bootstrap ensures, in an order that lets each object be created. */
export function defaultRbacObjects(): { plural: string; object: KubeObject }[] {
  return [
    ...Object.entries(defaultClusterRoles).map(([name, rules]) => ({ plural: 'clusterroles', object: clusterRole(name, rules) })),
    ...defaultClusterRoleBindings.map((b) => ({
      plural: 'clusterrolebindings',
      object: binding('ClusterRoleBinding', b.name, { kind: 'ClusterRole', name: b.role }, b.subjects),
    })),
    {
      plural: 'roles',
      object: {
        apiVersion: `${RBAC_GROUP}/v1`,
        kind: 'Role',
        metadata: { name: CONTROLLERS_NAMESPACE_ROLE, namespace: CONTROLLERS_NAMESPACE, labels: { 'app.kubernetes.io/part-of': 'virtflow' } },
        rules: controllersNamespaceRules,
      },
    },
    {
      plural: 'rolebindings',
      object: binding('RoleBinding', CONTROLLERS_NAMESPACE_ROLE, { kind: 'Role', name: CONTROLLERS_NAMESPACE_ROLE }, [controllersSubject], CONTROLLERS_NAMESPACE),
    },
    {
      plural: 'serviceaccounts',
      object: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: CONTROLLERS_SERVICE_ACCOUNT, namespace: CONTROLLERS_NAMESPACE } },
    },
  ];
}

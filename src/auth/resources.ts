// The built-in kinds of authentication and authorization: the stored RBAC kinds and
// ServiceAccount (schema-validated like custom resources, so a typo in a rule is refused),
// and the review kinds, which are created and answered but never stored.
import { s } from '../crd/schema-builders.js';
import { builtin, type JSONSchemaProps, type PrinterColumn, type ResourceInfo } from '../machinery/resource.js';
import { RBAC_GROUP } from './rbac-rules.js';

const envelope = (): Record<string, JSONSchemaProps> => ({
  apiVersion: s.str('APIVersion defines the versioned schema of this representation of an object.'),
  kind: s.str('Kind is a string value representing the REST resource this object represents.'),
  metadata: { type: 'object' },
});

const stringList = (description: string): JSONSchemaProps => s.list(description, { type: 'string' });

const policyRule = s.obj(
  'PolicyRule holds information that describes a policy rule, but does not contain information about who the rule applies to or which namespace the rule applies to.',
  {
    verbs: stringList("Verbs is a list of Verbs that apply to ALL the ResourceKinds contained in this rule. '*' represents all verbs."),
    apiGroups: stringList('APIGroups is the name of the APIGroup that contains the resources. "" represents the core API group and "*" represents all API groups.'),
    resources: stringList("Resources is a list of resources this rule applies to. '*' represents all resources; 'plural/subresource' one subresource."),
    resourceNames: stringList('ResourceNames is an optional white list of names that the rule applies to. An empty set means that everything is allowed.'),
    nonResourceURLs: stringList('NonResourceURLs is a set of partial urls that a user should have access to. *s are allowed, but only as the full, final step in the path.'),
  },
  ['verbs'],
);

const subject = s.obj(
  'Subject contains a reference to the object or user identities a role binding applies to.',
  {
    kind: s.str('Kind of object being referenced. Values defined by this API group are "User", "Group", and "ServiceAccount".', { enum: ['User', 'Group', 'ServiceAccount'] }),
    apiGroup: s.str('APIGroup holds the API group of the referenced subject. Defaults to "" for ServiceAccount subjects and "rbac.authorization.k8s.io" for User and Group subjects.'),
    name: s.str('Name of the object being referenced.', { minLength: 1 }),
    namespace: s.str('Namespace of the referenced object. Required for a ServiceAccount subject of a ClusterRoleBinding.'),
  },
  ['kind', 'name'],
);

const roleRef = s.obj(
  'RoleRef contains information that points to the role being used. Immutable.',
  {
    apiGroup: s.str('APIGroup is the group for the resource being referenced.', { enum: [RBAC_GROUP] }),
    kind: s.str('Kind is the type of resource being referenced: Role or ClusterRole.', { enum: ['Role', 'ClusterRole'] }),
    name: s.str('Name is the name of resource being referenced.', { minLength: 1 }),
  },
  ['apiGroup', 'kind', 'name'],
);

const roleSchema = (what: string): JSONSchemaProps =>
  s.obj(what, { ...envelope(), rules: s.list('Rules holds all the PolicyRules for this role.', policyRule) });

const bindingSchema = (what: string): JSONSchemaProps =>
  s.obj(what, { ...envelope(), subjects: s.list('Subjects holds references to the objects the role applies to.', subject), roleRef }, ['roleRef']);

const age = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
/** "ClusterRole/name", as kube-apiserver prints a binding's role. */
const roleColumn: PrinterColumn = {
  name: 'Role',
  type: 'string',
  jsonPath: '.roleRef.name',
  description: 'The role bound.',
  cell: (obj) => {
    const ref = (obj as { roleRef?: { kind?: string; name?: string } }).roleRef;
    return ref ? `${ref.kind}/${ref.name}` : '';
  },
};

export const rbacResources: ResourceInfo[] = [
  builtin({
    group: RBAC_GROUP, version: 'v1', plural: 'roles', singular: 'role', kind: 'Role', namespaced: true, nameRule: 'pathSegment',
    schema: roleSchema('Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.'),
    printerColumns: [{ name: 'Created At', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
  }),
  builtin({
    group: RBAC_GROUP, version: 'v1', plural: 'clusterroles', singular: 'clusterrole', kind: 'ClusterRole', namespaced: false, nameRule: 'pathSegment',
    schema: roleSchema('ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.'),
    printerColumns: [{ name: 'Created At', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
  }),
  builtin({
    group: RBAC_GROUP, version: 'v1', plural: 'rolebindings', singular: 'rolebinding', kind: 'RoleBinding', namespaced: true, nameRule: 'pathSegment',
    schema: bindingSchema('RoleBinding references a role, but does not contain it. It adds who information via Subjects and namespace information by which namespace it exists in.'),
    printerColumns: [roleColumn, age],
  }),
  builtin({
    group: RBAC_GROUP, version: 'v1', plural: 'clusterrolebindings', singular: 'clusterrolebinding', kind: 'ClusterRoleBinding', namespaced: false, nameRule: 'pathSegment',
    schema: bindingSchema('ClusterRoleBinding references a ClusterRole, but not contain it. It can reference a ClusterRole in the global namespace, and adds who information via Subject.'),
    printerColumns: [roleColumn, age],
  }),
  builtin({
    group: '', version: 'v1', plural: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', namespaced: true,
    shortNames: ['sa'],
    schema: s.obj('ServiceAccount binds together a name, understood by users and by VirtFlow, and the tokens issued for it.', {
      ...envelope(),
      secrets: s.list('Not used by VirtFlow: tokens are requested with `kubectl create token`.', { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
      automountServiceAccountToken: s.bool('Kept for compatibility; VirtFlow mounts nothing.'),
    }),
    printerColumns: [age],
  }),
];

/** Kinds that are answered, never stored: POST one, get it back with its status filled in. */
const review = (group: string, plural: string, kind: string): ResourceInfo =>
  builtin({ group, version: 'v1', plural, singular: kind.toLowerCase(), kind, namespaced: false, verbs: ['create'] });

export const reviewResources: ResourceInfo[] = [
  review('authorization.k8s.io', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview'),
  review('authorization.k8s.io', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview'),
  review('authentication.k8s.io', 'selfsubjectreviews', 'SelfSubjectReview'),
];

export const authResources: ResourceInfo[] = [...rbacResources, ...reviewResources];

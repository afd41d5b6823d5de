import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import { count, flag, namespaceName, optionalText, statusOf, stringEnum, text } from './fields.js';

export const tenantPhases = ['Active', 'Suspended', 'Terminating'] as const;

/** Who may use the tenant: an RBAC subject, as a RoleBinding names it. */
export const TenantSubject = Type.Object(
  {
    kind: stringEnum(['User', 'Group', 'ServiceAccount'] as const, 'Kind of subject: User, Group or ServiceAccount.'),
    name: text('Name of the user, group or ServiceAccount.', { minLength: 1, maxLength: 253 }),
    namespace: Type.Optional(
      namespaceName('Namespace of a ServiceAccount; defaults to the tenant\'s namespace. Ignored for users and groups.'),
    ),
  },
  { description: 'A user, group or ServiceAccount given access to the tenant.' },
);

const accessList = (description: string) => Type.Optional(Type.Array(TenantSubject, { description, 'x-kubernetes-list-type': 'atomic' }));

export const TenantSpec = Type.Object(
  {
    displayName: optionalText('Display name (名稱) of the tenant.'),
    description: optionalText('Free-form description (描述) of the tenant.'),
    namespace: Type.Optional(
      namespaceName(
        'Namespace holding the tenant\'s VMs and clusters; defaults to the tenant\'s name. The tenant controller creates it.',
      ),
    ),
    suspended: Type.Optional(
      flag('A suspended tenant\'s creates and power-ons are refused; running VMs are left alone.', false),
    ),
    vmNameTemplate: optionalText(
      'Naming rule (自訂命名規則) for VMs created with generateName, e.g. {tenant}-{role}-{index}. Placeholders: {tenant}, {role}, {cluster}, {index}.',
      { maxLength: 200 },
    ),
    admins: accessList(
      'Subjects who manage the tenant\'s VMs, clusters and node pools (ClusterRole virtflow:tenant-admin in its namespace) and read its quotas.',
    ),
    viewers: accessList(
      'Subjects who read the tenant\'s VMs, clusters and node pools (ClusterRole virtflow:tenant-viewer in its namespace) and its quotas.',
    ),
    disruptionBudget: Type.Optional(
      Type.Object(
        {
          maxUnavailable: Type.Optional(
            Type.Integer({ description: 'How many of the tenant\'s VMs may be moved (drain) at the same time; 0 forbids moving any.', minimum: 0, default: 1 }),
          ),
        },
        { description: 'A PodDisruptionBudget-like guard on voluntary moves of the tenant\'s VMs (host drain).' },
      ),
    ),
  },
  { description: 'Desired state of the tenant (租戶).', default: {} },
);

export const TenantStatus = statusOf(
  {
    phase: Type.Optional(stringEnum(tenantPhases, 'Observed phase: Active, Suspended or Terminating.')),
    namespace: optionalText('Namespace the tenant\'s objects live in.'),
    virtualMachines: Type.Optional(count('Number of virtual machines the tenant owns.')),
    clusters: Type.Optional(count('Number of K8s clusters the tenant owns.')),
  },
  'Observed state of the tenant.',
);

export type TenantSpec = Static<typeof TenantSpec>;
export type TenantSubject = Static<typeof TenantSubject>;
export type TenantStatus = Static<typeof TenantStatus>;
export type Tenant = KindObject<TenantSpec, TenantStatus>;

/** A tenant's namespace: spec.namespace, or the tenant's own name when unset. */
export function tenantNamespace(tenant: Pick<Tenant, 'metadata' | 'spec'>): string {
  return tenant.spec?.namespace || tenant.metadata.name || '';
}

export const tenantKind = defineKind({
  kind: 'Tenant',
  plural: 'tenants',
  singular: 'tenant',
  shortNames: ['tn'],
  scope: 'Cluster',
  description:
    'A tenant (租戶): owns a namespace for its VMs and clusters, and quotas in bare-metal groups. Deletion waits until it owns nothing.',
  spec: TenantSpec,
  status: TenantStatus,
  printerColumns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Observed phase.' },
    { name: 'Namespace', type: 'string', jsonPath: '.status.namespace', description: 'Namespace of the tenant.' },
    { name: 'Suspended', type: 'boolean', jsonPath: '.spec.suspended', description: 'Is the tenant suspended.' },
    { name: 'VMs', type: 'integer', jsonPath: '.status.virtualMachines', description: 'Virtual machines owned.' },
    { name: 'Clusters', type: 'integer', jsonPath: '.status.clusters', description: 'K8s clusters owned.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});

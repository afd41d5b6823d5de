import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import { coresOrPercent, count, nameRef, quantityOrPercent, resourceAmounts, statusOf } from './fields.js';

export const TenantQuotaSpec = Type.Object(
  {
    tenant: nameRef('Tenant (租戶) the quota is for: a Tenant name.'),
    group: nameRef('Bare-metal group (實體機群組) the quota applies in: a BaremetalGroup name.'),
    limits: Type.Object(
      {
        cpu: coresOrPercent(
          'CPU quota (CPU配額): whole cores like 16, or a percent of the group\'s allocatable CPU like "40%".',
        ),
        memory: quantityOrPercent(
          'Memory quota (記憶體配額): a quantity like 256Gi, or a percent of the group\'s allocatable memory like "40%".',
        ),
        storage: quantityOrPercent(
          'Storage quota (儲存空間配額): a quantity like 4Ti, or a percent of the group\'s allocatable storage like "40%".',
        ),
      },
      { description: 'Upper bounds of what the tenant may place in the group.' },
    ),
    nearLimitPercent: Type.Optional(
      Type.Integer({
        description: 'Alert threshold (配額告警): the quota reports NearLimit, with a Warning Event, once usage reaches this percent of a limit.',
        minimum: 1,
        maximum: 100,
        default: 80,
      }),
    ),
  },
  { description: 'Desired state of the tenant quota (租戶配額) in one bare-metal group.' },
);

export const TenantQuotaStatus = statusOf(
  {
    limits: Type.Optional(resourceAmounts('The limits resolved to absolute amounts against the group\'s allocatable.')),
    used: Type.Optional(resourceAmounts('Resources reserved by the tenant\'s VMs in the group.')),
    remaining: Type.Optional(resourceAmounts('Limits minus used, never below zero.')),
    virtualMachines: Type.Optional(count('Number of the tenant\'s VMs placed in the group.')),
    summary: Type.Optional(
      Type.String({ description: 'One-line usage summary for kubectl get, e.g. "cpu 12/40, memory 48Gi/160Gi".' }),
    ),
  },
  'Observed use of the quota.',
);

export type TenantQuotaSpec = Static<typeof TenantQuotaSpec>;
export type TenantQuotaStatus = Static<typeof TenantQuotaStatus>;
export type TenantQuota = KindObject<TenantQuotaSpec, TenantQuotaStatus>;

export const tenantQuotaKind = defineKind({
  kind: 'TenantQuota',
  plural: 'tenantquotas',
  singular: 'tenantquota',
  shortNames: ['tq'],
  scope: 'Cluster',
  description:
    'A tenant quota (配額) in one bare-metal group (BaremetalGroupTenantQuota). A tenant with no quota in a group cannot place anything there.',
  spec: TenantQuotaSpec,
  status: TenantQuotaStatus,
  printerColumns: [
    { name: 'Tenant', type: 'string', jsonPath: '.spec.tenant', description: 'Tenant (租戶).' },
    { name: 'Group', type: 'string', jsonPath: '.spec.group', description: 'Bare-metal group.' },
    { name: 'CPU Used', type: 'integer', jsonPath: '.status.used.cpu', description: 'Cores in use.' },
    { name: 'CPU Limit', type: 'integer', jsonPath: '.status.limits.cpu', description: 'Resolved core limit.' },
    { name: 'Memory Used', type: 'string', jsonPath: '.status.used.memory', description: 'Memory in use.' },
    { name: 'Memory Limit', type: 'string', jsonPath: '.status.limits.memory', description: 'Resolved memory limit.' },
    { name: 'Storage Used', type: 'string', jsonPath: '.status.used.storage', priority: 1, description: 'Storage in use.' },
    { name: 'Storage Limit', type: 'string', jsonPath: '.status.limits.storage', priority: 1, description: 'Resolved storage limit.' },
    { name: 'Alert', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', description: 'QuotaNearLimit or QuotaExceeded when usage nears or passes a limit.' },
    { name: 'Summary', type: 'string', jsonPath: '.status.summary', priority: 1, description: 'Usage summary.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  selectableFields: ['.spec.tenant', '.spec.group'],
});

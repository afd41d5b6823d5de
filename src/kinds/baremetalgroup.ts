import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import { count, dnsLabel, nameSet, optionalText, resourceAmounts, statusOf, stringEnum } from './fields.js';

export const placementStrategies = ['Binpack', 'Spread'] as const;

function ratio(resource: string) {
  return Type.Optional(
    Type.Number({
      description: `Allocation ratio of ${resource}: allocatable = capacity x ratio (like a placement allocation ratio).`,
      minimum: 0.1,
      maximum: 100,
      default: 1,
    }),
  );
}

export const BaremetalGroupSpec = Type.Object(
  {
    description: optionalText('Free-form description (描述) of the group.'),
    region: Type.Optional(dnsLabel('Region (區域) the group\'s hosts are in, e.g. tw.')),
    purpose: optionalText('Purpose (部門用途) of the group, e.g. general, gpu, database.'),
    overcommit: Type.Optional(
      Type.Object(
        { cpu: ratio('CPU'), memory: ratio('memory'), storage: ratio('storage') },
        { description: 'Overcommit ratios applied to the capacity of the group\'s hosts.', default: {} },
      ),
    ),
    strategy: Type.Optional(
      stringEnum(
        placementStrategies,
        'How VMs are spread over the group\'s hosts: Binpack fills hosts first, Spread balances them.',
        'Binpack',
      ),
    ),
  },
  { description: 'Desired state of the bare-metal group (實體機群組). Hosts join by setting spec.group.' },
);

export const BaremetalGroupStatus = statusOf(
  {
    baremetals: Type.Optional(count('Number of bare-metal hosts (裸機) in the group.')),
    capacity: Type.Optional(resourceAmounts('Summed capacity (資源規格) of the group\'s usable hosts.')),
    allocatable: Type.Optional(resourceAmounts('Capacity x overcommit, rounded down: what can be placed.')),
    allocated: Type.Optional(resourceAmounts('Resources reserved by virtual machines placed in the group.')),
    tenants: Type.Optional(nameSet('Tenants (租戶) holding a quota (配額) in this group.', 'Tenant name.')),
  },
  'Observed state of the bare-metal group.',
);

export type BaremetalGroupSpec = Static<typeof BaremetalGroupSpec>;
export type BaremetalGroupStatus = Static<typeof BaremetalGroupStatus>;
export type BaremetalGroup = KindObject<BaremetalGroupSpec, BaremetalGroupStatus>;

export const baremetalGroupKind = defineKind({
  kind: 'BaremetalGroup',
  plural: 'baremetalgroups',
  singular: 'baremetalgroup',
  shortNames: ['bmg'],
  scope: 'Cluster',
  description:
    'A bare-metal group (實體機群組): hosts grouped by region or purpose; tenant quotas and VM placement are per group.',
  spec: BaremetalGroupSpec,
  status: BaremetalGroupStatus,
  printerColumns: [
    { name: 'Region', type: 'string', jsonPath: '.spec.region', description: 'Region (區域).' },
    { name: 'Purpose', type: 'string', jsonPath: '.spec.purpose', description: 'Purpose of the group.' },
    { name: 'Strategy', type: 'string', jsonPath: '.spec.strategy', description: 'Placement strategy.' },
    { name: 'Baremetals', type: 'integer', jsonPath: '.status.baremetals', description: 'Number of hosts.' },
    { name: 'CPU Allocated', type: 'integer', jsonPath: '.status.allocated.cpu', description: 'Cores reserved by VMs.' },
    { name: 'CPU Allocatable', type: 'integer', jsonPath: '.status.allocatable.cpu', description: 'Cores that can be placed (capacity x overcommit).' },
    { name: 'CPU Capacity', type: 'integer', jsonPath: '.status.capacity.cpu', priority: 1, description: 'Physical cores of the hosts.' },
    { name: 'Memory Allocatable', type: 'string', jsonPath: '.status.allocatable.memory', priority: 1, description: 'Memory that can be placed.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  selectableFields: ['.spec.region'],
});

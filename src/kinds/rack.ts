import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import { count, nameRef, nameSet, optionalText, statusOf, stringEnum } from './fields.js';

export const rackStates = ['Active', 'Maintenance', 'Retired'] as const;

export const RackSpec = Type.Object(
  {
    datacenter: nameRef('Data center (資料中心) the rack stands in: a Datacenter name.'),
    room: optionalText('Room (機房) inside the data center.'),
    heightUnits: Type.Optional(
      Type.Integer({ description: 'Height of the rack in rack units (U).', minimum: 1, maximum: 64, default: 42 }),
    ),
    bgpAsn: Type.Optional(
      Type.Integer({
        description: 'BGP AS number (BGP/AS 編號) of the rack\'s top-of-rack network.',
        format: 'int64',
        minimum: 1,
        maximum: 4294967295,
      }),
    ),
    allowedTenants: Type.Optional(
      nameSet('Tenants (租戶) allowed to place workloads in this rack (可用者); empty means all.', 'Tenant name.'),
    ),
    state: Type.Optional(
      stringEnum(rackStates, 'Operator\'s intent for the rack (狀態): Active, Maintenance or Retired.', 'Active'),
    ),
    description: optionalText('Free-form description (描述) of the rack.'),
  },
  { description: 'Desired state of the rack (機架).' },
);

export const RackStatus = statusOf(
  {
    usedUnits: Type.Optional(count('Rack units (U) occupied by bare-metal hosts.')),
    baremetals: Type.Optional(count('Number of bare-metal hosts (裸機) in the rack.')),
  },
  'Observed state of the rack.',
);

export type RackSpec = Static<typeof RackSpec>;
export type RackStatus = Static<typeof RackStatus>;
export type Rack = KindObject<RackSpec, RackStatus>;

export const rackKind = defineKind({
  kind: 'Rack',
  plural: 'racks',
  singular: 'rack',
  shortNames: ['rk'],
  scope: 'Cluster',
  description: 'A rack (機架/機櫃) in a data center room; bare-metal hosts occupy its units.',
  spec: RackSpec,
  status: RackStatus,
  printerColumns: [
    { name: 'Datacenter', type: 'string', jsonPath: '.spec.datacenter', description: 'Data center (資料中心).' },
    { name: 'Room', type: 'string', jsonPath: '.spec.room', description: 'Room (機房).' },
    { name: 'State', type: 'string', jsonPath: '.spec.state', description: 'Operator\'s intent.' },
    { name: 'Used Units', type: 'integer', jsonPath: '.status.usedUnits', description: 'Occupied rack units.' },
    { name: 'Height', type: 'integer', jsonPath: '.spec.heightUnits', description: 'Rack height in units.' },
    { name: 'Baremetals', type: 'integer', jsonPath: '.status.baremetals', description: 'Number of hosts.' },
    { name: 'ASN', type: 'integer', jsonPath: '.spec.bgpAsn', priority: 1, description: 'BGP AS number.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  selectableFields: ['.spec.datacenter', '.spec.state'],
});

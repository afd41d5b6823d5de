import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import { count, nameSet, optionalText, statusOf, stringEnum, stringSet } from './fields.js';

export const zoneStates = ['Active', 'Disabled'] as const;

const cidr = Type.String({
  description: 'An IPv4 or IPv6 network in CIDR notation, e.g. 10.20.0.0/16.',
  pattern: '^[0-9a-fA-F:.]+/[0-9]{1,3}$',
});

export const ZoneSpec = Type.Object(
  {
    racks: Type.Optional(nameSet('Racks (機架) grouped by this zone, across data centers and rooms.', 'Rack name.')),
    network: Type.Optional(
      Type.Object(
        {
          vlanId: Type.Optional(Type.Integer({ description: 'VLAN ID of the zone network.', minimum: 1, maximum: 4094 })),
          subnets: Type.Optional(stringSet('Subnets (網段) of the zone network.', cidr)),
        },
        { description: 'Network settings (網路設定) of the zone.' },
      ),
    ),
    allowedTenants: Type.Optional(
      nameSet('Tenants (租戶) allowed to use the zone (可用者); empty means all.', 'Tenant name.'),
    ),
    state: Type.Optional(stringEnum(zoneStates, 'Availability (可用狀態) of the zone: Active or Disabled.', 'Active')),
    description: optionalText('Free-form description (描述) of the zone.'),
  },
  { description: 'Desired state of the zone (層位).' },
);

export const ZoneStatus = statusOf(
  {
    racks: Type.Optional(count('Number of the listed racks that exist.')),
    baremetals: Type.Optional(count('Number of bare-metal hosts (裸機) in the zone\'s racks.')),
  },
  'Observed state of the zone.',
);

export type ZoneSpec = Static<typeof ZoneSpec>;
export type ZoneStatus = Static<typeof ZoneStatus>;
export type Zone = KindObject<ZoneSpec, ZoneStatus>;

export const zoneKind = defineKind({
  kind: 'Zone',
  plural: 'zones',
  singular: 'zone',
  shortNames: ['zn'],
  scope: 'Cluster',
  description: 'A zone (層位): a grouping of racks across data centers and rooms, with network settings.',
  spec: ZoneSpec,
  status: ZoneStatus,
  printerColumns: [
    { name: 'State', type: 'string', jsonPath: '.spec.state', description: 'Availability of the zone.' },
    { name: 'VLAN', type: 'integer', jsonPath: '.spec.network.vlanId', description: 'VLAN ID.' },
    { name: 'Racks', type: 'integer', jsonPath: '.status.racks', description: 'Number of racks.' },
    { name: 'Baremetals', type: 'integer', jsonPath: '.status.baremetals', description: 'Number of hosts.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});

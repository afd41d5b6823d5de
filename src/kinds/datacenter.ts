import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import { count, dnsLabel, optionalText, statusOf } from './fields.js';

export const DatacenterSpec = Type.Object(
  {
    region: dnsLabel('Region (區域) the data center belongs to, e.g. tw or jp.'),
    building: optionalText('Building (廠房) that houses the data center.'),
    phase: optionalText('Build phase (階段) of the site, e.g. P1 or P2.'),
    location: optionalText('Location (位置): street address or city of the site.'),
    description: optionalText('Free-form description (描述) of the data center.'),
  },
  { description: 'Desired state of the data center (資料中心).' },
);

export const DatacenterStatus = statusOf(
  {
    racks: Type.Optional(count('Number of racks (機架) in this data center.')),
    baremetals: Type.Optional(count('Number of bare-metal hosts (裸機) in this data center.')),
  },
  'Observed state of the data center.',
);

export type DatacenterSpec = Static<typeof DatacenterSpec>;
export type DatacenterStatus = Static<typeof DatacenterStatus>;
export type Datacenter = KindObject<DatacenterSpec, DatacenterStatus>;

export const datacenterKind = defineKind({
  kind: 'Datacenter',
  plural: 'datacenters',
  singular: 'datacenter',
  shortNames: ['dc'],
  scope: 'Cluster',
  description: 'A data center (資料中心): a site in a region that holds racks of bare-metal hosts.',
  spec: DatacenterSpec,
  status: DatacenterStatus,
  printerColumns: [
    { name: 'Region', type: 'string', jsonPath: '.spec.region', description: 'Region (區域).' },
    { name: 'Building', type: 'string', jsonPath: '.spec.building', description: 'Building (廠房).' },
    { name: 'Build Phase', type: 'string', jsonPath: '.spec.phase', description: 'Build phase (階段) of the site.' },
    { name: 'Racks', type: 'integer', jsonPath: '.status.racks', description: 'Number of racks.' },
    { name: 'Baremetals', type: 'integer', jsonPath: '.status.baremetals', description: 'Number of hosts.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  selectableFields: ['.spec.region'],
});

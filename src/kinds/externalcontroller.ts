import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import { dnsLabel, flag, secretReference, statusOf, stringEnum, stringSet, timestamp } from './fields.js';

export const externalServices = ['VirtualMachine', 'Baremetal', 'K8sCluster', 'IPAM', 'Network', 'Storage'] as const;

export const ExternalControllerSpec = Type.Object(
  {
    service: stringEnum(
      externalServices,
      'Which work the external controller does: VirtualMachine, Baremetal, K8sCluster, IPAM, Network or Storage.',
    ),
    regions: Type.Optional(stringSet('Regions (區域) it serves; empty means all.', dnsLabel('Region name.'))),
    endpoint: Type.String({ description: 'Base URL of the external controller, e.g. http://127.0.0.1:7480.', pattern: '^https?://.+' }),
    credentialsSecret: Type.Optional(secretReference('Secret holding the token VirtFlow presents to the endpoint.')),
    timeoutSeconds: Type.Optional(
      Type.Integer({ description: 'Timeout of one request to the endpoint, in seconds.', minimum: 1, maximum: 600, default: 30 }),
    ),
  },
  { description: 'Desired state of the external controller registration.' },
);

export const ExternalControllerStatus = statusOf(
  {
    reachable: Type.Optional(flag('Did the last probe of the endpoint succeed.')),
    lastProbeTime: Type.Optional(timestamp('When the endpoint was last probed.')),
  },
  'Observed state of the external controller.',
);

export type ExternalControllerSpec = Static<typeof ExternalControllerSpec>;
export type ExternalControllerStatus = Static<typeof ExternalControllerStatus>;
export type ExternalController = KindObject<ExternalControllerSpec, ExternalControllerStatus>;

export const externalControllerKind = defineKind({
  kind: 'ExternalController',
  plural: 'externalcontrollers',
  singular: 'externalcontroller',
  shortNames: ['xc'],
  scope: 'Cluster',
  description:
    'Registers an external controller (e.g. vm-service.tw): which service it performs in which regions, and how to reach it.',
  spec: ExternalControllerSpec,
  status: ExternalControllerStatus,
  printerColumns: [
    { name: 'Service', type: 'string', jsonPath: '.spec.service', description: 'Service performed.' },
    { name: 'Regions', type: 'string', jsonPath: '.spec.regions', description: 'Regions served; empty means all.' },
    { name: 'Endpoint', type: 'string', jsonPath: '.spec.endpoint', description: 'Base URL.' },
    { name: 'Reachable', type: 'boolean', jsonPath: '.status.reachable', description: 'Last probe result.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  selectableFields: ['.spec.service'],
});

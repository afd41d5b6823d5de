import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import { dnsLabel, flag, secretReference, statusOf, stringEnum, stringSet, timestamp } from './fields.js';

/** VirtFlow's own namespace: created at bootstrap, home of its Leases and of controllers' credentials. */
export const virtflowNamespace = 'virtflow-system';
/**
 * The label that lets a Secret outside virtflowNamespace serve as an ExternalController's
 * credentialsSecret: whoever can label the Secret agrees to its token being sent out.
 */
export const credentialsLabel = 'virtflow.io/external-controller-credentials';

export const externalServices = ['VirtualMachine', 'Baremetal', 'K8sCluster', 'IPAM', 'Network', 'Storage'] as const;

export const ExternalControllerSpec = Type.Object(
  {
    service: stringEnum(
      externalServices,
      'Which work the external controller does: VirtualMachine, Baremetal, K8sCluster, IPAM, Network or Storage.',
    ),
    regions: Type.Optional(stringSet('Regions (區域) it serves; empty means all.', dnsLabel('Region name.'))),
    endpoint: Type.String({
      description:
        'Base URL of the external controller, e.g. https://vm-service.tw:7480. Must be https unless allowInsecureHttp is true.',
      pattern: '^https?://.+',
    }),
    allowInsecureHttp: Type.Optional(
      flag(
        'Allow an http:// endpoint. Requests, the bearer token of credentialsSecret included, then travel unencrypted: set it only on purpose, for a controller on loopback or a network you trust.',
      ),
    ),
    caBundle: Type.Optional(
      Type.String({
        description:
          'Base64-encoded PEM bundle of the CA(s) that signed the endpoint\'s certificate (like a webhook\'s clientConfig.caBundle). Absent: the system roots.',
        format: 'byte',
      }),
    ),
    credentialsSecret: Type.Optional(
      secretReference(
        `Secret holding the token VirtFlow presents to the endpoint (its "token" key). It must be in namespace ${virtflowNamespace}, or carry the label ${credentialsLabel}="true".`,
      ),
    ),
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
    capabilities: Type.Optional(
      Type.Array(Type.String(), { description: 'Optional operations the endpoint said it supports at its last probe, e.g. migrate.' }),
    ),
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

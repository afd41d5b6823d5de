import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import { listMap, optionalText, statusOf, stringEnum } from './fields.js';
import { meshRoles } from './k8scluster.js';

export const meshTypes = ['cilium', 'istio', 'other'] as const;
export const meshStates = ['Active', 'Inactive'] as const;

export const ServiceMeshSpec = Type.Object(
  {
    type: stringEnum(meshTypes, 'Implementation (類型) of the mesh: cilium, istio or other.'),
    version: optionalText('Version of the mesh implementation.'),
    description: optionalText('Free-form description (描述) of the mesh.'),
    state: Type.Optional(stringEnum(meshStates, 'State (狀態) of the mesh: Active or Inactive.', 'Active')),
  },
  { description: 'Desired state of the service mesh (服務網格).' },
);

export const ServiceMeshStatus = statusOf(
  {
    clusters: Type.Optional(
      listMap(
        Type.Object(
          {
            name: Type.String({ description: 'Name of the K8sCluster.' }),
            namespace: Type.String({ description: 'Namespace of the K8sCluster.' }),
            role: Type.Optional(stringEnum(meshRoles, 'Role of the cluster in the mesh: primary or secondary.')),
          },
          { description: 'One cluster that joins the mesh.' },
        ),
        ['namespace', 'name'],
        'K8s clusters that join the mesh.',
      ),
    ),
  },
  'Observed state of the service mesh.',
);

export type ServiceMeshSpec = Static<typeof ServiceMeshSpec>;
export type ServiceMeshStatus = Static<typeof ServiceMeshStatus>;
export type ServiceMesh = KindObject<ServiceMeshSpec, ServiceMeshStatus>;

export const serviceMeshKind = defineKind({
  kind: 'ServiceMesh',
  plural: 'servicemeshes',
  singular: 'servicemesh',
  shortNames: ['mesh'],
  scope: 'Cluster',
  description: 'A service mesh (服務網格) that K8s clusters join as primary or secondary.',
  spec: ServiceMeshSpec,
  status: ServiceMeshStatus,
  printerColumns: [
    { name: 'Type', type: 'string', jsonPath: '.spec.type', description: 'Implementation.' },
    { name: 'Version', type: 'string', jsonPath: '.spec.version', description: 'Version.' },
    { name: 'State', type: 'string', jsonPath: '.spec.state', description: 'State.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});

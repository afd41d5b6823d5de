// The ResourceType of each VirtFlow kind, from its one definition.
import { allKinds } from '../../kinds/index.js';
import { resourceOfKind, type ResourceType } from '../../runtime/resource.js';

function of(kind: string): ResourceType {
  const def = allKinds.find((k) => k.kind === kind);
  if (!def) throw new Error(`unknown kind ${kind}`);
  return resourceOfKind(def as unknown as Parameters<typeof resourceOfKind>[0]);
}

export const Kinds = {
  Datacenter: of('Datacenter'),
  Rack: of('Rack'),
  Zone: of('Zone'),
  BaremetalGroup: of('BaremetalGroup'),
  Baremetal: of('Baremetal'),
  Tenant: of('Tenant'),
  TenantQuota: of('TenantQuota'),
  VirtualMachineSpecification: of('VirtualMachineSpecification'),
  VirtualMachineImage: of('VirtualMachineImage'),
  VirtualMachine: of('VirtualMachine'),
  K8sCluster: of('K8sCluster'),
  K8sNodePool: of('K8sNodePool'),
  ServiceMesh: of('ServiceMesh'),
  Maintainer: of('Maintainer'),
  MaintainerGroup: of('MaintainerGroup'),
  MaintainerAssignment: of('MaintainerAssignment'),
  ExternalController: of('ExternalController'),
};

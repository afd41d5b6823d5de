import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import { cores, count, optionalText, quantity, statusOf } from './fields.js';

export const VirtualMachineSpecificationSpec = Type.Object(
  {
    cpu: cores('Whole CPU cores of a VM of this flavor. Immutable while any VM uses it.', { minimum: 1 }),
    memory: quantity('Memory (記憶體) of a VM of this flavor, e.g. 8Gi. Immutable while any VM uses it.'),
    storage: quantity('Storage (儲存空間) of a VM of this flavor, e.g. 100Gi. Immutable while any VM uses it.'),
    gpu: Type.Optional(
      Type.Integer({ description: 'GPUs of a VM of this flavor. Immutable while any VM uses it.', minimum: 0, default: 0 }),
    ),
    generation: optionalText(
      'Generation (世代) or version of the flavor, e.g. g2; publish a new generation instead of resizing one in use.',
      { maxLength: 63 },
    ),
    description: optionalText('Free-form description (描述) of the flavor.'),
  },
  { description: 'Desired state of the VM specification (虛擬機規格, flavor).' },
);

export const VirtualMachineSpecificationStatus = statusOf(
  { virtualMachines: Type.Optional(count('Number of virtual machines using this specification.')) },
  'Observed use of the specification.',
);

export type VirtualMachineSpecificationSpec = Static<typeof VirtualMachineSpecificationSpec>;
export type VirtualMachineSpecificationStatus = Static<typeof VirtualMachineSpecificationStatus>;
export type VirtualMachineSpecification = KindObject<
  VirtualMachineSpecificationSpec,
  VirtualMachineSpecificationStatus
>;

export const virtualMachineSpecificationKind = defineKind({
  kind: 'VirtualMachineSpecification',
  plural: 'virtualmachinespecifications',
  singular: 'virtualmachinespecification',
  shortNames: ['vmspec'],
  scope: 'Cluster',
  description:
    'A VM specification (規格, flavor): predefined CPU, memory and storage of a VM, marked with a generation.',
  spec: VirtualMachineSpecificationSpec,
  status: VirtualMachineSpecificationStatus,
  printerColumns: [
    { name: 'CPU', type: 'integer', jsonPath: '.spec.cpu', description: 'Cores.' },
    { name: 'Memory', type: 'string', jsonPath: '.spec.memory', description: 'Memory.' },
    { name: 'Storage', type: 'string', jsonPath: '.spec.storage', description: 'Storage.' },
    { name: 'GPU', type: 'integer', jsonPath: '.spec.gpu', description: 'GPUs.' },
    { name: 'Generation', type: 'string', jsonPath: '.spec.generation', description: 'Generation (世代).' },
    { name: 'VMs', type: 'integer', jsonPath: '.status.virtualMachines', description: 'VMs using it.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  selectableFields: ['.spec.generation'],
});

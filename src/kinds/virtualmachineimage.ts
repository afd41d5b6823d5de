import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import { flag, optionalText, quantity, statusOf, stringEnum } from './fields.js';

export const imageFormats = ['qcow2', 'raw', 'iso'] as const;
export const imagePhases = ['Pending', 'Ready', 'Failed'] as const;

export const VirtualMachineImageSpec = Type.Object(
  {
    os: Type.Object(
      {
        family: Type.String({ description: 'Operating system family, e.g. ubuntu, rocky, windows.', minLength: 1 }),
        version: optionalText('Operating system version, e.g. 24.04.'),
      },
      { description: 'Operating system installed in the image.' },
    ),
    source: Type.Object(
      {
        url: Type.String({ description: 'Where the image file is downloaded from (http, https or s3 URL).', pattern: '^(https?|s3)://.+' }),
        checksum: optionalText('Expected checksum of the file, e.g. sha256:<64 hex digits>.', {
          pattern: '^sha256:[a-f0-9]{64}$',
        }),
      },
      { description: 'Source of the image file.' },
    ),
    format: Type.Optional(stringEnum(imageFormats, 'Disk format of the image file: qcow2, raw or iso.', 'qcow2')),
    minStorage: Type.Optional(quantity('Smallest root disk the image boots from, e.g. 20Gi.')),
    deprecated: Type.Optional(flag('A deprecated image is kept for existing VMs; new VMs should not use it.', false)),
    description: optionalText('Free-form description (描述) of the image.'),
  },
  { description: 'Desired state of the VM image (母版, golden image).' },
);

export const VirtualMachineImageStatus = statusOf(
  { phase: Type.Optional(stringEnum(imagePhases, 'Observed phase of the image: Pending, Ready or Failed.')) },
  'Observed state of the image.',
);

export type VirtualMachineImageSpec = Static<typeof VirtualMachineImageSpec>;
export type VirtualMachineImageStatus = Static<typeof VirtualMachineImageStatus>;
export type VirtualMachineImage = KindObject<VirtualMachineImageSpec, VirtualMachineImageStatus>;

export const virtualMachineImageKind = defineKind({
  kind: 'VirtualMachineImage',
  plural: 'virtualmachineimages',
  singular: 'virtualmachineimage',
  shortNames: ['vmimage'],
  scope: 'Cluster',
  description: 'A VM image (母版): the golden image a virtual machine boots from.',
  spec: VirtualMachineImageSpec,
  status: VirtualMachineImageStatus,
  printerColumns: [
    { name: 'OS', type: 'string', jsonPath: '.spec.os.family', description: 'Operating system family.' },
    { name: 'Version', type: 'string', jsonPath: '.spec.os.version', description: 'Operating system version.' },
    { name: 'Format', type: 'string', jsonPath: '.spec.format', description: 'Disk format.' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Observed phase.' },
    { name: 'Deprecated', type: 'boolean', jsonPath: '.spec.deprecated', description: 'Is the image deprecated.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});

import { Type, type Static } from '@sinclair/typebox';
import { apiVersion, defineKind, type KindObject } from './define.js';
import { nameRef, nameSet, namespaceName, statusOf, stringEnum } from './fields.js';

export const assignmentRoles = ['Owner', 'Operator', 'OnCall'] as const;

export const MaintainerAssignmentSpec = Type.Object(
  {
    resource: Type.Object(
      {
        apiVersion: Type.Optional(
          Type.String({ description: 'API version of the maintained object.', default: apiVersion }),
        ),
        kind: Type.String({ description: 'Kind of the maintained object, e.g. VirtualMachine.', pattern: '^[A-Z][A-Za-z0-9]*$' }),
        namespace: Type.Optional(namespaceName('Namespace of the maintained object; empty for cluster-scoped kinds.')),
        name: nameRef('Name of the maintained object.'),
      },
      { description: 'The object (資源) being maintained; any kind.' },
    ),
    maintainers: Type.Optional(nameSet('Maintainers (維護者) of the object: Maintainer names.', 'Maintainer name.')),
    groups: Type.Optional(nameSet('Maintainer groups (維護者群組) of the object: MaintainerGroup names.', 'MaintainerGroup name.')),
    role: Type.Optional(
      stringEnum(assignmentRoles, 'What the maintainers do for the object: Owner, Operator or OnCall.', 'Owner'),
    ),
  },
  { description: 'Desired state of the assignment of maintainers to one object (ResourceMaintainer).' },
);

export const MaintainerAssignmentStatus = statusOf(
  {
    maintainers: Type.Optional(
      nameSet('Every maintainer of the object: those listed plus the members of the listed groups.', 'Maintainer name.'),
    ),
  },
  'Observed state of the assignment.',
);

export type MaintainerAssignmentSpec = Static<typeof MaintainerAssignmentSpec>;
export type MaintainerAssignmentStatus = Static<typeof MaintainerAssignmentStatus>;
export type MaintainerAssignment = KindObject<MaintainerAssignmentSpec, MaintainerAssignmentStatus>;

export const maintainerAssignmentKind = defineKind({
  kind: 'MaintainerAssignment',
  plural: 'maintainerassignments',
  singular: 'maintainerassignment',
  shortNames: ['mta'],
  scope: 'Cluster',
  description:
    'Assigns maintainers and maintainer groups to any object (ResourceMaintainer). Find an object\'s maintainers with --field-selector spec.resource.kind=...,spec.resource.name=...',
  spec: MaintainerAssignmentSpec,
  status: MaintainerAssignmentStatus,
  printerColumns: [
    { name: 'Kind', type: 'string', jsonPath: '.spec.resource.kind', description: 'Kind of the object.' },
    { name: 'Namespace', type: 'string', jsonPath: '.spec.resource.namespace', description: 'Namespace of the object.' },
    { name: 'Resource', type: 'string', jsonPath: '.spec.resource.name', description: 'Name of the object.' },
    { name: 'Role', type: 'string', jsonPath: '.spec.role', description: 'Role of the maintainers.' },
    { name: 'Maintainers', type: 'string', jsonPath: '.status.maintainers', description: 'Every maintainer: those listed and the members of the listed groups.' },
    { name: 'Groups', type: 'string', jsonPath: '.spec.groups', priority: 1, description: 'Maintainer groups listed.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  selectableFields: ['.spec.resource.kind', '.spec.resource.name', '.spec.resource.namespace'],
});

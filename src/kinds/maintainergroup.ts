import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import { count, nameRef, nameSet, optionalText, statusOf, stringEnum } from './fields.js';
import { maintainerStates } from './maintainer.js';

export const MaintainerGroupSpec = Type.Object(
  {
    displayName: optionalText('Display name (群組名稱) of the group.'),
    manager: nameRef('Group manager (群組管理員): a Maintainer name.'),
    members: Type.Optional(nameSet('Members of the group: Maintainer names.', 'Maintainer name.')),
    description: optionalText('Free-form description (描述) of the group.'),
    state: Type.Optional(stringEnum(maintainerStates, 'State (狀態) of the group: Active or Inactive.', 'Active')),
  },
  { description: 'Desired state of the maintainer group (維護者群組).' },
);

export const MaintainerGroupStatus = statusOf(
  {
    members: Type.Optional(count('Number of members that exist, the manager included.')),
    assignments: Type.Optional(count('Number of assignments naming this group.')),
  },
  'Observed state of the maintainer group.',
);

export type MaintainerGroupSpec = Static<typeof MaintainerGroupSpec>;
export type MaintainerGroupStatus = Static<typeof MaintainerGroupStatus>;
export type MaintainerGroup = KindObject<MaintainerGroupSpec, MaintainerGroupStatus>;

export const maintainerGroupKind = defineKind({
  kind: 'MaintainerGroup',
  plural: 'maintainergroups',
  singular: 'maintainergroup',
  shortNames: ['mtg'],
  scope: 'Cluster',
  description: 'A maintainer group (維護者群組): a team of maintainers with a manager.',
  spec: MaintainerGroupSpec,
  status: MaintainerGroupStatus,
  printerColumns: [
    { name: 'Manager', type: 'string', jsonPath: '.spec.manager', description: 'Group manager.' },
    { name: 'Members', type: 'integer', jsonPath: '.status.members', description: 'Number of members.' },
    { name: 'State', type: 'string', jsonPath: '.spec.state', description: 'State.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  selectableFields: ['.spec.manager'],
});

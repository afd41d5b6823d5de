import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import { count, nameSet, optionalText, statusOf, stringEnum } from './fields.js';

export const maintainerStates = ['Active', 'Inactive'] as const;

/** status.maintains lists at most this many objects. */
export const MAINTAINS_SHOWN = 100;

export const MaintainerSpec = Type.Object(
  {
    displayName: optionalText('Display name (名稱) of the maintainer: a person or a team.'),
    account: Type.String({
      description: 'Account (帳號) of the maintainer, unique across maintainers, e.g. a directory login.',
      pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]*$',
      maxLength: 128,
    }),
    email: optionalText('Email address (電子郵件) of the maintainer.', { format: 'email' }),
    state: Type.Optional(stringEnum(maintainerStates, 'State (狀態) of the maintainer: Active or Inactive.', 'Active')),
  },
  { description: 'Desired state of the maintainer (維護者).' },
);

export const MaintainerStatus = statusOf(
  {
    groups: Type.Optional(nameSet('Maintainer groups (維護者群組) that list this maintainer.', 'MaintainerGroup name.')),
    assignments: Type.Optional(count('Number of assignments naming this maintainer directly or through a group.')),
    maintains: Type.Optional(
      Type.Array(
        Type.Object(
          {
            kind: Type.String({ description: 'Kind of the maintained object.' }),
            namespace: optionalText('Namespace of the maintained object; empty for cluster-scoped kinds.'),
            name: Type.String({ description: 'Name of the maintained object.' }),
            role: optionalText('Role in the assignment: Owner, Operator or OnCall.'),
            via: optionalText('The maintainer group the maintainer has it through; empty when assigned directly.'),
          },
          { description: 'One object the maintainer looks after.' },
        ),
        { description: `What the maintainer looks after (查詢責任歸屬), directly and through its groups, sorted; at most ${MAINTAINS_SHOWN} entries (assignments counts them all).` },
      ),
    ),
  },
  'Observed state of the maintainer.',
);

export type MaintainerSpec = Static<typeof MaintainerSpec>;
export type MaintainerStatus = Static<typeof MaintainerStatus>;
export type Maintainer = KindObject<MaintainerSpec, MaintainerStatus>;

export const maintainerKind = defineKind({
  kind: 'Maintainer',
  plural: 'maintainers',
  singular: 'maintainer',
  shortNames: ['mt'],
  scope: 'Cluster',
  description: 'A maintainer (維護者): a person or team responsible for resources.',
  spec: MaintainerSpec,
  status: MaintainerStatus,
  printerColumns: [
    { name: 'Account', type: 'string', jsonPath: '.spec.account', description: 'Account (帳號).' },
    { name: 'Display Name', type: 'string', jsonPath: '.spec.displayName', description: 'Display name.' },
    { name: 'State', type: 'string', jsonPath: '.spec.state', description: 'State.' },
    { name: 'Email', type: 'string', jsonPath: '.spec.email', priority: 1, description: 'Email.' },
    { name: 'Assignments', type: 'integer', jsonPath: '.status.assignments', description: 'Objects maintained, directly or through a group.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  selectableFields: ['.spec.account'],
});

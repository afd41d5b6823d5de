import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import {
  cores,
  count,
  maintainersField,
  nameRef,
  optionalText,
  quantity,
  resourceAmounts,
  secretReference,
  statusOf,
  stringEnum,
  timestamp,
} from './fields.js';

export const baremetalStates = ['Available', 'Maintenance', 'Offline', 'Retired'] as const;
export const baremetalPhases = ['Ready', 'Maintenance', 'Offline', 'Error', 'Unknown'] as const;
export const drainPhases = ['Draining', 'Drained', 'Blocked'] as const;

/** Labels the controller sets from the resolved location, for selectors and spreading. */
export const topologyLabels = {
  region: 'topology.virtflow.io/region',
  datacenter: 'topology.virtflow.io/datacenter',
  rack: 'topology.virtflow.io/rack',
} as const;

export const BaremetalSpec = Type.Object(
  {
    serialNumber: Type.String({
      description: 'Serial number (序號) of the host; unique across all hosts.',
      minLength: 1,
      maxLength: 128,
    }),
    rack: nameRef('Rack (機架) the host is mounted in: a Rack name.'),
    unit: Type.Optional(
      Type.Integer({ description: 'Rack unit (單位位置): the lowest unit the host occupies, counted from 1.', minimum: 1 }),
    ),
    heightUnits: Type.Optional(
      Type.Integer({ description: 'Height of the host in rack units (U).', minimum: 1, maximum: 16, default: 1 }),
    ),
    group: Type.Optional(nameRef('Bare-metal group (實體機群組) the host belongs to: a BaremetalGroup name.')),
    capacity: Type.Object(
      {
        cpu: cores('Physical CPU cores of the host.', { minimum: 1 }),
        memory: quantity('Memory (記憶體) of the host, e.g. 512Gi.'),
        storage: quantity('Local storage (儲存空間) of the host, e.g. 8Ti.'),
        gpu: Type.Optional(Type.Integer({ description: 'Number of GPUs in the host.', minimum: 0, default: 0 })),
      },
      { description: 'Capacity (資源規格) of the host before overcommit.' },
    ),
    state: Type.Optional(
      stringEnum(
        baremetalStates,
        'Operator\'s intent for the host (狀態): Available takes new VMs; Maintenance, Offline and Retired do not.',
        'Available',
      ),
    ),
    bmc: Type.Optional(
      Type.Object(
        {
          address: optionalText('Address of the baseboard management controller (BMC), e.g. https://10.0.0.5.'),
          credentialsSecret: Type.Optional(secretReference('Secret holding the BMC username and password.')),
        },
        { description: 'Out-of-band management of the host.' },
      ),
    ),
    description: optionalText('Free-form description (描述) of the host.'),
    drain: Type.Optional(
      Type.Object(
        {
          maxUnavailable: Type.Optional(
            Type.Integer({ description: 'How many of the host\'s VMs are moved at the same time while it is in Maintenance.', minimum: 1, default: 1 }),
          ),
        },
        { description: 'How a host in Maintenance is drained: its VMs are moved to other hosts (docs/operations.md).' },
      ),
    ),
  },
  { description: 'Desired state of the bare-metal host (裸機).' },
);

export const BaremetalStatus = statusOf(
  {
    phase: Type.Optional(
      stringEnum(baremetalPhases, 'Observed phase of the host: Ready, Maintenance, Offline, Error or Unknown.'),
    ),
    location: Type.Optional(
      Type.Object(
        {
          region: optionalText('Region (區域), from the data center.'),
          building: optionalText('Building (廠房), from the data center.'),
          phase: optionalText('Build phase (階段) of the site, from the data center.'),
          datacenter: optionalText('Data center (資料中心), from the rack.'),
          room: optionalText('Room (機房), from the rack.'),
          rack: optionalText('Rack (機架) the host is mounted in.'),
          unit: Type.Optional(Type.Integer({ description: 'Rack unit (單位位置) the host occupies.', minimum: 1 })),
        },
        { description: 'Location resolved from the rack and its data center; also set as topology.virtflow.io labels.' },
      ),
    ),
    allocated: Type.Optional(resourceAmounts('Resources reserved by virtual machines placed on the host.')),
    free: Type.Optional(resourceAmounts('What can still be placed: capacity x the group\'s overcommit (allocatable), minus what is allocated.')),
    physicalFree: Type.Optional(
      resourceAmounts('Hardware not yet promised: capacity minus what is allocated, never below zero. Below free when the group overcommits.'),
    ),
    virtualMachines: Type.Optional(count('Number of virtual machines placed on the host.')),
    maintainers: maintainersField(),
    drain: Type.Optional(
      Type.Object(
        {
          phase: Type.Optional(
            stringEnum(drainPhases, 'Draining (VMs are being moved or waited for), Drained (no VM on the host or on its way to it) or Blocked (VMs are left that cannot be moved now).'),
          ),
          startedAt: Type.Optional(timestamp('When the host went into Maintenance and the drain began.')),
          moving: Type.Optional(count('VMs being moved off the host now.')),
          moved: Type.Optional(count('VMs moved off the host since the drain began.')),
          remaining: Type.Optional(count('VMs still on the host (moving, waiting or blocked, Terminating ones included) and VMs on their way to it; 0 only when Drained.')),
          blocked: Type.Optional(count('VMs that cannot be moved now (listed in leftovers).')),
          message: optionalText('Summary of what is left and why, reasons counted.'),
          leftovers: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  namespace: Type.String({ description: 'Namespace of the VM.' }),
                  name: Type.String({ description: 'Name of the VM.' }),
                  reason: Type.String({ description: 'Why it is not moved now, CamelCase. Blocked until something changes: EvictionForbidden, PinnedToHost, DataDiskRetained, DisruptionBudget, Unschedulable. Waiting, passes by itself: NotProvisioned, WaitingForBudget, Terminating, MovingIn, BeingPlaced.' }),
                  message: optionalText('Detail, e.g. the scheduler\'s diagnosis.'),
                },
                { description: 'A VM that stays on the host for now.' },
              ),
              { description: 'VMs left on the host that are not moving now, with the reason (at most 50 listed; the message counts all).' },
            ),
          ),
        },
        { description: 'Progress of the drain of a host in Maintenance (docs/operations.md).' },
      ),
    ),
  },
  'Observed state of the bare-metal host.',
);

export type BaremetalSpec = Static<typeof BaremetalSpec>;
export type BaremetalStatus = Static<typeof BaremetalStatus>;
export type Baremetal = KindObject<BaremetalSpec, BaremetalStatus>;

export const baremetalKind = defineKind({
  kind: 'Baremetal',
  plural: 'baremetals',
  singular: 'baremetal',
  shortNames: ['bm'],
  scope: 'Cluster',
  description: 'A bare-metal host (裸機, 實體機) that runs virtual machines.',
  spec: BaremetalSpec,
  status: BaremetalStatus,
  printerColumns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Observed phase.' },
    { name: 'Rack', type: 'string', jsonPath: '.spec.rack', description: 'Rack (機架).' },
    { name: 'Free CPU', type: 'integer', jsonPath: '.status.free.cpu', description: 'Cores still placeable (after overcommit).' },
    { name: 'Free Memory', type: 'string', jsonPath: '.status.free.memory', description: 'Memory still placeable (after overcommit).' },
    { name: 'Physical Free CPU', type: 'integer', jsonPath: '.status.physicalFree.cpu', description: 'Cores of hardware not yet promised.' },
    { name: 'Physical Free Memory', type: 'string', jsonPath: '.status.physicalFree.memory', priority: 1, description: 'Memory of hardware not yet promised.' },
    { name: 'Drain', type: 'string', jsonPath: '.status.drain.phase', priority: 1, description: 'Drain of a host in Maintenance: Draining, Drained or Blocked.' },
    { name: 'Left', type: 'integer', jsonPath: '.status.drain.remaining', priority: 1, description: 'VMs still on the host (or on their way to it) while it is drained.' },
    { name: 'Maintainers', type: 'string', jsonPath: '.status.maintainers', priority: 1, description: 'Maintainers (維護者).' },
    { name: 'Group', type: 'string', jsonPath: '.spec.group', priority: 1, description: 'Bare-metal group.' },
    { name: 'Serial', type: 'string', jsonPath: '.spec.serialNumber', priority: 1, description: 'Serial number (序號).' },
    { name: 'VMs', type: 'integer', jsonPath: '.status.virtualMachines', priority: 1, description: 'Virtual machines on the host.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  selectableFields: ['.spec.rack', '.spec.group', '.spec.serialNumber', '.spec.state', '.status.phase'],
});

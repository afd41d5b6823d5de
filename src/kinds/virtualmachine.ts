import { Type, type Static } from '@sinclair/typebox';
import { defineKind, type KindObject } from './define.js';
import {
  dnsLabel,
  maintainersField,
  nameRef,
  nameSet,
  optionalText,
  resourceAmounts,
  statusOf,
  stringEnum,
  stringSet,
  timestamp,
} from './fields.js';
import { placementStrategies } from './baremetalgroup.js';

export const vmRoles = ['Standalone', 'ControlPlane', 'Worker', 'Management', 'Bastion'] as const;
export const runStrategies = ['Always', 'Halted', 'Manual'] as const;
export const stopPolicies = ['Graceful', 'Force'] as const;
export const dataDiskPolicies = ['Delete', 'Retain'] as const;
export const spreadDomains = ['Host', 'Rack', 'Datacenter'] as const;
export const vmPhases = [
  'Pending',
  'Scheduling',
  'Unschedulable',
  'Provisioning',
  'Starting',
  'Running',
  'Stopping',
  'Stopped',
  'Restarting',
  'Migrating',
  'Terminating',
  'Failed',
] as const;
export const powerStates = ['On', 'Off'] as const;
/** Condition types the VirtualMachine controller reports. */
export const vmConditionTypes = ['Scheduled', 'Provisioned', 'Ready', 'Migrating'] as const;

export const VirtualMachineSpec = Type.Object(
  {
    specification: nameRef('Specification (規格, flavor): a VirtualMachineSpecification name.'),
    image: nameRef('Image (母版) the VM boots from: a VirtualMachineImage name.'),
    group: Type.Optional(
      nameRef('Bare-metal group (實體機群組) to place the VM in; required unless baremetal is set.'),
    ),
    baremetal: Type.Optional(nameRef('Pin the VM to this bare-metal host (裸機); optional.')),
    role: Type.Optional(
      stringEnum(vmRoles, 'Role (類型) of the VM: Standalone, ControlPlane, Worker, Management or Bastion (堡壘機).', 'Standalone'),
    ),
    cluster: Type.Optional(nameRef('K8s cluster (K8s集群) the VM is a node of: a K8sCluster name in this namespace.')),
    runStrategy: Type.Optional(
      stringEnum(
        runStrategies,
        'Always keeps the VM running, Halted keeps it stopped, Manual leaves power to explicit operations.',
        'Always',
      ),
    ),
    stopPolicy: Type.Optional(
      stringEnum(stopPolicies, 'How the VM is stopped (關機): Graceful shutdown, or Force power-off.', 'Graceful'),
    ),
    restartAt: Type.Optional(
      timestamp('Setting a value newer than status.restartedAt requests a restart (重啟).'),
    ),
    dataDisk: Type.Optional(
      stringEnum(dataDiskPolicies, 'On deletion, Delete or Retain (保留資料磁碟) the VM\'s data disk.', 'Delete'),
    ),
    placement: Type.Optional(
      Type.Object(
        {
          strategy: Type.Optional(
            stringEnum(placementStrategies, 'Binpack or Spread; defaults to the group\'s strategy.'),
          ),
          regions: Type.Optional(stringSet('Regions (區域) allowed; empty means any.', dnsLabel('Region name.'))),
          datacenters: Type.Optional(nameSet('Data centers (資料中心) allowed; empty means any.', 'Datacenter name.')),
          racks: Type.Optional(nameSet('Racks (機架) allowed; empty means any.', 'Rack name.')),
          spreadAcross: Type.Optional(
            stringEnum(spreadDomains, 'VMs sharing spreadKey avoid sharing this domain: Host (bare-metal host), Rack or Datacenter.'),
          ),
          spreadKey: optionalText('VMs with the same spreadKey are kept apart across spreadAcross.', { maxLength: 253 }),
        },
        { description: 'Constraints on where the scheduler places the VM.' },
      ),
    ),
    description: optionalText('Free-form description (描述) of the VM.'),
  },
  {
    description: 'Desired state of the virtual machine (虛擬機).',
    // A VM with neither a group nor a pinned host can never be placed, so it is refused at
    // admission rather than reported later; each branch names the field it misses.
    anyOf: [{ required: ['group'] }, { required: ['baremetal'] }],
  },
);

const placementOf = (description: string) =>
  Type.Object(
    {
      baremetal: optionalText('Bare-metal host (裸機).'),
      rack: optionalText('Rack (機架) of that host.'),
      datacenter: optionalText('Data center (資料中心) of that host.'),
      region: optionalText('Region (區域) of that host.'),
    },
    { description },
  );

export const VirtualMachineStatus = statusOf(
  {
    phase: Type.Optional(stringEnum(vmPhases, 'Observed phase of the VM (建立中、執行中、停止等).')),
    placement: Type.Optional(
      Type.Object(
        {
          baremetal: optionalText('Bare-metal host (裸機) the VM is placed on.'),
          rack: optionalText('Rack (機架) of that host.'),
          datacenter: optionalText('Data center (資料中心) of that host.'),
          region: optionalText('Region (區域) of that host.'),
          scheduledAt: Type.Optional(timestamp('When the scheduler placed the VM.')),
        },
        { description: 'Where the scheduler placed the VM (調度紀錄).' },
      ),
    ),
    resources: Type.Optional(resourceAmounts('Resources reserved for the VM, from its specification.')),
    powerState: Type.Optional(stringEnum(powerStates, 'Power state reported by the external controller: On or Off.')),
    addresses: Type.Optional(
      Type.Array(
        Type.Object(
          {
            type: Type.String({ description: 'Kind of address, e.g. InternalIP, ExternalIP, Hostname.' }),
            address: Type.String({ description: 'The address.' }),
          },
          { description: 'One address of the VM.' },
        ),
        { description: 'Network addresses of the VM.' },
      ),
    ),
    externalId: optionalText('Identifier of the VM in the external controller.'),
    externalController: optionalText(
      'The ExternalController that holds the VM\'s machine, recorded before the first create: the VM stays with it, so a changed routing never builds a second machine.',
    ),
    restartedAt: Type.Optional(timestamp('The spec.restartAt value the last restart honoured.')),
    migration: Type.Optional(
      Type.Object(
        {
          state: Type.Optional(stringEnum(['Running', 'Succeeded'] as const, 'Running while the VM is moved (both hosts hold its reservation), then Succeeded.')),
          method: Type.Optional(
            stringEnum(['Migrate', 'Recreate'] as const, 'Migrate: live migration by the external controller; Recreate: deleted on the old host and built again on the new one (the data disk is not kept).'),
          ),
          reason: optionalText('Why the VM is moved, e.g. Drain.'),
          source: Type.Optional(placementOf('The host the VM is moved from.')),
          target: Type.Optional(placementOf('The host the VM is moved to, chosen by the scheduler.')),
          stage: optionalText('Recreate: Deleting (the old machine) or Creating (the new one).'),
          operationId: optionalText('Migrate: the operation the external controller answered.'),
          startedAt: Type.Optional(timestamp('When the move began.')),
          finishedAt: Type.Optional(timestamp('When the move finished.')),
        },
        { description: 'The last move of the VM to another host (drain of a host in Maintenance).' },
      ),
    ),
    lastOperation: Type.Optional(
      Type.Object(
        {
          type: optionalText('Operation requested from the external controller, e.g. Create, Power, Delete.'),
          id: optionalText('Identifier of the operation, idempotent by uid and generation.'),
          state: optionalText('State of the operation, e.g. Pending, Running, Succeeded, Failed.'),
          startedAt: Type.Optional(timestamp('When the operation started.')),
          finishedAt: Type.Optional(timestamp('When the operation finished.')),
          message: optionalText('What the external controller said about the operation.'),
        },
        { description: 'The last operation requested from the external controller.' },
      ),
    ),
    maintainers: maintainersField(),
    bastionFor: Type.Optional(
      nameSet(
        'K8sClusters in this namespace that name the VM among their bastions (堡壘機, spec.bastions); kept by the controller, which also labels the VM cluster.virtflow.io/<cluster>=bastion.',
        'K8sCluster name.',
      ),
    ),
  },
  'Observed state of the virtual machine. Conditions: Scheduled, Provisioned, Ready.',
);

export type VirtualMachineSpec = Static<typeof VirtualMachineSpec>;
export type VirtualMachineStatus = Static<typeof VirtualMachineStatus>;
export type VirtualMachine = KindObject<VirtualMachineSpec, VirtualMachineStatus>;

export const virtualMachineKind = defineKind({
  kind: 'VirtualMachine',
  plural: 'virtualmachines',
  singular: 'virtualmachine',
  shortNames: ['vm'],
  scope: 'Namespaced',
  description: 'A virtual machine (虛擬機) of a tenant, placed on a bare-metal host by the scheduler.',
  spec: VirtualMachineSpec,
  status: VirtualMachineStatus,
  printerColumns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Observed phase.' },
    { name: 'Baremetal', type: 'string', jsonPath: '.status.placement.baremetal', description: 'Host the VM runs on.' },
    { name: 'CPU', type: 'integer', jsonPath: '.status.resources.cpu', description: 'Cores reserved.' },
    { name: 'Memory', type: 'string', jsonPath: '.status.resources.memory', description: 'Memory reserved.' },
    {
      name: 'Ready',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Ready")].status',
      description: 'Ready condition: Unknown while the external controller cannot be reached (the phase is the last one it reported).',
    },
    { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', priority: 1, description: 'Why the VM is (not) ready.' },
    { name: 'Maintainers', type: 'string', jsonPath: '.status.maintainers', priority: 1, description: 'Maintainers (維護者).' },
    { name: 'Role', type: 'string', jsonPath: '.spec.role', priority: 1, description: 'Role of the VM.' },
    { name: 'Specification', type: 'string', jsonPath: '.spec.specification', priority: 1, description: 'Flavor.' },
    { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster', priority: 1, description: 'K8s cluster.' },
    { name: 'Power', type: 'string', jsonPath: '.status.powerState', priority: 1, description: 'Power state.' },
    { name: 'Address', type: 'string', jsonPath: '.status.addresses[0].address', priority: 1, description: 'First address.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  selectableFields: [
    '.spec.specification',
    '.spec.image',
    '.spec.group',
    '.spec.cluster',
    '.spec.role',
    '.status.phase',
    '.status.placement.baremetal',
  ],
});

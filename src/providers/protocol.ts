// The external-controller protocol, version v1: the wire shapes VirtFlow and an external
// controller (e.g. vm-service.tw) exchange over HTTP+JSON. One TypeBox definition per shape
// yields the TypeScript type (Static<>), the JSON Schema the simulator validates requests
// with, and the components of docs/external-controller-protocol.openapi.yaml (see
// protocol-openapi.ts; a test keeps the document and these schemas equal). The schemas stay inside
// the OpenAPI 3.0 subset of JSON Schema (no const, no type arrays) so the usual code
// generators for other languages read them.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { apiVersion } from '../kinds/define.js';
import { virtualMachineKind } from '../kinds/virtualmachine.js';

export const protocolVersion = 'v1';
export const basePath = `/${protocolVersion}`;

export const operationTypes = ['Create', 'Update', 'Power', 'Delete', 'Migrate'] as const;
/** Optional operations an external controller may announce in its healthz answer. */
export const capabilities = { migrate: 'migrate' } as const;
export const operationStates = ['Pending', 'Running', 'Succeeded', 'Failed'] as const;
export const powerActions = ['start', 'stop', 'restart'] as const;
export const powerStates = ['On', 'Off'] as const;
export const dataDiskPolicies = ['Delete', 'Retain'] as const;
export const imageFormats = ['qcow2', 'raw', 'iso'] as const;

export type OperationType = (typeof operationTypes)[number];
export type OperationState = (typeof operationStates)[number];
export type PowerAction = (typeof powerActions)[number];
export type PowerState = (typeof powerStates)[number];
export type DataDiskPolicy = (typeof dataDiskPolicies)[number];

/** Machine-readable `code` of an ErrorBody, one per refusal the protocol defines. */
export const errorCodes = {
  /** 400: the body or a parameter does not match the schema. */
  invalid: 'Invalid',
  /** 401: missing or wrong bearer token. */
  unauthorized: 'Unauthorized',
  /** 404: no machine for this uid (update, power). */
  notFound: 'NotFound',
  /** 409: another operation on this uid is Pending or Running; retry after it finishes. */
  operationInProgress: 'OperationInProgress',
  /** 409: the generation is older than the one the machine already has. */
  staleGeneration: 'StaleGeneration',
  /** 410: the machine of this uid was deleted through the protocol; uids are never reused. */
  deleted: 'Deleted',
  /** 422: the placement's region is not one this controller serves. */
  wrongRegion: 'WrongRegion',
  /** 503: the controller cannot take requests now; retry with back-off. */
  unavailable: 'Unavailable',
} as const;

function enumOf<const T extends readonly string[]>(values: T, description: string) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });
}

const text = (description: string, options: Record<string, unknown> = {}) =>
  Type.String({ description, ...options });
const timestamp = (description: string) => Type.String({ description, format: 'date-time' });

export const Uid = Type.String({
  description: 'metadata.uid of the VirtualMachine: the identity of the machine, never reused.',
  minLength: 1,
  maxLength: 128,
});

export const Generation = Type.Integer({
  description: 'metadata.generation of the VirtualMachine the request was made for.',
  minimum: 1,
});

export const Placement = Type.Object(
  {
    baremetal: text('Bare-metal host (裸機) the VM is placed on.', { minLength: 1 }),
    rack: Type.Optional(text('Rack (機架) of the host.')),
    datacenter: Type.Optional(text('Data center (資料中心) of the host.')),
    region: Type.Optional(text('Region (區域) of the host.')),
  },
  { description: 'Where VirtFlow\'s scheduler placed the VM; the controller builds it on that host.' },
);

export const Resources = Type.Object(
  {
    cpu: Type.Integer({ description: 'Whole CPU cores.', minimum: 0 }),
    memory: text('Memory as a Kubernetes quantity, e.g. 16Gi.'),
    storage: text('Root/data disk size as a Kubernetes quantity, e.g. 200Gi.'),
    gpu: Type.Optional(Type.Integer({ description: 'Number of GPUs.', minimum: 0, default: 0 })),
  },
  { description: 'Resources reserved for the VM (from its VirtualMachineSpecification).' },
);

export const Image = Type.Object(
  {
    name: text('Name of the VirtualMachineImage (母版).', { minLength: 1 }),
    source: Type.Object(
      {
        url: text('Where the image file is downloaded from (http, https or s3 URL).', { minLength: 1 }),
        checksum: Type.Optional(text('Expected checksum of the file, e.g. sha256:<64 hex digits>.')),
      },
      { description: 'Source of the image file.' },
    ),
    format: enumOf(imageFormats, 'Disk format of the image file.'),
  },
  { description: 'The image the VM boots from.' },
);

export const Callback = Type.Object(
  {
    apiServer: Type.Optional(
      text('Base URL of the VirtFlow API server, e.g. https://virtflow.example:6443. Omitted: the controller uses the one it is configured with.'),
    ),
    caCert: Type.Optional(
      text('PEM bundle of the CA that signed the API server\'s certificate. Omitted: the configured one, else the system roots.'),
    ),
    token: Type.Optional(
      text('Bearer token for the callback; it may write only the status subresource. Omitted: the configured one.'),
    ),
    statusPath: text(
      'Path of the VM\'s status subresource, e.g. /apis/virtflow.io/v1alpha1/namespaces/acme/virtualmachines/web-1/status.',
      { pattern: '^/.+/status$' },
    ),
  },
  {
    description:
      'Where and how the controller reports progress: JSON merge patches (application/merge-patch+json) PATCHed to apiServer + statusPath with the bearer token. The latest create/update\'s callback is kept for the uid and also used for its power and delete operations.',
  },
);

export const CreateRequest = Type.Object(
  {
    uid: Uid,
    generation: Generation,
    namespace: text('Namespace (the tenant\'s) of the VirtualMachine.', { minLength: 1 }),
    name: text('metadata.name of the VirtualMachine.', { minLength: 1 }),
    placement: Placement,
    resources: Resources,
    image: Image,
    specification: text('Name of the VirtualMachineSpecification (規格, flavor).', { minLength: 1 }),
    powerOn: Type.Optional(
      Type.Boolean({ description: 'Start the machine once it is built (false for runStrategy Halted).', default: true }),
    ),
    recreate: Type.Optional(
      Type.Boolean({
        description:
          'Build the machine even if this uid was deleted through the protocol: VirtFlow sends it only after it checked that the VM still exists and is not being deleted, so a machine deleted by a request VirtFlow did not make comes back.',
        default: false,
      }),
    ),
    callback: Callback,
  },
  { description: 'Build the machine of a VirtualMachine. Idempotent by uid + generation.' },
);

export const UpdateRequest = Type.Object(
  {
    generation: Generation,
    placement: Type.Optional(Placement),
    resources: Resources,
    image: Type.Optional(Image),
    specification: text('Name of the VirtualMachineSpecification (規格, flavor).', { minLength: 1 }),
    callback: Type.Optional(Callback),
  },
  {
    description:
      'Bring an existing machine to a newer generation of the VM\'s desired state (e.g. a new specification). Idempotent by uid + generation.',
  },
);

export const PowerRequest = Type.Object(
  {
    action: enumOf(powerActions, 'start, stop or restart the machine.'),
    force: Type.Optional(
      Type.Boolean({ description: 'stop/restart: power off at once instead of a graceful shutdown.', default: false }),
    ),
    requestId: text('Idempotency key chosen by VirtFlow: a repeated request with the same key is the same operation.', {
      minLength: 1,
      maxLength: 253,
    }),
  },
  { description: 'A power operation.' },
);

export const MigrateRequest = Type.Object(
  {
    generation: Generation,
    placement: Placement,
    requestId: text('Idempotency key chosen by VirtFlow: a repeated request with the same key is the same operation.', {
      minLength: 1,
      maxLength: 253,
    }),
  },
  {
    description:
      'Move a running machine to another host without rebuilding it (live migration), keeping its identity, addresses and data disk. Only for controllers whose healthz lists the capability migrate. Idempotent by requestId.',
  },
);

export const Operation = Type.Object(
  {
    type: enumOf(operationTypes, 'What was requested.'),
    id: text('Operation id, as answered when the request was accepted.'),
    state: enumOf(operationStates, 'Pending (accepted), Running, Succeeded or Failed.'),
    startedAt: Type.Optional(timestamp('When the operation started (RFC 3339).')),
    finishedAt: Type.Optional(timestamp('When it finished, once Succeeded or Failed.')),
    message: Type.Optional(text('What the controller says about it; on Failed, why, for a person to act on.')),
  },
  { description: 'An operation as the controller reports it; the same shape as the VM\'s status.lastOperation.' },
);

export const OperationAccepted = Type.Object(
  {
    operationId: text('Operation id; a repeated request answers the same one.'),
    type: enumOf(operationTypes, 'What was requested.'),
    state: enumOf(operationStates, 'State of the operation now.'),
    uid: Uid,
    message: Type.Optional(text('What the controller says about it.')),
  },
  { description: 'The answer to a create, update, power or delete request.' },
);

export const Address = Type.Object(
  {
    type: text('Kind of address, e.g. InternalIP, ExternalIP, Hostname.'),
    address: text('The address.'),
  },
  { description: 'One network address of the machine.' },
);

export const Observation = Type.Object(
  {
    uid: Uid,
    exists: Type.Boolean({ description: 'Does a machine exist for this uid now.' }),
    generation: Type.Optional(
      Type.Integer({ description: 'The VM generation the machine was last built or updated for.', minimum: 1 }),
    ),
    powerState: Type.Optional(enumOf(powerStates, 'On or Off; absent when no machine exists.')),
    externalId: Type.Optional(text('The controller\'s own identifier of the machine.')),
    addresses: Type.Array(Address, { description: 'Network addresses; empty when none.' }),
    dataDisk: Type.Optional(enumOf(dataDiskPolicies, 'Retain when the data disk of a deleted machine was kept.')),
    lastOperation: Type.Optional(Operation),
  },
  { description: 'What the controller knows about the machine of a uid. Reading it never changes anything.' },
);

export const Health = Type.Object(
  {
    status: enumOf(['ok'] as const, 'Always ok when answered.'),
    versions: Type.Array(Type.String(), { description: 'Protocol versions served, e.g. ["v1"].' }),
    service: Type.Optional(text('Service performed, e.g. VirtualMachine.')),
    regions: Type.Optional(Type.Array(Type.String(), { description: 'Regions served; empty or absent means all.' })),
    implementation: Type.Optional(text('Free text naming the implementation, e.g. virtflow-simulator.')),
    capabilities: Type.Optional(
      Type.Array(Type.String(), { description: 'Optional operations served, e.g. ["migrate"]; absent means none.' }),
    ),
  },
  { description: 'Liveness of the controller; VirtFlow probes it for ExternalController status.reachable.' },
);

export const ErrorBody = Type.Object(
  {
    code: text('Machine-readable reason: Invalid, Unauthorized, NotFound, OperationInProgress, StaleGeneration, Deleted, WrongRegion or Unavailable.'),
    message: text('What went wrong, for a person.'),
    operationId: Type.Optional(text('OperationInProgress: the operation to wait for.')),
  },
  { description: 'Every refusal (4xx, 5xx) has this body.' },
);

/** The VM status fields an external controller writes through the callback (a merge patch). */
export const StatusReport = Type.Object(
  {
    status: Type.Object(
      {
        lastOperation: Type.Optional(Operation),
        powerState: Type.Optional(enumOf(powerStates, 'On or Off.')),
        externalId: Type.Optional(text('The controller\'s identifier of the machine.')),
        addresses: Type.Optional(Type.Array(Address)),
      },
      { description: 'Only these four fields; null removes one (JSON merge patch).' },
    ),
  },
  {
    description:
      'Body of the callback: PATCH {apiServer}{statusPath}, Content-Type application/merge-patch+json. Fields set to null are removed (e.g. lastOperation.message, finishedAt of a new operation).',
  },
);

export type Placement = Static<typeof Placement>;
export type Resources = Static<typeof Resources>;
export type Image = Static<typeof Image>;
export type Callback = Static<typeof Callback>;
export type CreateRequest = Static<typeof CreateRequest>;
export type UpdateRequest = Static<typeof UpdateRequest>;
export type PowerRequest = Static<typeof PowerRequest>;
export type MigrateRequest = Static<typeof MigrateRequest>;
export type Operation = Static<typeof Operation>;
export type OperationAccepted = Static<typeof OperationAccepted>;
export type Address = Static<typeof Address>;
export type Observation = Static<typeof Observation>;
export type Health = Static<typeof Health>;
export type ErrorBody = Static<typeof ErrorBody>;

/** Every named schema, as the OpenAPI document's components.schemas lists them. */
export const protocolSchemas: Record<string, TSchema> = {
  CreateRequest,
  UpdateRequest,
  PowerRequest,
  MigrateRequest,
  OperationAccepted,
  Operation,
  Observation,
  Health,
  ErrorBody,
  StatusReport,
  Placement,
  Resources,
  Image,
  Callback,
  Address,
};

/** The path of a VM's status subresource on a VirtFlow (or Kubernetes) API server. */
export function virtualMachineStatusPath(namespace: string, name: string): string {
  return `/apis/${apiVersion}/namespaces/${encodeURIComponent(namespace)}/${virtualMachineKind.plural}/${encodeURIComponent(name)}/status`;
}

/** RFC 3339 at second precision, like Kubernetes' metav1.Time. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

// The OpenAPI 3.0 document of the external-controller protocol, built from the TypeBox
// schemas in protocol.ts so the document and the code cannot drift apart. It is written to
// docs/external-controller-protocol.openapi.yaml by write-openapi.ts, and a test checks the
// file equals this.
import { plainSchema } from '../kinds/define.js';
import { protocolSchemas, protocolVersion } from './protocol.js';

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ 'application/json': { schema: ref(name) } });
const error = (description: string) => ({ description, content: json('ErrorBody') });

const uidParameter = {
  name: 'uid',
  in: 'path',
  required: true,
  description: 'metadata.uid of the VirtualMachine.',
  schema: { type: 'string' },
};

const accepted = {
  '202': { description: 'A new operation was started. Its progress and result arrive through the callback.', content: json('OperationAccepted') },
  '200': {
    description: 'The same request was seen before: the answer is that operation (running or finished), nothing new is started.',
    content: json('OperationAccepted'),
  },
};

const common = {
  '400': error('Invalid: the body or a parameter does not match the schema.'),
  '401': error('Unauthorized: missing or wrong bearer token.'),
  '409': error('OperationInProgress: another operation on this uid is Pending or Running (its id is in operationId); retry when it has finished.'),
  '503': error('Unavailable: the controller cannot take the request now; nothing was changed. Retry with back-off (Retry-After may say when).'),
};

/** A plain schema (canonical key order, symbols dropped), nested named schemas as $ref. */
function component(name: string, schemas: Record<string, unknown>): Json {
  const signatures = new Map(
    Object.entries(schemas)
      .filter(([other]) => other !== name)
      .map(([other, schema]) => [JSON.stringify(schema), other]),
  );
  const walk = (node: unknown, top: boolean): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n, false));
    if (typeof node !== 'object' || node === null) return node;
    const named = top ? undefined : signatures.get(JSON.stringify(node));
    if (named) return ref(named);
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, false)]));
  };
  return walk(schemas[name], true) as Json;
}

export function protocolOpenApi(): Json {
  const plain = Object.fromEntries(Object.entries(protocolSchemas).map(([name, schema]) => [name, plainSchema(schema)]));
  const schemas = Object.fromEntries(Object.keys(plain).map((name) => [name, component(name, plain)]));
  return {
    openapi: '3.0.3',
    info: {
      title: 'VirtFlow external-controller protocol',
      version: protocolVersion,
      description: [
        'How VirtFlow asks an external controller (e.g. vm-service.tw) to build, change, power and',
        'remove the machine of a VirtualMachine, and how the controller reports back. Read',
        'external-controller-protocol.md beside this file for the rules (idempotency, callbacks).',
        'Requests are idempotent: create and update by uid + generation, power and delete by',
        'requestId. The controller answers at once with an operation id and reports progress and',
        'the result by PATCHing the VM\'s status subresource on VirtFlow\'s API (see the',
        'StatusReport schema and the callback field of CreateRequest).',
      ].join(' '),
    },
    servers: [{ url: '{endpoint}', variables: { endpoint: { default: 'http://127.0.0.1:7480', description: 'ExternalController.spec.endpoint' } } }],
    security: [{}, { bearer: [] }],
    paths: {
      [`/${protocolVersion}/healthz`]: {
        get: {
          operationId: 'health',
          summary: 'Liveness and protocol versions served (ExternalController status.reachable).',
          security: [],
          responses: { '200': { description: 'The controller is up.', content: json('Health') } },
        },
      },
      [`/${protocolVersion}/virtualmachines`]: {
        post: {
          operationId: 'createVirtualMachine',
          summary: 'Build the machine of a VirtualMachine on its placed host.',
          description:
            'Idempotent by uid + generation: a repeated request answers the same operation and never builds a second machine. A create for a uid whose machine exists (built for another generation) is not an error: it succeeds without building. A repeat of a Failed create starts a new attempt.',
          requestBody: { required: true, content: json('CreateRequest') },
          responses: {
            ...accepted,
            ...common,
            '410': error('Deleted: the machine of this uid was deleted through this protocol; a uid is never built again.'),
            '422': error('WrongRegion: placement.region is not served by this controller.'),
          },
        },
      },
      [`/${protocolVersion}/virtualmachines/{uid}`]: {
        parameters: [uidParameter],
        get: {
          operationId: 'observeVirtualMachine',
          summary: 'What exists for the uid. Never changes anything; an unknown uid is {exists: false}.',
          responses: { '200': { description: 'The observation.', content: json('Observation') }, '401': common['401'] },
        },
        put: {
          operationId: 'updateVirtualMachine',
          summary: 'Bring the machine to a newer generation of its desired state.',
          description: 'Idempotent by uid + generation. An older generation than the machine has is refused (409 StaleGeneration).',
          requestBody: { required: true, content: json('UpdateRequest') },
          responses: {
            ...accepted,
            ...common,
            '404': error('NotFound: no machine exists for the uid.'),
            '409': error('OperationInProgress (another operation is running) or StaleGeneration (the machine is at a newer generation).'),
            '410': error('Deleted: the machine of this uid was deleted.'),
          },
        },
        delete: {
          operationId: 'deleteVirtualMachine',
          summary: 'Remove the machine, deleting or retaining its data disk.',
          description:
            'Idempotent by requestId. Deleting a uid without a machine is not an error: the answer is a Succeeded operation (200). After a successful delete the uid is never built again.',
          parameters: [
            { name: 'dataDisk', in: 'query', required: false, description: 'Delete (default) or Retain the data disk.', schema: { type: 'string', enum: ['Delete', 'Retain'], default: 'Delete' } },
            { name: 'requestId', in: 'query', required: true, description: 'Idempotency key chosen by VirtFlow.', schema: { type: 'string', minLength: 1 } },
          ],
          responses: { ...accepted, ...common },
        },
      },
      [`/${protocolVersion}/virtualmachines/{uid}/power`]: {
        parameters: [uidParameter],
        post: {
          operationId: 'powerVirtualMachine',
          summary: 'start, stop (graceful, or forced) or restart the machine.',
          description: 'Idempotent by requestId. A repeat of a Failed operation starts a new attempt.',
          requestBody: { required: true, content: json('PowerRequest') },
          responses: {
            ...accepted,
            ...common,
            '404': error('NotFound: no machine exists for the uid.'),
            '410': error('Deleted: the machine of this uid was deleted.'),
          },
        },
      },
      [`/${protocolVersion}/virtualmachines/{uid}/migrate`]: {
        parameters: [uidParameter],
        post: {
          operationId: 'migrateVirtualMachine',
          summary: 'Move the running machine to another host (live migration); only when healthz lists the capability migrate.',
          description:
            'Idempotent by requestId. The machine keeps its identity, addresses and data disk; on success the Observation of the uid reports the Migrate operation Succeeded. A repeat of a Failed migration starts a new attempt.',
          requestBody: { required: true, content: json('MigrateRequest') },
          responses: {
            ...accepted,
            ...common,
            '404': error('NotFound: no machine exists for the uid.'),
            '410': error('Deleted: the machine of this uid was deleted.'),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'The token of ExternalController.spec.credentialsSecret, when the controller requires one.' },
      },
      schemas,
    },
  };
}

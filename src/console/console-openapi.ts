// The console API's OpenAPI 3 document, built from the route table (so it cannot drift from
// what the server does). Served at /api/k8s/openapi.json and kept in docs/console-openapi.json.
import { errorStatus } from './envelope.js';
import type { Param } from './params.js';
import type { Route } from './route.js';

function schemaOf(p: Param): Record<string, unknown> {
  const schema: Record<string, unknown> =
    p.type === 'object' ? { type: 'object', additionalProperties: { type: 'string' } } : { type: p.type };
  if (p.enum) schema.enum = [...p.enum];
  if (p.minimum !== undefined) schema.minimum = p.minimum;
  if (p.maximum !== undefined) schema.maximum = p.maximum;
  if (p.default !== undefined) schema.default = p.default;
  if (p.format === 'url') schema.format = 'uri';
  return schema;
}

export function consoleOpenApi(routes: Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operation: Record<string, unknown> = {
      summary: route.summary,
      operationId: `${route.method.toLowerCase()}${route.path.replace('/api/k8s', '').replace(/[-/]+(\w)/g, (_m, c: string) => c.toUpperCase())}`,
      tags: [route.path.split('/')[3] ?? 'console'],
      ...(route.mutates ? { description: 'Needs the super administrator or operations administrator role (virtflow:platform-admin or virtflow:operator). Written to the operations log.' } : {}),
      responses: {
        '200': { description: 'Success', content: { 'application/json': { schema: { $ref: '#/components/schemas/Success' } } } },
        ...Object.fromEntries(
          Object.entries(errorStatus).map(([code, status]) => [String(status), { description: code, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]),
        ),
      },
    };
    if (route.method === 'GET') {
      operation.parameters = route.params.map((p) => ({ name: p.name, in: 'query', required: p.required === true, description: p.description, schema: schemaOf(p) }));
    } else {
      operation.requestBody = {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: route.params.filter((p) => p.required).map((p) => p.name),
              properties: Object.fromEntries(route.params.map((p) => [p.name, { ...schemaOf(p), description: p.description }])),
            },
          },
        },
      };
    }
    paths[route.path] = { ...(paths[route.path] ?? {}), [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'VirtFlow operations console API',
      version: 'v1',
      description: 'Day-2 operations on many Kubernetes clusters (seed 004), served beside the Kubernetes API. Authenticate with a VirtFlow bearer token.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Success: {
          type: 'object',
          required: ['success', 'data', 'message'],
          properties: { success: { type: 'boolean', enum: [true] }, data: { type: 'object' }, message: { type: 'string' } },
        },
        Error: {
          type: 'object',
          required: ['success', 'error_code', 'message', 'details', 'suggestions'],
          properties: {
            success: { type: 'boolean', enum: [false] },
            error_code: { type: 'string', enum: Object.keys(errorStatus) },
            message: { type: 'string' },
            details: { type: 'string' },
            suggestions: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  };
}

// The OpenAPI documents kubectl and client libraries read: /openapi/v3 (an index of one
// document per group-version) and /openapi/v2 (one Swagger 2.0 document). Definitions are
// named as Kubernetes names them (io.k8s.api.core.v1.ConfigMap, io.virtflow.v1alpha1.Tenant),
// kinds carry x-kubernetes-group-version-kind, and metadata refers to ObjectMeta, so
// `kubectl explain` can walk from a kind down to any field's description.

import { createHash } from 'node:crypto';
import { clone, isPlainObject } from '../machinery/object.js';
import { groupVersion, type JSONSchemaProps, type ResourceInfo } from '../machinery/resource.js';
import { builtinDefinitions, definitionNames, resourceFields, sharedDefinitionNames, standardDescriptions } from './builtin-schemas.js';
import { patchMediaTypes, pathItemsFor, type Operation, type Parameter, type PathItem } from './openapi-paths.js';
import { componentsPrefix } from './schema-builders.js';

const definitionsPrefix = '#/definitions/';
const mediaTypes = ['application/json', 'application/yaml'];

/** Kubernetes' own groups keep their Go package names; others are reversed domains. */
const builtinGroupPrefixes: Record<string, string> = {
  '': 'io.k8s.api.core',
  'apiextensions.k8s.io': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions',
  autoscaling: 'io.k8s.api.autoscaling',
};

export function definitionNameFor(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>): string {
  const prefix =
    builtinGroupPrefixes[info.group] ??
    (info.group.endsWith('.k8s.io')
      ? `io.k8s.api.${info.group.slice(0, -'.k8s.io'.length)}`
      : info.group.split('.').reverse().join('.'));
  return `${prefix}.${info.version}.${info.kind}`;
}

function gvkExtension(group: string, version: string, kind: string) {
  return [{ group, kind, version }];
}

/** The published schema of a kind: the CRD schema (or built-in one) with the standard fields. */
export function kindSchemaFor(info: ResourceInfo): JSONSchemaProps {
  const name = definitionNameFor(info);
  const source = info.schema ?? builtinDefinitions[name] ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const schema = clone(source);
  const properties = isPlainObject(schema.properties) ? schema.properties : {};
  // The standard fields come first and metadata is always a reference to ObjectMeta, as in
  // Kubernetes; whatever a CRD says about metadata.name is a validation detail.
  schema.properties = { ...resourceFields(), ...withoutMetaFields(properties) };
  schema.type ??= 'object';
  schema['x-kubernetes-group-version-kind'] = gvkExtension(info.group, info.version, info.kind);
  return schema;
}

function withoutMetaFields(properties: Record<string, unknown>): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = properties;
  return rest;
}

export function listSchemaFor(info: ResourceInfo): JSONSchemaProps {
  return {
    description: `${info.listKind} is a list of ${info.kind}`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: standardDescriptions.apiVersion },
      items: {
        type: 'array',
        description: `List of ${info.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`,
        items: { $ref: componentsPrefix + definitionNameFor(info) },
      },
      kind: { type: 'string', description: standardDescriptions.kind },
      metadata: { description: standardDescriptions.listMetadata, allOf: [{ $ref: componentsPrefix + definitionNames.listMeta }] },
    },
    'x-kubernetes-group-version-kind': gvkExtension(info.group, info.version, info.listKind),
  };
}

/** The definitions of some kinds, plus every built-in definition they refer to. */
function definitionsFor(infos: ResourceInfo[]): Record<string, JSONSchemaProps> {
  const definitions: Record<string, JSONSchemaProps> = {};
  for (const name of sharedDefinitionNames) definitions[name] = clone(builtinDefinitions[name]!);
  for (const info of infos) {
    definitions[definitionNameFor(info)] = kindSchemaFor(info);
    definitions[definitionNameFor({ ...info, kind: info.listKind })] = listSchemaFor(info);
  }
  const pending = Object.values(definitions);
  while (pending.length > 0) {
    for (const ref of referencesIn(pending.pop())) {
      const target = builtinDefinitions[ref];
      if (!definitions[ref] && target) {
        definitions[ref] = clone(target);
        pending.push(definitions[ref]);
      }
    }
  }
  return sortedRecord(definitions);
}

function referencesIn(schema: unknown, found: string[] = []): string[] {
  if (Array.isArray(schema)) for (const item of schema) referencesIn(item, found);
  else if (isPlainObject(schema)) {
    for (const [key, value] of Object.entries(schema)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(componentsPrefix)) {
        found.push(value.slice(componentsPrefix.length));
      } else referencesIn(value, found);
    }
  }
  return found;
}

function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function pathItemsOf(infos: ResourceInfo[]): PathItem[] {
  return infos.flatMap((info) =>
    pathItemsFor(info, definitionNameFor(info), definitionNameFor({ ...info, kind: info.listKind })),
  );
}

// ---------------------------------------------------------------- OpenAPI v3

function v3Parameter(p: Parameter): Record<string, unknown> {
  const out: Record<string, unknown> = { name: p.name, in: p.in, description: p.description };
  if (p.required) out.required = true;
  out.schema = { type: p.type, uniqueItems: true };
  return out;
}

function v3Content(definition: string, types: string[] = mediaTypes): Record<string, unknown> {
  return Object.fromEntries(types.map((t) => [t, { schema: { $ref: componentsPrefix + definition } }]));
}

function v3Operation(op: Operation, info: ResourceInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {
    tags: [op.tag],
    description: op.description,
    operationId: op.operationId,
  };
  if (op.query.length) out.parameters = op.query.map(v3Parameter);
  if (op.body) {
    out.requestBody = {
      content: op.body.patch ? v3Content(op.body.definition, patchMediaTypes(info)) : v3Content(op.body.definition, ['*/*']),
      required: op.method !== 'delete',
    };
  }
  out.responses = Object.fromEntries(
    op.responses.map((r) => [r.code, r.definition ? { description: r.description, content: v3Content(r.definition) } : { description: r.description }]),
  );
  out['x-kubernetes-action'] = op.action;
  out['x-kubernetes-group-version-kind'] = op.gvk;
  return out;
}

function v3Paths(infos: ResourceInfo[]): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const info of infos) {
    for (const item of pathItemsOf([info])) {
      const entry: Record<string, unknown> = {};
      for (const op of item.operations) entry[op.method] = v3Operation(op, info);
      entry.parameters = item.parameters.map(v3Parameter);
      paths[item.path] = entry;
    }
  }
  return sortedRecord(paths);
}

const bearerToken = {
  type: 'apiKey',
  description: 'Bearer Token authentication',
  name: 'authorization',
  in: 'header',
};

/** The document served at /openapi/v3/apis/<group>/<version> (or /openapi/v3/api/v1). */
export function openapiV3ForGroupVersion(infos: ResourceInfo[]): Record<string, unknown> {
  const builtin = infos.every((info) => info.builtin);
  return {
    openapi: '3.0.0',
    info: builtin ? { title: 'Kubernetes', version: 'unversioned' } : { title: 'Kubernetes CRD Swagger', version: 'v0.1.0' },
    paths: v3Paths(infos),
    components: {
      schemas: definitionsFor(infos),
      securitySchemes: { BearerToken: bearerToken },
    },
    security: [{ BearerToken: [] }],
  };
}

/** "apis/virtflow.io/v1alpha1" or "api/v1": the key and URL suffix of a group-version. */
export function openapiV3PathFor(info: Pick<ResourceInfo, 'group' | 'version'>): string {
  return info.group ? `apis/${groupVersion(info)}` : `api/${info.version}`;
}

export function groupByOpenapiPath(infos: ResourceInfo[]): Map<string, ResourceInfo[]> {
  const byPath = new Map<string, ResourceInfo[]>();
  for (const info of infos) {
    const key = openapiV3PathFor(info);
    byPath.set(key, [...(byPath.get(key) ?? []), info]);
  }
  return byPath;
}

/** Kubernetes' document hash: upper-case hex SHA-512 of the serialized document. */
export function documentHash(document: unknown): string {
  return createHash('sha512').update(JSON.stringify(document)).digest('hex').toUpperCase();
}

/**
 * The /openapi/v3 index. Clients cache each document by its URL, so the hash must change
 * whenever the document does; pass `hashFor` to reuse hashes the server already computed.
 */
export function openapiV3Index(
  infos: ResourceInfo[],
  hashFor?: (path: string, infos: ResourceInfo[]) => string,
): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [path, group] of [...groupByOpenapiPath(infos)].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const hash = hashFor ? hashFor(path, group) : documentHash(openapiV3ForGroupVersion(group));
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  }
  return { paths };
}

// ---------------------------------------------------------------- Swagger 2.0

/**
 * Swagger 2.0 cannot say everything 3.0 can: references move to #/definitions, single-ref
 * allOf becomes a plain $ref, and (as Kubernetes does for v2) nullable fields lose their type
 * and logic junctors are dropped, so v2-based client validation never refuses valid objects.
 */
export function toV2Schema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toV2Schema);
  if (!isPlainObject(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string') out.$ref = value.replace(componentsPrefix, definitionsPrefix);
    else if (key === 'anyOf' || key === 'oneOf' || key === 'not' || key === 'nullable') continue;
    else if (key === 'allOf' && Array.isArray(value) && value.length === 1 && isPlainObject(value[0]) && typeof value[0].$ref === 'string') {
      out.$ref = value[0].$ref.replace(componentsPrefix, definitionsPrefix);
    } else if (key === 'allOf') continue;
    else out[key] = toV2Schema(value);
  }
  if (schema.nullable === true || schema['x-kubernetes-int-or-string'] === true) delete out.type;
  return out;
}

function v2Parameter(p: Parameter): Record<string, unknown> {
  const out: Record<string, unknown> = { uniqueItems: true, type: p.type, description: p.description, name: p.name, in: p.in };
  if (p.required) out.required = true;
  return out;
}

function v2Operation(op: Operation, info: ResourceInfo): Record<string, unknown> {
  const parameters = op.query.map(v2Parameter);
  if (op.body) {
    parameters.unshift({
      name: 'body',
      in: 'body',
      required: op.method !== 'delete',
      schema: { $ref: definitionsPrefix + op.body.definition },
    });
  }
  const out: Record<string, unknown> = {
    description: op.description,
    consumes: op.body?.patch ? patchMediaTypes(info) : ['*/*'],
    produces: mediaTypes,
    schemes: ['https'],
    tags: [op.tag],
    operationId: op.operationId,
  };
  if (parameters.length) out.parameters = parameters;
  out.responses = Object.fromEntries(
    op.responses.map((r) => [r.code, r.definition ? { description: r.description, schema: { $ref: definitionsPrefix + r.definition } } : { description: r.description }]),
  );
  out['x-kubernetes-action'] = op.action;
  out['x-kubernetes-group-version-kind'] = op.gvk;
  return out;
}

/** The single document served at /openapi/v2. */
export function openapiV2(infos: ResourceInfo[], version = 'v1.31.0'): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const info of infos) {
    for (const item of pathItemsOf([info])) {
      const entry: Record<string, unknown> = {};
      for (const op of item.operations) entry[op.method] = v2Operation(op, info);
      entry.parameters = item.parameters.map(v2Parameter);
      paths[item.path] = entry;
    }
  }
  const definitions = Object.fromEntries(Object.entries(definitionsFor(infos)).map(([name, schema]) => [name, toV2Schema(schema)]));
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version },
    paths: sortedRecord(paths),
    definitions,
    securityDefinitions: { BearerToken: bearerToken },
    security: [{ BearerToken: [] }],
  };
}

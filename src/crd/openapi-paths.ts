// The REST operations of one served resource, described once and rendered as OpenAPI v3 or
// Swagger 2.0 by openapi.ts. Kubernetes publishes the same shape for every resource, and
// kubectl relies on details of it: it decides whether the server supports server-side field
// validation and dry run by finding `fieldValidation` / `dryRun` among the query parameters of
// the PATCH operation carrying the kind's x-kubernetes-group-version-kind.

import type { ResourceInfo } from '../machinery/resource.js';
import { definitionNames } from './builtin-schemas.js';

export interface Parameter {
  name: string;
  in: 'query' | 'path';
  description: string;
  type: 'string' | 'boolean' | 'integer';
  required?: boolean;
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface Operation {
  method: 'get' | 'put' | 'post' | 'patch' | 'delete';
  action: 'list' | 'post' | 'deletecollection' | 'get' | 'put' | 'patch' | 'delete';
  operationId: string;
  description: string;
  tag: string;
  query: Parameter[];
  /** Request body definition; `patch` bodies accept the patch media types instead. */
  body?: { definition: string; patch?: boolean };
  responses: Array<{ code: string; description: string; definition?: string }>;
  gvk: GroupVersionKind;
}

export interface PathItem {
  path: string;
  parameters: Parameter[];
  operations: Operation[];
}

const q = (name: string, description: string, type: Parameter['type'] = 'string'): Parameter => ({
  name,
  in: 'query',
  description,
  type,
});

const params = {
  pretty: q('pretty', "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."),
  dryRun: q('dryRun', 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed'),
  fieldManager: q('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.'),
  fieldValidation: q('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.'),
  force: q('force', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.', 'boolean'),
  allowWatchBookmarks: q('allowWatchBookmarks', 'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server\'s discretion.', 'boolean'),
  continue: q('continue', 'The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue).'),
  fieldSelector: q('fieldSelector', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  labelSelector: q('labelSelector', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  limit: q('limit', 'limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.', 'integer'),
  resourceVersion: q('resourceVersion', 'resourceVersion sets a constraint on what resource versions a request may be served from. Defaults to unset.'),
  resourceVersionMatch: q('resourceVersionMatch', 'resourceVersionMatch determines how resourceVersion is applied to list calls. Defaults to unset.'),
  sendInitialEvents: q('sendInitialEvents', '`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection.', 'boolean'),
  timeoutSeconds: q('timeoutSeconds', 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.', 'integer'),
  watch: q('watch', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.', 'boolean'),
  gracePeriodSeconds: q('gracePeriodSeconds', 'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately.', 'integer'),
  orphanDependents: q('orphanDependents', 'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned.', 'boolean'),
  propagationPolicy: q('propagationPolicy', "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. Acceptable values are: 'Orphan', 'Background', 'Foreground'."),
  namespace: { name: 'namespace', in: 'path', required: true, type: 'string', description: 'object name and auth scope, such as for teams and projects' } as Parameter,
};

const listQuery = [
  params.allowWatchBookmarks,
  params.continue,
  params.fieldSelector,
  params.labelSelector,
  params.limit,
  params.resourceVersion,
  params.resourceVersionMatch,
  params.sendInitialEvents,
  params.timeoutSeconds,
  params.watch,
];
const writeQuery = [params.dryRun, params.fieldManager, params.fieldValidation];
const patchQuery = [...writeQuery, params.force];
const deleteQuery = [params.dryRun, params.gracePeriodSeconds, params.orphanDependents, params.propagationPolicy];
const deleteCollectionQuery = [
  params.continue,
  params.dryRun,
  params.fieldSelector,
  params.gracePeriodSeconds,
  params.labelSelector,
  params.limit,
  params.orphanDependents,
  params.propagationPolicy,
  params.resourceVersion,
  params.resourceVersionMatch,
  params.sendInitialEvents,
  params.timeoutSeconds,
];

function upperFirst(text: string): string {
  return text ? text[0]!.toUpperCase() + text.slice(1) : text;
}

/** The group as operation ids and tags spell it: "" -> core, "coordination.k8s.io" -> coordination. */
function groupWord(group: string): string {
  if (!group) return 'core';
  const trimmed = group.endsWith('.k8s.io') ? group.slice(0, -'.k8s.io'.length) : group;
  return trimmed
    .split(/[.-]/)
    .map((part, i) => (i === 0 ? part : upperFirst(part)))
    .join('');
}

export function tagFor(info: Pick<ResourceInfo, 'group' | 'version'>): string {
  return `${groupWord(info.group)}_${info.version}`;
}

export function basePathFor(info: Pick<ResourceInfo, 'group' | 'version'>): string {
  return info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
}

interface Naming {
  info: ResourceInfo;
  definition: string;
  listDefinition: string;
}

/** Every path Kubernetes publishes for one resource, with the operations its verbs allow. */
export function pathItemsFor(info: ResourceInfo, definition: string, listDefinition: string): PathItem[] {
  const naming: Naming = { info, definition, listDefinition };
  const base = basePathFor(info);
  const scope = info.namespaced ? `${base}/namespaces/{namespace}/${info.plural}` : `${base}/${info.plural}`;
  const scopeParams = info.namespaced ? [params.namespace] : [];
  const nameParam: Parameter = { name: 'name', in: 'path', required: true, type: 'string', description: `name of the ${info.kind}` };
  const items: PathItem[] = [
    { path: scope, parameters: [...scopeParams, params.pretty], operations: collectionOperations(naming) },
    { path: `${scope}/{name}`, parameters: [nameParam, ...scopeParams, params.pretty], operations: itemOperations(naming, '') },
  ];
  if (info.subresources.status) {
    items.push({ path: `${scope}/{name}/status`, parameters: [nameParam, ...scopeParams, params.pretty], operations: itemOperations(naming, 'status') });
  }
  if (info.subresources.scale) {
    items.push({ path: `${scope}/{name}/scale`, parameters: [nameParam, ...scopeParams, params.pretty], operations: itemOperations(naming, 'scale') });
  }
  if (info.namespaced && info.verbs.includes('list')) {
    items.push({
      path: `${base}/${info.plural}`,
      parameters: [...listQuery, params.pretty],
      operations: [
        operation(naming, 'get', 'list', `list${operationWord(info)}${info.kind}ForAllNamespaces`, `list or watch objects of kind ${info.kind}`, [], {
          responses: [ok(listDefinition)],
        }),
      ],
    });
  }
  return items.filter((item) => item.operations.length > 0);
}

function operationWord(info: ResourceInfo): string {
  return upperFirst(groupWord(info.group)) + upperFirst(info.version);
}

function ok(definition: string) {
  return { code: '200', description: 'OK', definition };
}

function operation(
  naming: Naming,
  method: Operation['method'],
  action: Operation['action'],
  operationId: string,
  description: string,
  query: Parameter[],
  extra: { body?: Operation['body']; responses: Operation['responses']; gvk?: GroupVersionKind },
): Operation {
  const { info } = naming;
  return {
    method,
    action,
    operationId,
    description,
    tag: tagFor(info),
    query,
    body: extra.body,
    responses: [...extra.responses, { code: '401', description: 'Unauthorized' }],
    gvk: extra.gvk ?? { group: info.group, version: info.version, kind: info.kind },
  };
}

function collectionOperations(naming: Naming): Operation[] {
  const { info, definition, listDefinition } = naming;
  const word = operationWord(info);
  const scoped = `${info.namespaced ? 'Namespaced' : ''}${info.kind}`;
  const ops: Operation[] = [];
  if (info.verbs.includes('list')) {
    ops.push(operation(naming, 'get', 'list', `list${word}${scoped}`, `list or watch objects of kind ${info.kind}`, listQuery, { responses: [ok(listDefinition)] }));
  }
  if (info.verbs.includes('create')) {
    ops.push(operation(naming, 'post', 'post', `create${word}${scoped}`, `create a ${info.kind}`, writeQuery, {
      body: { definition },
      responses: [ok(definition), { code: '201', description: 'Created', definition }, { code: '202', description: 'Accepted', definition }],
    }));
  }
  if (info.verbs.includes('deletecollection')) {
    ops.push(operation(naming, 'delete', 'deletecollection', `deletecollection${word}${scoped}`, `delete collection of ${info.kind}`, deleteCollectionQuery, {
      body: { definition: definitionNames.deleteOptions },
      responses: [ok(definitionNames.status)],
    }));
  }
  return ops;
}

function itemOperations(naming: Naming, subresource: '' | 'status' | 'scale'): Operation[] {
  const { info } = naming;
  const scaleGvk = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
  const definition = subresource === 'scale' ? definitionNames.scale : naming.definition;
  const gvk = subresource === 'scale' ? scaleGvk : undefined;
  const word = operationWord(info);
  const suffix = upperFirst(subresource);
  const scoped = `${info.namespaced ? 'Namespaced' : ''}${info.kind}${suffix}`;
  const what = subresource ? `${subresource} of the specified ${info.kind}` : `the specified ${info.kind}`;
  const ops: Operation[] = [];
  if (info.verbs.includes('get')) {
    ops.push(operation(naming, 'get', 'get', `read${word}${scoped}`, `read ${what}`, [], { responses: [ok(definition)], gvk }));
  }
  if (info.verbs.includes('update')) {
    ops.push(operation(naming, 'put', 'put', `replace${word}${scoped}`, `replace ${what}`, writeQuery, {
      body: { definition },
      responses: [ok(definition), { code: '201', description: 'Created', definition }],
      gvk,
    }));
  }
  if (info.verbs.includes('patch')) {
    ops.push(operation(naming, 'patch', 'patch', `patch${word}${scoped}`, `partially update ${what}`, patchQuery, {
      body: { definition: definitionNames.patch, patch: true },
      responses: [ok(definition), { code: '201', description: 'Created', definition }],
      gvk,
    }));
  }
  if (!subresource && info.verbs.includes('delete')) {
    ops.push(operation(naming, 'delete', 'delete', `delete${word}${scoped}`, `delete ${what}`, deleteQuery, {
      body: { definition: definitionNames.deleteOptions },
      responses: [ok(definitionNames.status), { code: '202', description: 'Accepted', definition: definitionNames.status }],
    }));
  }
  return ops;
}

/** The patch media types a resource accepts; custom resources have no strategic merge. */
export function patchMediaTypes(info: Pick<ResourceInfo, 'builtin'>): string[] {
  const types = ['application/json-patch+json', 'application/merge-patch+json'];
  if (info.builtin) types.push('application/strategic-merge-patch+json');
  types.push('application/apply-patch+yaml');
  return types;
}

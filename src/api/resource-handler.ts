// The HTTP face of the verbs: reads the request (path, query, body, media types), calls
// ObjectService, and answers with the object, a list, a Table, a watch stream or a Status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildTable } from '../crd/table.js';
import type { FieldValidation } from '../crd/validator.js';
import { errors } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import { isPlainObject } from '../machinery/object.js';
import { applyJsonPatch, applyMergePatch } from '../machinery/patch.js';
import { groupVersion, type ResourceInfo } from '../machinery/resource.js';
import { decodeDocument, mediaType, readBody } from './body.js';
import { negotiate, type Representation } from './negotiate.js';
import type { DeleteOptions, ObjectService, UserInfo, WriteOptions } from './object-service.js';
import type { ResourceRequest } from './request-info.js';
import { addWarnings, sendJson, sendObject, sendRaw } from './respond.js';
import { includeObjectOf, queryBool, queryInt } from './query.js';
import { parseSelection } from './selection.js';
import { serveWatch } from './watch.js';
import { isAuditEvents, serveAuditEvents } from '../audit/serve.js';

export interface RequestAttributes {
  verb: string;
  info?: ResourceInfo;
  request?: ResourceRequest;
}

/** Applies server-side apply patches; installed by the server-side apply module. */
export type ApplyPatcher = (
  current: KubeObject | undefined,
  patch: unknown,
  info: ResourceInfo,
  opts: WriteOptions & { force: boolean },
  now: string,
) => KubeObject;

export interface HandlerDeps {
  service: ObjectService;
  bookmarkIntervalMs: number;
  applyPatch?: ApplyPatcher;
}

const PATCH_TYPES = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
  applyCbor: 'application/apply-patch+cbor',
};

function verbOf(method: string, r: ResourceRequest, query: URLSearchParams): string {
  const watching = queryBool(query, 'watch') === true;
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (r.name) return 'get';
      return watching ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return r.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

export function describeRequest(method: string, r: ResourceRequest, query: URLSearchParams, info?: ResourceInfo): RequestAttributes {
  return { verb: verbOf(method, r, query), info, request: r };
}

function fieldValidation(query: URLSearchParams): FieldValidation {
  const value = query.get('fieldValidation');
  if (value === null || value === '') return 'Strict';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw errors.badRequest(`fieldValidation must be one of Ignore, Warn or Strict, got "${value}"`);
}

function dryRun(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  for (const v of values) {
    if (v !== 'All') throw errors.badRequest(`dryRun must be "All", got "${v}"`);
  }
  return values.length > 0;
}

function writeOptions(req: IncomingMessage, query: URLSearchParams, user: UserInfo, subresource?: string): WriteOptions {
  const fieldManager = query.get('fieldManager') ?? undefined;
  if (fieldManager !== undefined && fieldManager.length > 128) {
    throw errors.badRequest('fieldManager must be no more than 128 characters');
  }
  return {
    dryRun: dryRun(query),
    fieldValidation: fieldValidation(query),
    fieldManager,
    user,
    userAgent: String(req.headers['user-agent'] ?? ''),
    subresource,
  };
}

function nonNegativeInt(query: URLSearchParams, name: string): number | undefined {
  return queryInt(query, name, { min: 0 });
}

async function deleteOptionsOf(req: IncomingMessage, query: URLSearchParams): Promise<DeleteOptions> {
  const options: DeleteOptions = {};
  const raw = await readBody(req);
  if (raw.length > 0) {
    const body = decodeDocument(raw, mediaType(req));
    if (!isPlainObject(body)) throw errors.badRequest('the DeleteOptions body must be an object');
    if (body.propagationPolicy !== undefined) options.propagationPolicy = body.propagationPolicy as DeleteOptions['propagationPolicy'];
    if (isPlainObject(body.preconditions)) options.preconditions = body.preconditions as DeleteOptions['preconditions'];
    if (typeof body.gracePeriodSeconds === 'number') options.gracePeriodSeconds = body.gracePeriodSeconds;
    if (Array.isArray(body.dryRun)) for (const v of body.dryRun) query.append('dryRun', String(v));
    if (body.orphanDependents === true) options.propagationPolicy ??= 'Orphan';
  }
  const policy = query.get('propagationPolicy');
  if (policy) options.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
  if (options.propagationPolicy && !['Foreground', 'Background', 'Orphan'].includes(options.propagationPolicy)) {
    throw errors.badRequest(`propagationPolicy must be one of Foreground, Background or Orphan, got "${options.propagationPolicy}"`);
  }
  const grace = nonNegativeInt(query, 'gracePeriodSeconds');
  if (grace !== undefined) options.gracePeriodSeconds = grace;
  return options;
}

function listKindOf(info: ResourceInfo): string {
  return info.listKind;
}

/** One object in the representation asked for; `text` is the object as JSON, when known. */
function sendOne(res: ServerResponse, code: number, obj: KubeObject, info: ResourceInfo, rep: Representation, query: URLSearchParams, text?: string): void {
  if (rep.as === 'object' && rep.format === 'json' && text !== undefined) {
    sendRaw(res, code, text, 'application/json');
  } else if (rep.as === 'table') {
    const table = buildTable(info, [obj], { includeObject: includeObjectOf(query), listMeta: { resourceVersion: obj.metadata.resourceVersion } });
    sendJson(res, code, table, rep.contentType);
  } else if (rep.as === 'metadata') {
    sendJson(res, code, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata }, rep.contentType);
  } else sendObject(res, code, obj, rep.format);
}

export async function handleResource(
  deps: HandlerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  r: ResourceRequest,
  info: ResourceInfo,
  query: URLSearchParams,
  user: UserInfo,
  signal: AbortSignal,
  /** What the authorizer lets this user see of a list or watch (an external controller's objects). */
  visible?: (obj: KubeObject) => boolean,
): Promise<void> {
  const { service } = deps;
  const method = req.method ?? 'GET';
  const verb = verbOf(method, r, query);
  if (r.subresource === 'log' && info.builtin && info.kind === 'Pod' && info.verbs.includes('create') && verb === 'get') {
    const { servePodLog } = await import('../workload/pod-log.js');
    return servePodLog((name) => service.read(info, r.namespace, name), res, r.name!, query);
  }
  // The audit trail is read from its own table, not from the object store.
  if (isAuditEvents(info)) return serveAuditEvents(service.store.db.pool, req, res, r, verb, query);
  if (r.subresource && r.subresource !== 'status' && r.subresource !== 'scale') {
    throw errors.notFound({ group: info.group, resource: `${info.plural}/${r.subresource}` }, r.name ?? '');
  }
  if (r.subresource === 'status' && !info.subresources.status) {
    throw errors.notFound({ group: info.group, resource: `${info.plural}/status` }, r.name ?? '');
  }
  if (r.subresource === 'scale') {
    if (!info.subresources.scale) throw errors.notFound({ group: info.group, resource: `${info.plural}/scale` }, r.name ?? '');
    const { handleScale } = await import('./scale.js');
    return handleScale(deps, req, res, r, info, query, user);
  }
  // Across all namespaces kube-apiserver serves a namespaced resource for list and watch only:
  // a collection DELETE there would empty every namespace at once.
  if (info.namespaced && r.namespace === undefined && !r.name && verb !== 'list' && verb !== 'watch') {
    throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  }
  if (!info.verbs.includes(verb)) {
    throw errors.methodNotAllowed(info.refusal ?? `the server does not allow this method on the requested resource`);
  }
  if (info.namespaced === false && r.namespace !== undefined) {
    throw errors.notFound({ group: info.group, resource: info.plural }, r.name ?? '');
  }
  const namespace = info.namespaced ? r.namespace : undefined;
  const rep = negotiate(req);

  switch (verb) {
    case 'get': {
      const shown = await service.read(info, namespace, r.name!);
      sendOne(res, 200, shown.object, info, rep, query, shown.text);
      return;
    }
    case 'list': {
      const selection = { ...parseSelection(info, query, namespace), visible };
      const result = await service.list(info, selection, {
        limit: nonNegativeInt(query, 'limit'),
        continueToken: query.get('continue') ?? undefined,
        resourceVersion: query.get('resourceVersion') ?? undefined,
        resourceVersionMatch: query.get('resourceVersionMatch') ?? undefined,
      });
      const listMeta: Record<string, unknown> = { resourceVersion: result.resourceVersion };
      if (result.continueToken) listMeta.continue = result.continueToken;
      if (result.remainingItemCount !== undefined) listMeta.remainingItemCount = result.remainingItemCount;
      if (rep.as === 'table') {
        const table = buildTable(info, result.items, {
          includeObject: includeObjectOf(query),
          listMeta: listMeta as { resourceVersion?: string },
        });
        sendJson(res, 200, table, rep.contentType);
      } else if (rep.as === 'metadata') {
        sendJson(
          res,
          200,
          {
            kind: 'PartialObjectMetadataList',
            apiVersion: 'meta.k8s.io/v1',
            metadata: listMeta,
            items: result.items.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata })),
          },
          rep.contentType,
        );
      } else if (rep.format === 'json') {
        // Joined from the stored texts: a large list is not serialized object by object again.
        const head = JSON.stringify({ kind: listKindOf(info), apiVersion: groupVersion(info), metadata: listMeta });
        sendRaw(res, 200, `${head.slice(0, -1)},"items":[${result.texts.join(',')}]}`, 'application/json');
      } else {
        sendObject(res, 200, { kind: listKindOf(info), apiVersion: groupVersion(info), metadata: listMeta, items: result.items }, rep.format);
      }
      return;
    }
    case 'watch': {
      const selection = { ...parseSelection(info, query, namespace), visible };
      await serveWatch(
        service.store,
        res,
        {
          info,
          selection,
          resourceVersion: query.get('resourceVersion') ?? undefined,
          resourceVersionMatch: query.get('resourceVersionMatch') ?? undefined,
          sendInitialEvents: queryBool(query, 'sendInitialEvents'),
          allowBookmarks: queryBool(query, 'allowWatchBookmarks') === true,
          timeoutSeconds: nonNegativeInt(query, 'timeoutSeconds'),
          representation: rep,
          includeObject: includeObjectOf(query),
          bookmarkIntervalMs: deps.bookmarkIntervalMs,
          present: (o) => service.present(o, info),
          waitForRevision: (revision) => service.waitForRevision(revision),
        },
        signal,
      );
      return;
    }
    case 'create': {
      if (r.name) throw errors.methodNotAllowed('POST is not allowed on a named object; use PUT to replace it');
      const body = decodeDocument(await readBody(req), mediaType(req));
      const result = await service.create(info, namespace, body, writeOptions(req, query, user));
      addWarnings(res, result.warnings);
      sendOne(res, 201, result.object, info, rep, query, result.text);
      return;
    }
    case 'update': {
      const body = decodeDocument(await readBody(req), mediaType(req));
      const result = await service.update(info, namespace, r.name!, body, writeOptions(req, query, user, r.subresource));
      addWarnings(res, result.warnings);
      sendOne(res, 200, result.object, info, rep, query, result.text);
      return;
    }
    case 'patch': {
      const type = mediaType(req);
      const raw = await readBody(req);
      const opts = writeOptions(req, query, user, r.subresource);
      if (type === PATCH_TYPES.apply || type === PATCH_TYPES.applyCbor) {
        if (!deps.applyPatch) throw errors.unsupportedMediaType('server-side apply is not enabled on this server');
        if (type === PATCH_TYPES.applyCbor) throw errors.unsupportedMediaType('CBOR apply patches are not supported; send application/apply-patch+yaml');
        const force = queryBool(query, 'force') === true;
        if (!opts.fieldManager) {
          throw errors.badRequest('PATCH with apply requires a fieldManager: add ?fieldManager=<name> (kubectl apply --server-side sets it)');
        }
        const patch = decodeDocument(raw, 'yaml');
        const { applyWrite } = await import('./apply-write.js');
        const result = await applyWrite(deps, info, namespace, r.name!, patch, { ...opts, force });
        addWarnings(res, result.warnings);
        sendOne(res, result.created ? 201 : 200, result.object, info, rep, query);
        return;
      }
      let transform: (current: KubeObject) => unknown;
      if (type === PATCH_TYPES.merge || (type === PATCH_TYPES.strategic && info.builtin)) {
        const patch = decodeDocument(raw, 'json');
        if (!isPlainObject(patch)) throw errors.badRequest('a merge patch must be a JSON object');
        transform = (current) => applyMergePatch(current, patch);
      } else if (type === PATCH_TYPES.json) {
        const patch = decodeDocument(raw, 'json');
        transform = (current) => applyJsonPatch(current, patch);
      } else {
        throw errors.unsupportedMediaType(
          `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.json}, ${PATCH_TYPES.merge}, ${PATCH_TYPES.apply}`,
        );
      }
      const result = await service.patch(info, namespace, r.name!, (current) => transform(current) as KubeObject, opts);
      addWarnings(res, result.warnings);
      sendOne(res, 200, result.object, info, rep, query, result.text);
      return;
    }
    case 'delete': {
      const options = await deleteOptionsOf(req, query);
      const opts = writeOptions(req, query, user);
      const result = await service.delete(info, namespace, r.name!, options, opts);
      if (result.deleted) {
        // Gone at once: kube-apiserver's finalizeDelete answers with a success Status naming
        // it (Kind holds the resource), which kubectl delete --wait reads the uid from.
        sendJson(res, 200, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { name: result.object.metadata.name, group: info.group, kind: info.plural, uid: result.object.metadata.uid },
        });
        return;
      }
      sendOne(res, 200, result.object, info, rep, query);
      return;
    }
    case 'deletecollection': {
      const options = await deleteOptionsOf(req, query);
      const selection = parseSelection(info, query, namespace);
      const deleted = await service.deleteCollection(info, selection, options, writeOptions(req, query, user));
      sendObject(res, 200, { kind: listKindOf(info), apiVersion: groupVersion(info), metadata: {}, items: deleted }, rep.as === 'object' ? rep.format : 'json');
      return;
    }
    default:
      throw errors.methodNotAllowed(`the server does not allow the method ${method} on this resource`);
  }
}

// The scale subresource (autoscaling/v1 Scale) of custom resources that declare one: reads and
// writes the replica count at the paths the CRD names.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { evaluateJsonPath } from '../crd/jsonpath.js';
import { errors } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import { isPlainObject } from '../machinery/object.js';
import { applyJsonPatch, applyMergePatch } from '../machinery/patch.js';
import type { ResourceInfo } from '../machinery/resource.js';
import { decodeDocument, mediaType, readBody } from './body.js';
import type { UserInfo } from './object-service.js';
import type { ResourceRequest } from './request-info.js';
import type { HandlerDeps } from './resource-handler.js';
import { sendJson } from './respond.js';

function pathParts(jsonPath: string): string[] {
  return jsonPath.replace(/^\./, '').split('.');
}

function scaleOf(obj: KubeObject, info: ResourceInfo) {
  const scale = info.subresources.scale!;
  const specReplicas = evaluateJsonPath(scale.specReplicasPath, obj)[0];
  const statusReplicas = evaluateJsonPath(scale.statusReplicasPath, obj)[0];
  const selector = scale.labelSelectorPath ? evaluateJsonPath(scale.labelSelectorPath, obj)[0] : undefined;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: typeof specReplicas === 'number' ? specReplicas : 0 },
    status: {
      replicas: typeof statusReplicas === 'number' ? statusReplicas : 0,
      ...(typeof selector === 'string' ? { selector } : {}),
    },
  };
}

function setReplicas(obj: KubeObject, jsonPath: string, replicas: number): KubeObject {
  const parts = pathParts(jsonPath);
  let node: Record<string, unknown> = obj;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = replicas;
  return obj;
}

export async function handleScale(
  deps: HandlerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  r: ResourceRequest,
  info: ResourceInfo,
  query: URLSearchParams,
  user: UserInfo,
): Promise<void> {
  const { service } = deps;
  const namespace = info.namespaced ? r.namespace : undefined;
  if (!r.name) throw errors.methodNotAllowed('the scale subresource needs an object name');
  const method = req.method ?? 'GET';
  if (method === 'GET') {
    sendJson(res, 200, scaleOf(await service.get(info, namespace, r.name), info));
    return;
  }
  if (method !== 'PUT' && method !== 'PATCH') throw errors.methodNotAllowed(`${method} is not allowed on the scale subresource`);
  const type = mediaType(req);
  const body = decodeDocument(await readBody(req), type);
  const opts = {
    dryRun: query.getAll('dryRun').length > 0,
    fieldValidation: 'Strict' as const,
    fieldManager: query.get('fieldManager') ?? undefined,
    user,
    userAgent: String(req.headers['user-agent'] ?? ''),
  };
  const result = await service.patch(info, namespace, r.name, (current) => {
    const currentScale = scaleOf(current, info);
    let wanted: unknown;
    if (method === 'PUT') wanted = body;
    else if (type === 'application/json-patch+json') wanted = applyJsonPatch(currentScale, body);
    else wanted = applyMergePatch(currentScale, body);
    const replicas = (wanted as { spec?: { replicas?: unknown } })?.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw errors.invalid('Scale', 'autoscaling', r.name!, [
        { type: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be a non-negative integer` },
      ]);
    }
    const rv = (wanted as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
    if (method === 'PUT' && rv && rv !== current.metadata.resourceVersion) {
      throw errors.conflict({ group: info.group, resource: info.plural }, r.name!, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return setReplicas(current, info.subresources.scale!.specReplicasPath, replicas);
  }, opts);
  sendJson(res, 200, scaleOf(result.object, info));
}

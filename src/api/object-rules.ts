// The rules every write follows before it reaches storage: what a client may set in metadata,
// what the server sets, how the main resource and /status divide an object, and when
// metadata.generation moves. Kind-specific rules live in kind-rules.ts.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { errors, type StatusCause } from '../machinery/errors.js';
import { clone, type KubeObject, type ObjectMeta } from '../machinery/object.js';
import { isPlainObject } from '../machinery/object.js';
import { groupVersion, type ResourceInfo } from '../machinery/resource.js';

/** The fields a client controls on update; everything else in metadata is the server's. */
const SYSTEM_METADATA = ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'selfLink'] as const;

export function describe(info: ResourceInfo): { kind: string; group: string; resource: string } {
  return { kind: info.kind, group: info.group, resource: info.plural };
}

/** Checks the decoded body is an object of this resource, in this namespace, with this name. */
export function checkEnvelope(
  body: unknown,
  info: ResourceInfo,
  where: { namespace?: string; name?: string; requireName?: boolean },
): KubeObject {
  if (!isPlainObject(body)) throw errors.badRequest('the request body must be a JSON or YAML object');
  const expected = groupVersion(info);
  if (body.apiVersion === undefined || body.apiVersion === '') body.apiVersion = expected;
  if (body.kind === undefined || body.kind === '') body.kind = info.kind;
  if (typeof body.apiVersion !== 'string' || typeof body.kind !== 'string') {
    throw errors.badRequest('apiVersion and kind must be strings');
  }
  if (body.kind !== info.kind) {
    throw errors.badRequest(`the kind in the body (${body.kind}) does not match the kind of this resource (${info.kind})`);
  }
  if (body.apiVersion !== expected) {
    throw errors.badRequest(
      `the API version in the data (${body.apiVersion}) does not match the expected API version (${expected})`,
    );
  }
  if (body.metadata === undefined || body.metadata === null) body.metadata = {};
  if (!isPlainObject(body.metadata)) throw errors.badRequest('metadata must be an object');
  const meta = body.metadata as ObjectMeta;
  if (info.namespaced) {
    if (meta.namespace === undefined || meta.namespace === '') meta.namespace = where.namespace;
    else if (where.namespace !== undefined && meta.namespace !== where.namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
  } else if (meta.namespace) {
    delete meta.namespace;
  }
  if (where.name !== undefined && meta.name !== undefined && meta.name !== where.name) {
    throw errors.badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${where.name})`);
  }
  if (where.name !== undefined && (meta.name === undefined || meta.name === '')) {
    // An update names its object in the body as well as on the URL, as kube-apiserver's checkName wants.
    if (where.requireName) {
      throw errors.badRequest(`the name of the object () does not match the name on the URL (${where.name})`);
    }
    meta.name = where.name;
  }
  return body as KubeObject;
}

/** Server-set metadata for a new object. */
export function initializeMetadata(obj: KubeObject, info: ResourceInfo, now: string): void {
  const meta = obj.metadata;
  meta.uid = randomUUID();
  meta.creationTimestamp = now;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  delete meta.selfLink;
  delete meta.resourceVersion;
  if (tracksGeneration(info)) meta.generation = 1;
  else delete meta.generation;
}

/** Custom resources and a few built-ins count spec changes in metadata.generation. */
export function tracksGeneration(info: ResourceInfo): boolean {
  return !info.builtin || info.kind === 'CustomResourceDefinition' || info.tracksGeneration === true;
}

/** Keeps what the client may not change on update from the stored object. */
export function carryOverMetadata(next: KubeObject, current: KubeObject): void {
  for (const field of SYSTEM_METADATA) {
    const value = current.metadata[field];
    if (value === undefined) delete next.metadata[field];
    else (next.metadata as Record<string, unknown>)[field] = value;
  }
  if (next.metadata.managedFields === undefined && current.metadata.managedFields !== undefined) {
    next.metadata.managedFields = current.metadata.managedFields;
  }
}

/** ObjectMeta's fields that are `omitempty` lists, maps or strings. */
const OMIT_EMPTY_METADATA = ['labels', 'annotations', 'finalizers', 'ownerReferences', 'managedFields', 'generateName', 'namespace'] as const;

/**
 * Drops empty maps, lists and strings from metadata, as a round trip through the typed
 * ObjectMeta does in Kubernetes: `annotations: {}` or `finalizers: []` are never stored.
 */
export function normalizeObjectMeta(obj: KubeObject): void {
  const meta = obj.metadata as Record<string, unknown>;
  for (const field of OMIT_EMPTY_METADATA) {
    const value = meta[field];
    if (value === null || value === '') delete meta[field];
    else if (Array.isArray(value) && value.length === 0) delete meta[field];
    else if (isPlainObject(value) && Object.keys(value).length === 0) delete meta[field];
  }
}

/**
 * Everything but metadata (and status, when the kind has a status subresource): what a change
 * of bumps metadata.generation. Without the subresource status is an ordinary field.
 */
function specPart(obj: KubeObject, info: ResourceInfo): Record<string, unknown> {
  const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = obj;
  if (info.subresources.status) delete rest.status;
  return rest;
}

export function bumpGenerationIfSpecChanged(next: KubeObject, current: KubeObject, info: ResourceInfo): void {
  if (!tracksGeneration(info)) return;
  const base = current.metadata.generation ?? 1;
  next.metadata.generation = isDeepStrictEqual(specPart(next, info), specPart(current, info)) ? base : base + 1;
}

/**
 * What ValidateObjectMetaUpdate refuses that carryOverMetadata would otherwise hide: a new uid
 * (on a patch; PUT treats it as a precondition), a deletionTimestamp set by an update, and new
 * finalizers on an object that is being deleted.
 */
export function immutableMetadataCauses(next: KubeObject, current: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const uid = next.metadata.uid;
  if (uid !== undefined && uid !== '' && uid !== current.metadata.uid) {
    causes.push({ type: 'FieldValueInvalid', field: 'metadata.uid', message: `Invalid value: ${JSON.stringify(uid)}: field is immutable` });
  }
  const deletion = next.metadata.deletionTimestamp;
  if (current.metadata.deletionTimestamp === undefined && deletion !== undefined && deletion !== null) {
    causes.push({
      type: 'FieldValueInvalid',
      field: 'metadata.deletionTimestamp',
      message: `Invalid value: ${JSON.stringify(deletion)}: field is immutable`,
    });
  }
  if (current.metadata.deletionTimestamp !== undefined && Array.isArray(next.metadata.finalizers)) {
    const old = new Set(current.metadata.finalizers ?? []);
    const added = [...new Set(next.metadata.finalizers.filter((f) => !old.has(f)))].sort();
    if (added.length > 0) {
      causes.push({
        type: 'FieldValueForbidden',
        field: 'metadata.finalizers',
        message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`,
      });
    }
  }
  return causes;
}

/** A write to the main resource never changes status; a write to /status changes only status. */
export function splitForSubresource(next: KubeObject, current: KubeObject | undefined, info: ResourceInfo, subresource?: string): KubeObject {
  if (!info.subresources.status) return next;
  if (subresource === 'status') {
    if (!current) return next;
    // A copy of the stored object, metadata whole, with the new status in the place of the old.
    const merged = {} as KubeObject;
    for (const key of Object.keys(current)) merged[key] = key === 'status' ? next.status : clone(current[key]);
    if (next.status === undefined) delete merged.status;
    else merged.status = next.status;
    return merged;
  }
  if (current === undefined) {
    delete next.status;
  } else if (current.status === undefined) delete next.status;
  else next.status = clone(current.status);
  return next;
}

export function invalid(info: ResourceInfo, name: string, causes: StatusCause[]) {
  return errors.invalid(info.kind, info.group, name, causes);
}

export function isBeingDeleted(obj: KubeObject): boolean {
  return obj.metadata.deletionTimestamp !== undefined;
}

export function hasFinalizers(obj: KubeObject): boolean {
  return (obj.metadata.finalizers?.length ?? 0) > 0;
}

// Server-side apply: merge an applied configuration into the live object and move field
// ownership, after merge.Updater.Apply and the fieldmanager layers around it.

import { errors } from '../machinery/errors.js';
import { clone, type KubeObject } from '../machinery/object.js';
import { isPlainObject } from '../machinery/object.js';
import type { JSONSchemaProps } from '../machinery/resource.js';
import { compareObjects } from './compare.js';
import { conflictError, type Conflict } from './conflict.js';
import { fieldSetOf } from './field-set-of.js';
import { FieldSet } from './fieldset.js';
import { deepEqual } from './json.js';
import { fieldsStillAsLastApplied, kubectlApplyManager, syncLastApplied } from './last-applied.js';
import {
  capUpdateManagers,
  decodeOrEmpty,
  encodeManagedFields,
  managerIdentifier,
  type Managers,
} from './managed-fields.js';
import { mergeValues, withoutNulls } from './merge-values.js';
import { pruneUnowned } from './prune.js';
import { ListItemError, rootSchema } from './schema-walk.js';

export interface ApplyOptions {
  force: boolean;
  /** The kind's openAPIV3Schema; omit for kinds served without one. */
  schema?: JSONSchemaProps;
  /** RFC 3339 time stamped on the applier's entry when the object changes. */
  now: string;
  /** The group/version the request was made in, recorded on the entry. */
  apiVersion: string;
  /** "status" when applying through /status. */
  subresource?: string;
  /**
   * Fields this endpoint resets and so never records or conflicts on: `status` for the main
   * resource of a kind with a status subresource, `spec` through /status. See resetFieldsFor.
   */
  resetFields?: FieldSet;
}

export interface ApplyResult {
  object: KubeObject;
  /** False when the apply changed nothing but ownership; the caller may skip the write. */
  changed: boolean;
}

/**
 * Applies `applied` as `manager`. Throws ApiError 409 (reason Conflict, one
 * FieldManagerConflict cause per field) when another manager owns a field this would change
 * and force is off, and 400 when the configuration is malformed (managedFields set, a
 * map-list item without its key, duplicate items).
 */
export function applyObject(live: KubeObject | undefined, applied: KubeObject, manager: string, opts: ApplyOptions): ApplyResult {
  if (applied.metadata?.managedFields !== undefined && applied.metadata.managedFields !== null) {
    throw errors.badRequest('metadata.managedFields must be nil');
  }
  const schema = rootSchema(opts.schema);
  const reset = opts.resetFields ?? new FieldSet();
  const liveBody = live ? withoutManagedFields(live) : emptyLike(applied);
  const config = withoutNulls(applied) as KubeObject;

  let appliedSet: FieldSet;
  let merged: KubeObject;
  try {
    appliedSet = fieldSetOf(config, opts.schema).recursiveDifference(reset);
    merged = mergeValues(liveBody, config, schema) as KubeObject;
  } catch (err) {
    if (err instanceof ListItemError) throw errors.badRequest(`failed to create typed patch object: ${err.message}`);
    throw err;
  }

  const managers = decodeOrEmpty(live?.metadata?.managedFields);
  const id = managerIdentifier({ manager, operation: 'Apply', subresource: opts.subresource });
  const previous = managers.get(id);
  managers.set(id, {
    manager,
    operation: 'Apply',
    apiVersion: opts.apiVersion,
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
    ...(previous?.time ? { time: previous.time } : {}),
    set: appliedSet,
  });
  merged = pruneUnowned(merged, previous?.set, allOwned(managers), schema) as KubeObject;

  const diff = compareObjects(liveBody, merged, opts.schema, reset);
  const changedFields = diff.modified.union(diff.added);
  let conflicts = findConflicts(managers, id, changedFields);
  if (conflicts.length > 0 && !opts.force) {
    conflicts = withoutClientSideApplyConflicts(conflicts, manager, live, opts);
    if (conflicts.length > 0) throw conflictError(conflicts);
  }

  for (const [otherId, other] of managers) {
    if (otherId === id) continue;
    other.set = other.set.difference(changedFields).difference(diff.removed);
  }
  if (live) syncLastApplied(merged, applied, manager);

  const changed = !deepEqual(liveBody, merged);
  const entry = managers.get(id)!;
  if (changed || !entry.time) entry.time = opts.now;
  setManagedFields(merged, capUpdateManagers(managers));
  return { object: merged, changed };
}

function findConflicts(managers: Managers, self: string, changed: FieldSet): Conflict[] {
  const conflicts: Conflict[] = [];
  for (const [otherId, other] of managers) {
    if (otherId === self) continue;
    for (const path of other.set.intersection(changed).paths()) conflicts.push({ manager: other, path });
  }
  return conflicts;
}

// kubectl switching from client-side to server-side apply may take the fields its
// client-side self last applied, as long as they still hold the last-applied values.
function withoutClientSideApplyConflicts(
  conflicts: Conflict[],
  manager: string,
  live: KubeObject | undefined,
  opts: ApplyOptions,
): Conflict[] {
  if (manager !== kubectlApplyManager || !live) return conflicts;
  const allowed = fieldsStillAsLastApplied(withoutManagedFields(live), opts.apiVersion, opts.schema);
  if (!allowed) return conflicts;
  return conflicts.filter((c) => !allowed.has(c.path));
}

function allOwned(managers: Managers): FieldSet {
  let owned = new FieldSet();
  for (const m of managers.values()) owned = owned.union(m.set);
  return owned;
}

/** The object with its ownership written back; no entries means no managedFields at all. */
export function setManagedFields(obj: KubeObject, managers: Managers): void {
  const entries = encodeManagedFields(managers);
  if (entries.length > 0) obj.metadata.managedFields = entries;
  else delete obj.metadata.managedFields;
}

export function withoutManagedFields(obj: KubeObject): KubeObject {
  const copy = clone(obj);
  if (isPlainObject(copy.metadata)) delete copy.metadata.managedFields;
  else copy.metadata = {};
  return copy;
}

// Apply on create merges into an empty object of the kind, as the apiserver does.
function emptyLike(applied: KubeObject): KubeObject {
  return { apiVersion: applied.apiVersion, kind: applied.kind, metadata: {} };
}

/**
 * The fields an endpoint resets, to pass as resetFields: the main resource of a kind with a
 * status subresource ignores status; the status subresource ignores spec.
 */
export function resetFieldsFor(subresource: string | undefined, hasStatusSubresource: boolean): FieldSet {
  if (subresource === 'status') return FieldSet.of([['f:spec']]);
  return hasStatusSubresource ? FieldSet.of([['f:status']]) : new FieldSet();
}

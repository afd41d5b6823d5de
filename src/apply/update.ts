// Ownership for every write that is not an apply (create, update, merge and JSON patch):
// whoever changes a field takes it, without conflicts, after merge.Updater.Update and the
// managedFieldsUpdater layer.

import { isPlainObject, type KubeObject, type ManagedFieldsEntry } from '../machinery/object.js';
import type { JSONSchemaProps } from '../machinery/resource.js';
import { addedFields, addedFieldsV1, compareObjects } from './compare.js';
import { FieldSet } from './fieldset.js';
import { fieldManagerMaxLength, capUpdateManagers, decodeManagedFields, decodeOrEmpty, encodeManagedFields, isResetManagedFields, managedFieldsEntry, managerIdentifier, type Managers } from './managed-fields.js';

export interface UpdateOptions {
  operation: 'Update';
  now: string;
  apiVersion: string;
  subresource?: string;
  schema?: JSONSchemaProps;
  /** See ApplyOptions.resetFields. */
  resetFields?: FieldSet;
}

/**
 * The managedFields to store with `newObj` after a non-apply write by `manager`. `oldObj` is
 * undefined on create. An empty result means the object carries no managedFields.
 *
 * Client-sent managedFields in `newObj` are honoured when they decode; `[]` or `[{}]` clears
 * all ownership; absent or unreadable ones (and anything sent through a subresource) fall
 * back to the stored ones, so clients that do not know the field cannot erase it.
 */
export function recordUpdate(
  oldObj: KubeObject | undefined,
  newObj: KubeObject,
  manager: string,
  opts: UpdateOptions,
): ManagedFieldsEntry[] {
  const managers = startingOwnership(oldObj, newObj, opts.subresource);
  // A new object that brings no ownership of its own, as nearly every create does: the
  // writer owns everything it set, and that is written out directly.
  if (!oldObj && managers.size === 0) return createdOwnership(newObj, manager, opts);
  const reset = opts.resetFields ?? new FieldSet();
  const diff = oldObj
    ? compareObjects(bodyOf(oldObj), bodyOf(newObj), opts.schema, reset)
    : { added: addedFields(bodyOf(newObj), opts.schema, reset), modified: new FieldSet(), removed: new FieldSet() };
  const changed = diff.modified.union(diff.added);

  for (const other of managers.values()) {
    other.set = other.set.difference(changed).difference(diff.removed);
  }
  if (!changed.isEmpty()) {
    const id = managerIdentifier({ manager, operation: 'Update', apiVersion: opts.apiVersion, subresource: opts.subresource });
    const previous = managers.get(id);
    managers.set(id, {
      manager,
      operation: 'Update',
      apiVersion: opts.apiVersion,
      ...(opts.subresource ? { subresource: opts.subresource } : {}),
      time: opts.now,
      set: previous ? previous.set.union(changed) : changed,
    });
  }
  return encodeManagedFields(capUpdateManagers(managers));
}

function createdOwnership(newObj: KubeObject, manager: string, opts: UpdateOptions): ManagedFieldsEntry[] {
  const fieldsV1 = addedFieldsV1(bodyOf(newObj), opts.schema, opts.resetFields);
  if (Object.keys(fieldsV1).length === 0) return [];
  return [managedFieldsEntry({ manager, operation: 'Update', apiVersion: opts.apiVersion, subresource: opts.subresource, time: opts.now }, fieldsV1)];
}

/**
 * The object as compared: managedFields left out. A shallow view, not a copy, because the
 * comparison only reads it; this runs on every write.
 */
function bodyOf(obj: KubeObject): KubeObject {
  if (!isPlainObject(obj.metadata)) return { ...obj, metadata: {} };
  const { managedFields: _managedFields, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

function startingOwnership(oldObj: KubeObject | undefined, newObj: KubeObject, subresource: string | undefined): Managers {
  if (subresource) return decodeOrEmpty(oldObj?.metadata?.managedFields);
  const sent = newObj.metadata?.managedFields;
  if (isResetManagedFields(sent)) return new Map();
  let decoded: Managers | undefined;
  try {
    decoded = decodeManagedFields(sent);
  } catch {
    // Unreadable ones are ignored, as if none had been sent.
  }
  return decoded !== undefined && decoded.size > 0 ? decoded : decodeOrEmpty(oldObj?.metadata?.managedFields);
}

/**
 * The manager name Kubernetes derives from a request without ?fieldManager=: the user agent
 * up to its first "/", printable characters only, at most 128 bytes
 * ("kubectl-client-side-apply/v1.31.0 (linux/amd64) kubernetes/abc" -> "kubectl-client-side-apply").
 */
export function managerFromUserAgent(userAgent: string): string {
  const head = userAgent.split('/')[0] ?? '';
  let out = '';
  for (const ch of head) {
    if (!(ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch))) continue;
    if (Buffer.byteLength(out + ch) > fieldManagerMaxLength) break;
    out += ch;
  }
  return out;
}

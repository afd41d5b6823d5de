// metadata.managedFields in and out: decoding entries into per-manager field sets, writing
// them back in the order the apiserver writes them, and validating what a client sent.

import type { ManagedFieldsEntry } from '../machinery/object.js';
import { isPlainObject } from '../machinery/object.js';
import type { StatusCause } from '../machinery/errors.js';
import { FieldSet } from './fieldset.js';

export type Operation = 'Apply' | 'Update';

/** One manager's ownership: the identity of an entry plus its decoded field set. */
export interface ManagerSet {
  manager: string;
  operation: Operation;
  apiVersion: string;
  subresource?: string;
  time?: string;
  set: FieldSet;
}

/** Keyed by managerIdentifier. */
export type Managers = Map<string, ManagerSet>;

/** The name older update entries are folded into when there are too many (capmanagers.go). */
export const ancientChangesManager = 'ancient-changes';
export const maxUpdateManagers = 10;
export const fieldManagerMaxLength = 128;
const maxSubresourceNameLength = 256;

/**
 * Which entry a write lands in, as BuildManagerIdentifier decides: time never counts, and an
 * applier keeps one entry across API versions while an updater has one per version.
 */
export function managerIdentifier(e: { manager: string; operation: Operation; apiVersion?: string; subresource?: string }): string {
  return JSON.stringify({
    manager: e.manager,
    operation: e.operation,
    apiVersion: e.operation === 'Apply' ? '' : (e.apiVersion ?? ''),
    subresource: e.subresource ?? '',
  });
}

/** `[]` or `[{}]` sent by a client means "forget all ownership" (isResetManagedFields). */
export function isResetManagedFields(managedFields: unknown): boolean {
  if (!Array.isArray(managedFields)) return false;
  if (managedFields.length === 0) return true;
  return managedFields.length === 1 && isPlainObject(managedFields[0]) && Object.keys(managedFields[0]).length === 0;
}

/** Decodes stored entries; throws an Error when one cannot be understood. */
export function decodeManagedFields(entries: unknown): Managers {
  const managers: Managers = new Map();
  if (entries === undefined || entries === null) return managers;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  entries.forEach((raw, i) => {
    if (!isPlainObject(raw)) throw new Error(`managed fields entry ${i} must be an object`);
    const e = raw as ManagedFieldsEntry;
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    if (typeof e.apiVersion !== 'string' || e.apiVersion === '') throw new Error('apiVersion must not be empty');
    if (e.fieldsType === undefined || (e.fieldsType as string) === '') throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${JSON.stringify(e.fieldsType)} in managed fields entry ${i}`);
    const set = e.fieldsV1 === undefined ? new FieldSet() : FieldSet.fromFieldsV1(e.fieldsV1);
    const entry: ManagerSet = {
      manager: typeof e.manager === 'string' ? e.manager : '',
      operation: e.operation,
      apiVersion: e.apiVersion,
      set,
    };
    if (e.subresource) entry.subresource = e.subresource;
    if (e.time) entry.time = e.time;
    managers.set(managerIdentifier(entry), entry);
  });
  return managers;
}

/** Decodes, treating unreadable stored entries as no ownership at all (decodeLiveManagedFields). */
export function decodeOrEmpty(entries: unknown): Managers {
  try {
    return decodeManagedFields(entries);
  } catch {
    return new Map();
  }
}

/**
 * Entries as the apiserver writes them: empty sets dropped, Apply before Update, then
 * oldest first, then by manager, apiVersion and subresource.
 */
export function encodeManagedFields(managers: Managers): ManagedFieldsEntry[] {
  const live = [...managers.values()].filter((m) => !m.set.isEmpty());
  live.sort(
    (a, b) =>
      cmp(a.operation, b.operation) ||
      seconds(a.time) - seconds(b.time) ||
      cmp(a.manager, b.manager) ||
      cmp(a.apiVersion, b.apiVersion) ||
      cmp(a.subresource ?? '', b.subresource ?? ''),
  );
  return live.map((m) => managedFieldsEntry(m, m.set.toFieldsV1()));
}

/** One stored entry, its members in the order Kubernetes writes them. */
export function managedFieldsEntry(m: Omit<ManagerSet, 'set'>, fieldsV1: Record<string, unknown>): ManagedFieldsEntry {
  const entry: ManagedFieldsEntry = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion };
  if (m.time) entry.time = m.time;
  entry.fieldsType = 'FieldsV1';
  entry.fieldsV1 = fieldsV1;
  if (m.subresource) entry.subresource = m.subresource;
  return entry;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function seconds(time: string | undefined): number {
  if (!time) return 0;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/**
 * Keeps at most `max` Update entries by folding the oldest into one "ancient-changes" entry
 * per API version, the way capmanagers.go bounds managedFields growth.
 */
export function capUpdateManagers(managers: Managers, max = maxUpdateManagers): Managers {
  const updaters = [...managers.entries()].filter(([, m]) => m.operation === 'Update');
  if (updaters.length <= max) return managers;
  updaters.sort(([ia, a], [ib, b]) => seconds(a.time) - seconds(b.time) || cmp(ia, ib));
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (const [id, m] of updaters) {
    if (length <= max) break;
    const bucketId = managerIdentifier({ manager: ancientChangesManager, operation: 'Update', apiVersion: m.apiVersion });
    const first = firstOfVersion.get(m.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(m.apiVersion, id);
      continue;
    }
    let bucket = managers.get(bucketId);
    if (!bucket) {
      const firstSet = managers.get(first)!;
      managers.delete(first);
      bucket = { manager: ancientChangesManager, operation: 'Update', apiVersion: m.apiVersion, set: firstSet.set };
      managers.set(bucketId, bucket);
    }
    bucket.set = bucket.set.union(m.set);
    if (m.time) bucket.time = m.time;
    managers.delete(id);
    length--;
  }
  return managers;
}

/**
 * Field errors in client-sent managedFields, as ValidateManagedFields reports them; each
 * cause is ready for errors.invalid(). Call it on the managedFields about to be stored.
 */
export function extractManagedFieldsErrors(managedFields: unknown): StatusCause[] {
  const base = 'metadata.managedFields';
  if (managedFields === undefined || managedFields === null) return [];
  if (!Array.isArray(managedFields)) {
    return [{ type: 'FieldValueInvalid', field: base, message: 'Invalid value: must be a list of ManagedFieldsEntry' }];
  }
  const causes: StatusCause[] = [];
  managedFields.forEach((raw, i) => {
    const at = `${base}[${i}]`;
    if (!isPlainObject(raw)) {
      causes.push({ type: 'FieldValueInvalid', field: at, message: 'Invalid value: must be an object' });
      return;
    }
    const operation = raw.operation ?? '';
    if (operation !== 'Apply' && operation !== 'Update') {
      causes.push(invalid(`${at}.operation`, operation, 'must be `Apply` or `Update`'));
    }
    const fieldsType = raw.fieldsType ?? '';
    if (fieldsType !== '' && fieldsType !== 'FieldsV1') {
      causes.push(invalid(`${at}.fieldsType`, fieldsType, 'must be `FieldsV1`'));
    }
    const manager = raw.manager ?? '';
    if (typeof manager !== 'string') {
      causes.push(invalid(`${at}.manager`, manager, 'must be a string'));
    } else {
      if (Buffer.byteLength(manager) > fieldManagerMaxLength) {
        causes.push({ type: 'FieldValueTooLong', field: `${at}.manager`, message: `Too long: may not be more than ${fieldManagerMaxLength} bytes` });
      }
      let position = 0;
      for (const ch of manager) {
        if (!isPrintable(ch)) {
          const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
          causes.push(invalid(`${at}.manager`, manager, `invalid character U+${code} (at position ${position})`));
        }
        position += Buffer.byteLength(ch);
      }
    }
    const subresource = raw.subresource ?? '';
    if (typeof subresource === 'string' && Buffer.byteLength(subresource) > maxSubresourceNameLength) {
      causes.push({ type: 'FieldValueTooLong', field: `${at}.subresource`, message: `Too long: may not be more than ${maxSubresourceNameLength} bytes` });
    }
  });
  return causes;
}

function invalid(field: string, value: unknown, detail: string): StatusCause {
  const shown = JSON.stringify(value) ?? String(value);
  return { type: 'FieldValueInvalid', field, message: `Invalid value: ${shown}: ${detail}` };
}

// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
function isPrintable(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

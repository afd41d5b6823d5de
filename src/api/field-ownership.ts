// Wires server-side apply's field ownership (src/apply) into the write path: every non-apply
// write records its changed fields under the request's field manager, and apply patches merge
// by ownership.
import {
  applyObject,
  managerFromUserAgent,
  recordUpdate,
  resetFieldsFor,
} from '../apply/index.js';
import type { KubeObject } from '../machinery/object.js';
import { groupVersion, type ResourceInfo } from '../machinery/resource.js';
import type { FieldOwnership, WriteOptions } from './object-service.js';
import type { ApplyPatcher } from './resource-handler.js';

export function managerOf(opts: WriteOptions): string {
  return opts.fieldManager ?? managerFromUserAgent(opts.userAgent);
}

export const updateOwnership: FieldOwnership = {
  recordUpdate(before: KubeObject | undefined, after: KubeObject, info: ResourceInfo, opts: WriteOptions, now: string) {
    const entries = recordUpdate(before, after, managerOf(opts), {
      operation: 'Update',
      now,
      apiVersion: groupVersion(info),
      subresource: opts.subresource,
      schema: info.schema,
      resetFields: resetFieldsFor(opts.subresource, info.subresources.status),
    });
    if (entries.length > 0) after.metadata.managedFields = entries;
    else delete after.metadata.managedFields;
  },
};

export const applyPatch: ApplyPatcher = (current, patch, info, opts, now) =>
  applyObject(current, patch as KubeObject, managerOf(opts), {
    force: opts.force,
    schema: info.schema,
    now,
    apiVersion: groupVersion(info),
    subresource: opts.subresource,
    resetFields: resetFieldsFor(opts.subresource, info.subresources.status),
  }).object;

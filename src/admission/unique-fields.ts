// A Baremetal's serialNumber and a Maintainer's account are unique (API.md). Checked here
// against the cache so that a dry run and an ordinary duplicate get the answer before any
// write; the database's unique index (store/unique-fields.ts) decides concurrent writes.
import type { Admitter } from '../api/object-service.js';
import { resourceId } from '../api/registry.js';
import type { WatchCache } from '../store/watch-cache.js';
import { duplicateValueError, UNIQUE_FIELDS, uniqueValueOf } from '../store/unique-fields.js';

export function uniqueFieldsAdmitter(cache: WatchCache): Admitter {
  return {
    admit({ operation, info, object, oldObject, subresource }) {
      if (operation === 'DELETE' || subresource) return;
      const resource = resourceId(info);
      for (const field of UNIQUE_FIELDS) {
        if (field.resource !== resource) continue;
        const value = uniqueValueOf(field, object);
        if (value === undefined || (oldObject && uniqueValueOf(field, oldObject) === value)) continue;
        const name = object.metadata.name ?? '';
        const holder = cache.list(resource).find((e) => e.name !== name && uniqueValueOf(field, e.object) === value);
        if (holder) throw duplicateValueError(field, name, value, holder.name);
      }
    },
  };
}

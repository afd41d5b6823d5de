// Writing status the way controllers must: through the status subresource (so a controller
// never overwrites a user's spec change), only when something changed (a no-op write would
// wake every watcher and reconcile again, forever), and with conflicts resolved by reading
// the object again and re-applying the same change.
import { isDeepStrictEqual } from 'node:util';
import { clone, type KubeObject } from '../machinery/object.js';
import { isConflict, type ObjectClient, type RequestOptions } from './client.js';
import type { ResourceType } from './resource.js';

export interface UpdateStatusOptions extends RequestOptions {
  /** Tries before a conflict is given up on (and thrown for a rate-limited retry). */
  attempts?: number;
}

/**
 * Applies `mutate` to a copy of `obj` and writes its status. `mutate` must derive the status
 * from the object it is given, not from captured state, because on a conflict it runs again
 * on the fresh object. Answers the written object, or the input when nothing changed.
 */
export async function updateStatus<T extends KubeObject>(
  client: ObjectClient,
  resource: ResourceType,
  obj: T,
  mutate: (draft: T) => void,
  opts: UpdateStatusOptions = {},
): Promise<T> {
  const attempts = opts.attempts ?? 5;
  let current = obj;
  for (let attempt = 1; ; attempt++) {
    const draft = clone(current);
    mutate(draft);
    if (isDeepStrictEqual(draft.status, current.status)) return current;
    try {
      return await client.replaceStatus(resource, draft, { signal: opts.signal });
    } catch (err) {
      if (!isConflict(err) || attempt >= attempts) throw err;
      current = await client.get<T>(resource, { namespace: obj.metadata.namespace, name: obj.metadata.name! }, { signal: opts.signal });
    }
  }
}

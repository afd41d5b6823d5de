// What a controller queues: only an object's namespace and name. No event type, no object —
// the reconciler reads current state, so a missed or replayed event cannot mislead it.

export interface ObjectKey {
  /** Absent for cluster-scoped objects. */
  namespace?: string;
  name: string;
}

export function keyOf(obj: { metadata?: { namespace?: string; name?: string } }): ObjectKey {
  const name = obj.metadata?.name;
  if (!name) throw new Error('cannot key an object without metadata.name');
  const namespace = obj.metadata?.namespace;
  return namespace ? { namespace, name } : { name };
}

/** "namespace/name", or "name" when cluster-scoped: the form client-go's cache keys take. */
export function keyString(key: ObjectKey): string {
  return key.namespace ? `${key.namespace}/${key.name}` : key.name;
}

export function parseKey(key: string): ObjectKey {
  // Names and namespaces cannot contain "/", so the first one separates them.
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

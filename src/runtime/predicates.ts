// Predicates filter a controller's watch by the event, as controller-runtime's WithPredicates
// do: a map function sees one object and cannot tell a spec change from a status write.
import type { KubeObject } from '../machinery/object.js';
import type { InformerEvent } from './informer.js';

/** Whether an event is news to a watch: false drops it before its keys are mapped. */
export type Predicate<T> = (event: InformerEvent<T>) => boolean;

/**
 * Whether an object was added or removed, or its spec (or deletion) changed: what can change
 * a placement decision or a reference. Status writes (the controllers' own bookkeeping) and
 * periodic resyncs never can.
 */
export function specChanged(e: InformerEvent<KubeObject & { spec?: unknown }>): boolean {
  if (e.type === 'added' || e.type === 'deleted') return true;
  if (e.type !== 'updated' || !e.previous) return false;
  const before = e.previous;
  const after = e.object;
  return (
    before.metadata.generation !== after.metadata.generation ||
    before.metadata.deletionTimestamp !== after.metadata.deletionTimestamp ||
    JSON.stringify(before.spec) !== JSON.stringify(after.spec)
  );
}

/**
 * Whether an object was added or removed, or what `select` picks from it changed: for a
 * controller that keeps a few fields and must not wake for every other write of the object.
 * Periodic resyncs pass, as the safety net they are.
 */
export function selectedChanged<T extends KubeObject>(select: (obj: T) => unknown): Predicate<T> {
  return (e) => {
    if (e.type !== 'updated') return true;
    if (!e.previous) return true;
    if (e.previous.metadata.deletionTimestamp !== e.object.metadata.deletionTimestamp) return true;
    return JSON.stringify(select(e.previous)) !== JSON.stringify(select(e.object));
  };
}

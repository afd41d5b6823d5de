// What wakes whom, shared by the watches of several controller folders: keys, the predicate
// that tells a VM's placement changes from its lifecycle, and walks through the inventory.
import type { Baremetal } from '../../kinds/baremetal.js';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import type { KubeObject } from '../../machinery/object.js';
import type { InformerEvent } from '../../runtime/informer.js';
import { keyOf, type ObjectKey } from '../../runtime/keys.js';
import { migrationTarget } from '../drain/reservation.js';
import type { Listers } from './listers.js';

/** The key of a name that may be absent (an optional reference): none then. */
export const key = (name: string | undefined, namespace?: string): ObjectKey[] => (name ? [namespace ? { namespace, name } : { name }] : []);

export const keysOf = (objs: KubeObject[]): ObjectKey[] => objs.map((o) => keyOf(o));

/**
 * Whether a VM event changes what is reserved where: a VM added or removed, or its host or
 * its reserved resources changed. Its lifecycle (phase, power, addresses) does not.
 */
export function placementChanged(e: InformerEvent<VirtualMachine>): boolean {
  if (e.type === 'added' || e.type === 'deleted') return true;
  if (e.type !== 'updated' || !e.previous) return false;
  const before = e.previous.status;
  const after = e.object.status;
  return (
    before?.placement?.baremetal !== after?.placement?.baremetal ||
    migrationTarget(e.previous) !== migrationTarget(e.object) ||
    JSON.stringify(before?.resources) !== JSON.stringify(after?.resources)
  );
}

export const hostsOfDatacenter = (listers: Listers, dc: KubeObject): Baremetal[] =>
  listers.racks.byIndex('byDatacenter', dc.metadata.name!).flatMap((r) => listers.hosts.byIndex('byRack', r.metadata.name!));

/** The keys of the groups these hosts belong to, each once. */
export const groupsOf = (hosts: Baremetal[]): ObjectKey[] =>
  [...new Set(hosts.map((h) => h.spec.group).filter((g): g is string => !!g))].map((name) => ({ name }));

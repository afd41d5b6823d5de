// A VM flavor's sizes are fixed while any VM uses it: changing them would silently change
// what running VMs were promised. Operators publish a new generation instead.
import { errors, type StatusCause } from '../machinery/errors.js';
import type { Admitter } from '../api/object-service.js';
import type { WatchCache } from '../store/watch-cache.js';

const SIZE_FIELDS = ['cpu', 'memory', 'storage', 'gpu'] as const;
const VM_RESOURCE = 'virtflow.io/virtualmachines';

export function usersOfSpecification(cache: WatchCache, name: string): string[] {
  return cache
    .list(VM_RESOURCE)
    .filter((e) => (e.object.spec as { specification?: string } | undefined)?.specification === name)
    .map((e) => `${e.namespace}/${e.name}`);
}

export function specificationInUseAdmitter(cache: WatchCache): Admitter {
  return {
    admit({ operation, info, object, oldObject, subresource }) {
      if (operation !== 'UPDATE' || subresource || info.group !== 'virtflow.io' || info.plural !== 'virtualmachinespecifications') return;
      const spec = (object.spec ?? {}) as Record<string, unknown>;
      const before = (oldObject?.spec ?? {}) as Record<string, unknown>;
      const changed = SIZE_FIELDS.filter((f) => String(spec[f] ?? '') !== String(before[f] ?? ''));
      if (changed.length === 0) return;
      const users = usersOfSpecification(cache, object.metadata.name ?? '');
      if (users.length === 0) return;
      const shown = users.slice(0, 3).join(', ') + (users.length > 3 ? `, and ${users.length - 3} more` : '');
      const causes: StatusCause[] = changed.map((f) => ({
        type: 'FieldValueForbidden',
        field: `spec.${f}`,
        message: `Forbidden: may not change while ${users.length} VirtualMachine(s) use this specification (${shown}); publish a new specification (generation) instead`,
      }));
      throw errors.invalid(info.kind, info.group, object.metadata.name ?? '', causes);
    },
  };
}

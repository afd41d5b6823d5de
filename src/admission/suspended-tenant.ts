// A suspended tenant may not create VMs or clusters, nor power a VM on; what runs keeps
// running. Refused at admission with a message that says why and what to do.
import { ApiError } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import type { Admitter } from '../api/object-service.js';
import type { WatchCache } from '../store/watch-cache.js';
import { tenantOwningNamespace } from './tenancy.js';

const GUARDED = new Set(['virtualmachines', 'k8sclusters']);

function poweringOn(object: KubeObject, old: KubeObject | undefined): boolean {
  const spec = (object.spec ?? {}) as { runStrategy?: string; restartAt?: string };
  const before = (old?.spec ?? {}) as { runStrategy?: string; restartAt?: string };
  const on = (s: { runStrategy?: string }) => (s.runStrategy ?? 'Always') !== 'Halted';
  if (on(spec) && !on(before)) return true;
  return spec.restartAt !== undefined && spec.restartAt !== before.restartAt;
}

export function suspendedTenantAdmitter(cache: WatchCache): Admitter {
  return {
    admit({ operation, info, object, oldObject, subresource }) {
      if (info.group !== 'virtflow.io' || !GUARDED.has(info.plural) || subresource) return;
      if (operation === 'DELETE') return;
      if (operation === 'UPDATE' && !(info.plural === 'virtualmachines' && poweringOn(object, oldObject))) return;
      const tenant = tenantOwningNamespace(cache, object.metadata.namespace ?? '');
      if (!tenant?.spec?.suspended) return;
      const what = operation === 'CREATE' ? `creating ${info.plural}` : 'powering on virtual machines';
      throw new ApiError(
        403,
        'Forbidden',
        `${info.plural}.${info.group} "${object.metadata.name}" is forbidden: tenant "${tenant.metadata.name}" is suspended: ${what} is refused until the tenant is resumed (set spec.suspended to false)`,
        {
          name: object.metadata.name,
          group: info.group,
          kind: info.plural,
          causes: [{ type: 'TenantSuspended', field: 'metadata.namespace', message: `tenant "${tenant.metadata.name}" is suspended` }],
        },
      );
    },
  };
}

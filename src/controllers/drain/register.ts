// Drain of hosts in Maintenance: one worker, so per-host and per-tenant budgets are decided
// one host at a time. Woken by the moves of the VMs on, from and to a host in Maintenance.
import type { Registration } from '../shared/registration.js';
import { keysOf } from '../shared/watches.js';
import { specChanged } from '../../runtime/predicates.js';
import { drainReconciler } from './drain.js';

export function registerDrain({ manager, informers: listers, ctx, options, placer }: Registration): void {
  const inMaintenance = (names: (string | undefined)[]) =>
    [...new Set(names)].filter((n): n is string => !!n && listers.hosts.get(n)?.spec.state === 'Maintenance').map((name) => ({ name }));
  const maintenanceHosts = () => keysOf(listers.hosts.list().filter((h) => h.spec.state === 'Maintenance'));
  manager.controller('drain').for(listers.hosts).withWorkers(1)
    .watches(listers.vms, (vm) => inMaintenance([vm.status?.placement?.baremetal, vm.status?.migration?.source?.baremetal, vm.status?.migration?.target?.baremetal]))
    .watches(listers.tenants, () => maintenanceHosts())
    .watches(listers.quotas, () => maintenanceHosts())
    .watches(listers.externalControllers, () => maintenanceHosts())
    // Room made elsewhere (a host back to Available, a new host) is what a Blocked drain waits for.
    .watches(listers.hosts, () => maintenanceHosts(), { predicates: [specChanged] })
    .complete(drainReconciler(ctx, placer, { resyncMs: Math.min(options.resyncMs ?? 5000, 5000) }));
}

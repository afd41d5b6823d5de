// Tenant: owns its namespace (created and labelled here), reports what it owns, and holds
// its own deletion (finalizer) while it still owns VMs or clusters, naming what remains.
import { tenantNamespace, type Tenant } from '../../kinds/tenant.js';
import { keyString, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import { isAlreadyExists, isNotFound } from '../../runtime/client.js';
import { Namespaces } from '../../runtime/resource.js';
import { nextStatus, ready, writeStatus, type ControllerContext } from '../shared/context.js';
import { Kinds } from '../shared/resources-of-kinds.js';
import { reconcileTenantAccess } from './access.js';

export const TENANT_FINALIZER = 'virtflow.io/tenant-protection';
export const TENANT_LABEL = 'virtflow.io/tenant';

/** Namespaces that outlive their contents (as Kubernetes keeps default and kube-*). */
const SYSTEM_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease', 'virtflow-system']);


function describeRemaining(kind: string, names: string[]): string {
  const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? `, and ${names.length - 5} more` : '');
  return `${names.length} ${kind}(s) (${shown})`;
}

export function tenantReconciler(ctx: ControllerContext): Reconciler {
  return {
    async reconcile(_rc, key: ObjectKey): Promise<Result> {
      const tenant = ctx.listers.tenants.get(keyString(key));
      if (!tenant) return {};
      const namespace = tenantNamespace(tenant);
      const vms = ctx.listers.vms.list(namespace).map((v) => v.metadata.name!);
      const clusters = ctx.listers.clusters.list(namespace).map((c) => c.metadata.name!);
      const finalizers = tenant.metadata.finalizers ?? [];

      if (tenant.metadata.deletionTimestamp) {
        if (vms.length > 0 || clusters.length > 0) {
          const remaining = [
            ...(vms.length ? [describeRemaining('VirtualMachine', vms)] : []),
            ...(clusters.length ? [describeRemaining('K8sCluster', clusters)] : []),
          ].join(' and ');
          const status = nextStatus(tenant as never, { phase: 'Terminating', namespace, virtualMachines: vms.length, clusters: clusters.length }, [
            { type: 'Ready', status: 'False', reason: 'DeletionBlocked', message: `Deletion waits until the tenant owns nothing: ${remaining} remain in namespace ${namespace}.` },
          ], ctx.now());
          await writeStatus(ctx, Kinds.Tenant, tenant as never, status);
          return {};
        }
        if (finalizers.includes(TENANT_FINALIZER)) {
          await ctx.client.patch(Kinds.Tenant, key, 'merge', {
            metadata: { finalizers: finalizers.filter((f) => f !== TENANT_FINALIZER), resourceVersion: tenant.metadata.resourceVersion },
          });
          ctx.events.record(tenant, 'Normal', 'DeletionUnblocked', `Tenant ${tenant.metadata.name} owns nothing any more and is deleted.`);
        }
        return {};
      }

      if (!finalizers.includes(TENANT_FINALIZER)) {
        await ctx.client.patch(Kinds.Tenant, key, 'merge', {
          metadata: { finalizers: [...finalizers, TENANT_FINALIZER], resourceVersion: tenant.metadata.resourceVersion },
        });
        return {};
      }
      await ensureNamespace(ctx, tenant, namespace);
      await reconcileTenantAccess(ctx, tenant, namespace);
      const suspended = tenant.spec?.suspended === true;
      const status = nextStatus(tenant as never, {
        phase: suspended ? 'Suspended' : 'Active',
        namespace,
        virtualMachines: vms.length,
        clusters: clusters.length,
      }, [
        ready(!suspended, suspended ? 'Suspended' : 'Active', suspended ? 'The tenant is suspended: creates and power-ons are refused.' : `The tenant owns namespace ${namespace}.`),
      ], ctx.now());
      await writeStatus(ctx, Kinds.Tenant, tenant as never, status);
      return {};
    },
  };
}

async function ensureNamespace(ctx: ControllerContext, tenant: Tenant, namespace: string): Promise<void> {
  const owner = { apiVersion: 'virtflow.io/v1alpha1', kind: 'Tenant', name: tenant.metadata.name!, uid: tenant.metadata.uid! };
  const existing = await ctx.client.find(Namespaces, { name: namespace });
  if (existing) {
    // A namespace made before its tenant (a GitOps repository lists it) is adopted, so that
    // it goes with the tenant as one the controller created does.
    const refs = existing.metadata.ownerReferences ?? [];
    // A system namespace is never adopted: it must outlive any tenant placed in it.
    const owned = refs.some((r) => r.uid === owner.uid) || SYSTEM_NAMESPACES.has(namespace);
    if (existing.metadata.labels?.[TENANT_LABEL] !== tenant.metadata.name || !owned) {
      const ownerReferences = owned ? undefined : [...refs.filter((r) => r.kind !== 'Tenant'), { ...owner, controller: !refs.some((r) => r.controller) }];
      await ctx.client.patch(Namespaces, { name: namespace }, 'merge', { metadata: { labels: { [TENANT_LABEL]: tenant.metadata.name }, ...(ownerReferences ? { ownerReferences } : {}) } }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
    return;
  }
  try {
    await ctx.client.create(Namespaces, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: namespace,
        labels: { [TENANT_LABEL]: tenant.metadata.name! },
        ownerReferences: [{ ...owner, controller: true }],
      },
    });
    ctx.events.record(tenant, 'Normal', 'CreatedNamespace', `Created namespace ${namespace} for the tenant.`);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

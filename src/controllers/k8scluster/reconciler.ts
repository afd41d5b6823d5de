// K8sCluster: resolves what the cluster names (flavors, groups, meshes, image), counts its
// control-plane and node-pool VMs (VMs whose spec.cluster names it; a worker's pool is its
// virtflow.io/node-pool label), and reports plugin and mesh states.
import type { K8sCluster } from '../../kinds/k8scluster.js';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import type { Reconciler } from '../../runtime/reconciler.js';
import { ready, referencesCondition, type ControllerContext } from '../shared/context.js';
import { Kinds } from '../shared/resources-of-kinds.js';
import { statusReconciler } from '../shared/status-reconciler.js';

export const NODE_POOL_LABEL = 'virtflow.io/node-pool';

const isReady = (vm: VirtualMachine) => vm.status?.phase === 'Running';

function referencesOf(cluster: K8sCluster, ctx: ControllerContext): string[] {
  const missing: string[] = [];
  const need = (what: string, name: string | undefined, exists: (n: string) => boolean) => {
    if (name && !exists(name)) missing.push(`${what} "${name}"`);
  };
  const spec = (n: string) => ctx.listers.specifications.get(n) !== undefined;
  const group = (n: string) => ctx.listers.groups.get(n) !== undefined;
  need('VirtualMachineSpecification', cluster.spec.controlPlane?.specification, spec);
  need('BaremetalGroup', cluster.spec.controlPlane?.group, group);
  for (const pool of cluster.spec.nodePools ?? []) {
    need('VirtualMachineSpecification', pool.specification, spec);
    need('BaremetalGroup', pool.group, group);
  }
  for (const mesh of cluster.spec.serviceMeshes ?? []) need('ServiceMesh', mesh.mesh, (n) => ctx.listers.serviceMeshes.get(n) !== undefined);
  need('VirtualMachineImage', cluster.spec.image, (n) => ctx.listers.images.get(n) !== undefined);
  return [...new Set(missing)];
}

export function k8sClusterReconciler(ctx: ControllerContext): Reconciler {
  return statusReconciler(ctx, Kinds.K8sCluster, () => ctx.listers.clusters, (cluster) => {
    const missing = referencesOf(cluster, ctx);
    const vms = ctx.listers.vms.byIndex('byCluster', `${cluster.metadata.namespace}/${cluster.metadata.name}`);
    const control = vms.filter((v) => v.spec.role === 'ControlPlane');
    const wantedControl = cluster.spec.import ? 0 : (cluster.spec.controlPlane?.replicas ?? 3);
    const nodePools = (cluster.spec.nodePools ?? []).map((pool) => {
      const members = vms.filter((v) => v.spec.role === 'Worker' && v.metadata.labels?.[NODE_POOL_LABEL] === pool.name);
      return { name: pool.name, replicas: members.length, ready: members.filter(isReady).length };
    });
    const readyNodes = vms.filter(isReady).length;
    const plugins = (cluster.spec.plugins ?? []).map((p) => ({
      name: p.name,
      ...(p.version ? { version: p.version } : {}),
      state: p.enabled === false ? 'inactive' : 'active',
    }));
    const serviceMeshes = (cluster.spec.serviceMeshes ?? []).map((m) => {
      const mesh = ctx.listers.serviceMeshes.get(m.mesh);
      return { mesh: m.mesh, role: m.role ?? 'primary', state: !mesh ? 'error' : (mesh.spec?.state ?? 'Active') === 'Active' ? 'active' : 'inactive' };
    });
    const controlReady = control.filter(isReady).length;
    const wantedWorkers = (cluster.spec.nodePools ?? []).reduce((n, p) => n + (p.replicas ?? 1), 0);
    let phase: string;
    if (cluster.spec.maintenance) phase = 'Maintenance';
    else if (cluster.spec.import) phase = 'Active';
    else if (missing.length > 0) phase = 'Provisioning';
    else if (controlReady >= wantedControl && nodePools.every((p, i) => p.ready >= ((cluster.spec.nodePools ?? [])[i]?.replicas ?? 1))) phase = 'Active';
    else if (vms.length > 0 && readyNodes < vms.length && controlReady > 0) phase = 'Degraded';
    else phase = 'Provisioning';
    return {
      fields: {
        phase,
        version: cluster.spec.version,
        nodes: `${readyNodes}/${wantedControl + wantedWorkers}`,
        controlPlane: { ready: controlReady, replicas: control.length },
        nodePools,
        plugins,
        serviceMeshes,
      },
      conditions: [
        referencesCondition(missing),
        ready(phase === 'Active', phase, phase === 'Active' ? 'The cluster has every node it asks for.' : `${readyNodes} of ${wantedControl + wantedWorkers} nodes are running.`),
      ],
    };
  });
}

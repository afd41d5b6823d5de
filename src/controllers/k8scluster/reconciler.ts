// K8sCluster: builds the cluster from VMs and keeps it as its spec says, through the K8s
// Cluster Service (an ExternalController with service K8sCluster). Named steps:
//   get -> imported? (probe, report) -> deleting? (teardown, then pools and VMs, then the
//   finalizer) -> finalizer and labels -> references -> route to the service -> observe ->
//   upgrade state -> plan each group (control plane, then pools) -> create / drain / delete
//   VMs -> desired cluster to the service -> kubeconfig Secret -> status of cluster and pools.
import { createHash } from 'node:crypto';
import { apiVersion } from '../../kinds/define.js';
import type { ExternalController } from '../../kinds/externalcontroller.js';
import type { K8sCluster } from '../../kinds/k8scluster.js';
import type { K8sNodePool } from '../../kinds/k8snodepool.js';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import { canonicalJson, type KubeObject } from '../../machinery/object.js';
import type { ClusterNode, ClusterObservation, ClusterRequest } from '../../providers/cluster-protocol.js';
import type { K8sClusterService } from '../../providers/cluster-service.js';
import { isProviderError } from '../../providers/external-client.js';
import { routeExternalController } from '../../providers/routing.js';
import { ApiError } from '../../machinery/errors.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../runtime/client.js';
import { keyString, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import { Secrets } from '../../runtime/resource.js';
import { forgetWrites, isStaleCache, nextStatus, referencesCondition, writeStatus, type ControllerContext, type Cond } from '../shared/context.js';
import { Kinds } from '../shared/resources-of-kinds.js';
import { probeImported } from './import.js';
import {
  BASTION_LABEL_PREFIX,
  CLUSTER_LABEL,
  DRAIN_ANNOTATION,
  membersOf,
  nodeVm,
  NODE_POOL_LABEL,
  selectorOf,
  controlPlaneSpread,
  toMember,
  VERSION_LABEL,
  type Group,
} from './nodes.js';
import { planGroup, resolveIntOrPercent, type Member } from './rollout.js';
import {
  clusterUpgradable,
  controlPlaneTarget,
  followerTarget,
  groupAt,
  inFlight,
  nextUpgrade,
  poolUpgradable,
  targetOf,
  upgradingCondition,
  type UpgradeStatus,
} from './upgrade.js';

export { NODE_POOL_LABEL } from './nodes.js';

export const CLUSTER_FINALIZER = 'virtflow.io/k8s-cluster';
export const POOL_FINALIZER = 'virtflow.io/k8s-node-pool';

export const clusterReasons = {
  noService: 'NoExternalController',
  serviceError: 'ClusterServiceError',
  nodesUnschedulable: 'InsufficientCapacity',
  nodesScheduled: 'NodesScheduled',
  createdNode: 'CreatedNode',
  cannotCreateNode: 'CannotCreateNode',
  drainingNode: 'DrainingNode',
  deletedNode: 'DeletedNode',
  tearingDown: 'TearingDown',
} as const;

export interface K8sClusterOptions {
  serviceFor: (controller: ExternalController) => K8sClusterService;
  /** How often the service is observed while something is in flight (default 1000 ms). */
  pollMs?: number;
  /** How often a settled cluster (and an imported one) is checked (default 30 s). */
  resyncMs?: number;
}


/** VMs created by this process and not yet in the cache: no new plan until they are. */
class Expectations {
  private pending = new Map<string, { names: Set<string>; until: number }>();
  expect(key: string, name: string, now: number): void {
    const e = this.pending.get(key) ?? { names: new Set<string>(), until: 0 };
    e.names.add(name);
    e.until = now + 30_000;
    this.pending.set(key, e);
  }
  satisfied(key: string, seen: (name: string) => boolean, now: number): boolean {
    const e = this.pending.get(key);
    if (!e) return true;
    for (const n of e.names) if (seen(n)) e.names.delete(n);
    if (e.names.size === 0 || now > e.until) {
      this.pending.delete(key);
      return true;
    }
    return false;
  }
  forget(key: string): void {
    this.pending.delete(key);
  }
}

export function k8sClusterReconciler(ctx: ControllerContext, opts: K8sClusterOptions): Reconciler {
  const pollMs = opts.pollMs ?? 1000;
  const resyncMs = opts.resyncMs ?? 30_000;
  const expectations = new Expectations();
  const { listers, client } = ctx;

  const vmsOf = (cluster: K8sCluster) =>
    listers.vms.byIndex('byCluster', `${cluster.metadata.namespace}/${cluster.metadata.name}`).filter((vm) => vm.metadata.labels?.[CLUSTER_LABEL] === cluster.metadata.name);
  const poolsOf = (cluster: K8sCluster) => listers.nodePools.byIndex('byCluster', `${cluster.metadata.namespace}/${cluster.metadata.name}`);

  async function patchMeta(resource: typeof Kinds.K8sCluster, obj: KubeObject, metadata: Record<string, unknown>): Promise<void> {
    try {
      await client.patch(resource, keyOf(obj), 'merge', { metadata: { ...metadata, resourceVersion: obj.metadata.resourceVersion } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  async function writeClusterStatus(cluster: K8sCluster, fields: Record<string, unknown>, conditions: Cond[]): Promise<void> {
    const status = nextStatus(cluster as never, fields, conditions, ctx.now());
    try {
      await writeStatus(ctx, Kinds.K8sCluster, cluster as never, status);
    } catch (err) {
      if (!isStaleCache(err)) throw err;
    }
  }

  async function writePoolStatus(pool: K8sNodePool, fields: Record<string, unknown>, conditions: Cond[]): Promise<void> {
    const status = nextStatus(pool as never, fields, conditions, ctx.now());
    try {
      await writeStatus(ctx, Kinds.K8sNodePool, pool as never, status);
    } catch (err) {
      if (!isStaleCache(err) && !isConflict(err) && !isNotFound(err)) throw err;
    }
  }

  async function deleteVm(vm: VirtualMachine): Promise<void> {
    try {
      await client.delete(Kinds.VirtualMachine, keyOf(vm));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  function route(cluster: K8sCluster) {
    const group = cluster.spec.controlPlane?.group ? listers.groups.get(cluster.spec.controlPlane.group) : undefined;
    return routeExternalController(listers.externalControllers.list(), 'K8sCluster', group?.spec.region ?? '');
  }

  // ---------------------------------------------------------------------------------------
  async function reconcileImported(cluster: K8sCluster): Promise<Result> {
    if (cluster.metadata.deletionTimestamp) return removeFinalizer(cluster);
    const probe = await probeImported(client, cluster);
    await writeClusterStatus(
      cluster,
      {
        phase: cluster.spec.maintenance ? 'Maintenance' : probe.reachable ? 'Active' : 'Offline',
        version: probe.version,
        apiServer: cluster.spec.import!.apiServer,
        nodes: probe.nodes === undefined ? undefined : `${probe.nodes}/${probe.nodes}`,
      },
      [
        { type: 'Ready', status: probe.reachable ? 'True' : 'False', reason: probe.reason, message: probe.message },
        referencesCondition([]),
      ],
    );
    return { requeueAfterMs: probe.reachable ? resyncMs : pollMs * 5 };
  }

  async function removeFinalizer(cluster: K8sCluster): Promise<Result> {
    const finalizers = cluster.metadata.finalizers ?? [];
    if (finalizers.includes(CLUSTER_FINALIZER)) await patchMeta(Kinds.K8sCluster, cluster, { finalizers: finalizers.filter((f) => f !== CLUSTER_FINALIZER) });
    forgetWrites(ctx, Kinds.K8sCluster, cluster);
    return {};
  }

  // ---------------------------------------------------------------------------------------
  async function reconcileDeletion(cluster: K8sCluster, vms: VirtualMachine[], pools: K8sNodePool[]): Promise<Result> {
    if (!(cluster.metadata.finalizers ?? []).includes(CLUSTER_FINALIZER)) return {};
    const r = route(cluster);
    if (r.found && vms.length > 0) {
      const service = opts.serviceFor(r.controller);
      let observation: ClusterObservation;
      try {
        observation = await service.observe(cluster);
      } catch (err) {
        if (!isProviderError(err)) throw err;
        await writeClusterStatus(cluster, { phase: 'Deleting' }, [{ type: 'Ready', status: 'False', reason: err.reason, message: `Waiting for the K8s Cluster Service to tear the cluster down: ${err.message}` }]);
        return { requeueAfterMs: pollMs * 3 };
      }
      if (observation.exists) {
        if (observation.phase !== 'TearingDown') {
          await service.teardown(cluster);
          ctx.events.record(cluster, 'Normal', clusterReasons.tearingDown, 'Asked the K8s Cluster Service to tear the cluster down.');
        }
        await writeClusterStatus(cluster, { phase: 'Deleting' }, [{ type: 'Ready', status: 'False', reason: clusterReasons.tearingDown, message: 'The K8s Cluster Service is tearing the cluster down.' }]);
        return { requeueAfterMs: pollMs };
      }
    }
    // Torn down: the pools and VMs go (their hosts and quota are released as each VM's own
    // deletion finishes), then the cluster.
    for (const pool of pools) {
      if (!pool.metadata.deletionTimestamp) await client.delete(Kinds.K8sNodePool, keyOf(pool)).catch((err) => { if (!isNotFound(err)) throw err; });
      else if (vms.every((vm) => vm.metadata.labels?.[NODE_POOL_LABEL] !== pool.metadata.name)) await dropPoolFinalizer(pool);
    }
    for (const vm of vms) if (!vm.metadata.deletionTimestamp) await deleteVm(vm);
    if (vms.length > 0 || pools.length > 0) {
      await writeClusterStatus(cluster, { phase: 'Deleting' }, [{ type: 'Ready', status: 'False', reason: 'Deleting', message: `Deleting ${vms.length} VMs and ${pools.length} node pools.` }]);
      return { requeueAfterMs: pollMs };
    }
    expectations.forget(keyString(keyOf(cluster)));
    return removeFinalizer(cluster);
  }

  async function dropPoolFinalizer(pool: K8sNodePool): Promise<void> {
    const finalizers = pool.metadata.finalizers ?? [];
    if (finalizers.includes(POOL_FINALIZER)) await patchMeta(Kinds.K8sNodePool, pool, { finalizers: finalizers.filter((f) => f !== POOL_FINALIZER) });
    forgetWrites(ctx, Kinds.K8sNodePool, pool);
  }

  /** Finalizer and bastion labels on the cluster (the VMs' side: bastions.ts), finalizer and owner on its pools; true when it patched the cluster. */
  async function ensureMetadata(cluster: K8sCluster, pools: K8sNodePool[]): Promise<boolean> {
    const finalizers = cluster.metadata.finalizers ?? [];
    const labels = cluster.metadata.labels ?? {};
    const wantedBastions = new Set(cluster.spec.bastions ?? []);
    const labelPatch: Record<string, string | null> = {};
    for (const k of Object.keys(labels)) if (k.startsWith(BASTION_LABEL_PREFIX) && !wantedBastions.has(k.slice(BASTION_LABEL_PREFIX.length))) labelPatch[k] = null;
    for (const b of wantedBastions) if (labels[BASTION_LABEL_PREFIX + b] !== 'true') labelPatch[BASTION_LABEL_PREFIX + b] = 'true';
    const patch: Record<string, unknown> = {};
    if (!finalizers.includes(CLUSTER_FINALIZER)) patch.finalizers = [...finalizers, CLUSTER_FINALIZER];
    if (Object.keys(labelPatch).length > 0) patch.labels = labelPatch;
    for (const pool of pools) {
      if (pool.metadata.deletionTimestamp) continue;
      const pf = pool.metadata.finalizers ?? [];
      const owners = pool.metadata.ownerReferences ?? [];
      const owned = owners.some((o) => o.uid === cluster.metadata.uid);
      if (pf.includes(POOL_FINALIZER) && owned) continue;
      await patchMeta(Kinds.K8sNodePool, pool, {
        finalizers: pf.includes(POOL_FINALIZER) ? pf : [...pf, POOL_FINALIZER],
        ownerReferences: owned ? owners : [...owners, { apiVersion, kind: 'K8sCluster', name: cluster.metadata.name!, uid: cluster.metadata.uid! }],
      });
    }
    if (Object.keys(patch).length === 0) return false;
    await patchMeta(Kinds.K8sCluster, cluster, patch);
    return true;
  }

  function missingReferences(cluster: K8sCluster, pools: K8sNodePool[]): string[] {
    const missing: string[] = [];
    const need = (what: string, name: string | undefined, exists: (n: string) => boolean) => {
      if (name && !exists(name)) missing.push(`${what} "${name}"`);
    };
    const spec = (n: string) => listers.specifications.get(n) !== undefined;
    const group = (n: string) => listers.groups.get(n) !== undefined;
    if (!cluster.spec.controlPlane?.specification) missing.push('spec.controlPlane.specification');
    if (!cluster.spec.controlPlane?.group) missing.push('spec.controlPlane.group');
    if (!cluster.spec.image) missing.push('spec.image');
    need('VirtualMachineSpecification', cluster.spec.controlPlane?.specification, spec);
    need('BaremetalGroup', cluster.spec.controlPlane?.group, group);
    for (const pool of pools) {
      need('VirtualMachineSpecification', pool.spec.specification, spec);
      need('BaremetalGroup', pool.spec.group, group);
    }
    for (const mesh of cluster.spec.serviceMeshes ?? []) need('ServiceMesh', mesh.mesh, (n) => listers.serviceMeshes.get(n) !== undefined);
    need('VirtualMachineImage', cluster.spec.image, (n) => listers.images.get(n) !== undefined);
    return [...new Set(missing)];
  }

  // ---------------------------------------------------------------------------------------
  async function reconcile(key: ObjectKey): Promise<Result> {
    const k = keyString(key);
    const cluster = listers.clusters.get(k);
    if (!cluster) {
      expectations.forget(k);
      // Pools may be applied before their cluster (or outlive a typo): they say so.
      for (const pool of listers.nodePools.byIndex('byCluster', k)) {
        if (pool.metadata.deletionTimestamp) {
          await dropPoolFinalizer(pool);
          continue;
        }
        await writePoolStatus(pool, { phase: 'Pending', replicas: 0, readyReplicas: 0, updatedReplicas: 0, selector: selectorOf(pool.spec.cluster, pool.metadata.name) }, [
          { type: 'Ready', status: 'False', reason: 'ClusterNotFound', message: `K8sCluster "${pool.spec.cluster}" does not exist in this namespace.` },
        ]);
      }
      return {};
    }
    if (cluster.spec.import) return reconcileImported(cluster);
    const vms = vmsOf(cluster);
    const pools = poolsOf(cluster);
    if (cluster.metadata.deletionTimestamp) return reconcileDeletion(cluster, vms, pools);
    if (await ensureMetadata(cluster, pools)) return {};

    const missing = missingReferences(cluster, pools);
    const refs = referencesCondition(missing);
    if (missing.length > 0) {
      await writeClusterStatus(cluster, { phase: 'Provisioning' }, [refs, { type: 'Ready', status: 'False', reason: 'MissingReferences', message: refs.message! }]);
      return {};
    }
    const r = route(cluster);
    if (!r.found) {
      await writeClusterStatus(cluster, { phase: 'Error' }, [refs, { type: 'Ready', status: 'False', reason: r.reason, message: r.message }]);
      return {};
    }
    const service = opts.serviceFor(r.controller);
    let observation: ClusterObservation | undefined;
    let serviceError: { reason: string; message: string } | undefined;
    try {
      observation = await service.observe(cluster);
    } catch (err) {
      if (!isProviderError(err)) throw err;
      serviceError = { reason: err.reason, message: err.message };
    }

    // Groups: the control plane first, then the pools by name.
    const controlPlaneVms = membersOf(vms, { kind: 'ControlPlane' });
    const cpMembers = controlPlaneVms.map((vm) => toMember(vm, observation));
    const cpReplicas = cluster.spec.controlPlane?.replicas ?? 3;
    const sortedPools = [...pools].sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
    const poolGroups = sortedPools.map((pool) => {
      const poolVms = membersOf(vms, { kind: 'Worker', pool });
      return { pool, vms: poolVms, members: poolVms.map((vm) => toMember(vm, observation)), replicas: pool.metadata.deletionTimestamp ? 0 : (pool.spec.replicas ?? 1) };
    });
    // A pool with a version of its own rolls by itself (and back, the same way as the cluster).
    const ownUpgrades = new Map<string, UpgradeStatus | undefined>();
    const poolTarget = (pool: K8sNodePool, cp: Member[], u: UpgradeStatus | undefined) =>
      pool.spec.version ? targetOf(pool.spec.version, ownUpgrades.get(pool.metadata.name!)) : followerTarget(cluster, u, cp, cpReplicas);

    const now = ctx.now().getTime();
    for (const g of poolGroups) {
      const version = g.pool.spec.version;
      if (!version || g.pool.metadata.deletionTimestamp) {
        ownUpgrades.set(g.pool.metadata.name!, version ? g.pool.status?.upgrade : undefined);
        continue;
      }
      const own = observation
        ? nextUpgrade({
            subject: poolUpgradable(g.pool, version, cluster),
            now,
            groups: [{ name: `pool ${g.pool.metadata.name}`, members: g.members, replicas: g.replicas, target: (u) => targetOf(version, u) }],
          })
        : { upgrade: g.pool.status?.upgrade };
      ownUpgrades.set(g.pool.metadata.name!, own.upgrade);
      if (own.event) ctx.events.record(g.pool, own.event[0], own.event[1], own.event[2]);
    }
    const step = observation
      ? nextUpgrade({
          subject: clusterUpgradable(cluster),
          now,
          groups: [
            { name: 'control plane', members: cpMembers, replicas: cpReplicas, target: (u) => controlPlaneTarget(cluster, u) },
            ...poolGroups
              .filter((g) => !g.pool.spec.version)
              .map((g) => ({ name: `pool ${g.pool.metadata.name}`, members: g.members, replicas: g.replicas, target: (u: UpgradeStatus | undefined) => poolTarget(g.pool, cpMembers, u) })),
          ],
        })
      : { upgrade: cluster.status?.upgrade };
    const upgrade = step.upgrade;
    if (step.event) ctx.events.record(cluster, step.event[0], step.event[1], step.event[2]);

    // Plans, then the changes they ask for (not in maintenance, and not before the VMs this
    // process created last time are in the cache: the plan would count them missing).
    let changed = false;
    const cpTarget = controlPlaneTarget(cluster, upgrade);
    const canChange = !cluster.spec.maintenance && observation !== undefined && expectations.satisfied(k, (n) => listers.vms.get(`${cluster.metadata.namespace}/${n}`) !== undefined, now);
    if (canChange) {
      const cpGroup = cluster.spec.controlPlane!.group!;
      const upgradeMax = cluster.spec.upgrade;
      const cpPlan = planGroup(cpMembers, {
        replicas: cpReplicas,
        version: cpTarget,
        maxSurge: Math.min(1, resolveIntOrPercent(upgradeMax?.maxSurge, cpReplicas, 1, true)) || 1,
        maxUnavailable: 0,
        deletePolicy: 'Oldest',
      });
      changed = (await apply(cluster, { kind: 'ControlPlane' }, controlPlaneVms, cpPlan, {
        version: cpTarget,
        specification: cluster.spec.controlPlane!.specification!,
        vmGroup: cpGroup,
        spreadAcross: controlPlaneSpread(listers.hosts.byIndex('byGroup', cpGroup), cpReplicas),
      }, observation)) || changed;
      for (const g of poolGroups) {
        const target = poolTarget(g.pool, cpMembers, upgrade);
        const strategy = g.pool.spec.strategy;
        const plan = planGroup(g.members, {
          replicas: g.replicas,
          version: target,
          maxSurge: resolveIntOrPercent(strategy?.maxSurge, g.replicas, 1, true),
          maxUnavailable: resolveIntOrPercent(strategy?.maxUnavailable, g.replicas, 0, false),
          deletePolicy: g.pool.spec.deletePolicy ?? 'Newest',
        });
        changed = (await apply(cluster, { kind: 'Worker', pool: g.pool }, g.vms, plan, {
          version: target,
          specification: g.pool.spec.specification,
          vmGroup: g.pool.spec.group ?? cpGroup,
          spreadAcross: undefined,
        }, observation)) || changed;
        if (g.pool.metadata.deletionTimestamp && g.vms.length === 0) await dropPoolFinalizer(g.pool);
      }
    }

    // The desired cluster, to the service once a control-plane VM runs.
    if (observation && !serviceError) {
      const request = desiredCluster(cluster, vms, cpTarget, pools);
      const hasControlPlane = request.nodes.some((n) => n.role === 'ControlPlane');
      if ((observation.exists || hasControlPlane) && observation.revision !== request.revision) {
        try {
          await service.apply(cluster, request);
          changed = true;
        } catch (err) {
          if (!isProviderError(err)) throw err;
          serviceError = { reason: err.reason, message: err.message };
        }
      }
    }

    const kubeconfigSecret = observation?.kubeconfig ? await ensureKubeconfig(cluster, observation.kubeconfig, observation.apiServer) : cluster.status?.kubeconfigSecret;

    // Status of the pools, then of the cluster.
    const summaries = [];
    for (const g of poolGroups) {
      const target = poolTarget(g.pool, cpMembers, upgrade);
      const own = ownUpgrades.get(g.pool.metadata.name!);
      const active = g.members.filter((m) => !m.removing);
      const ready = active.filter((m) => m.ready).length;
      const versions = new Set(active.map((m) => m.version));
      const version = versions.size === 1 && active.length > 0 ? [...versions][0] : undefined;
      const phase = g.pool.metadata.deletionTimestamp
        ? 'Deleting'
        : inFlight(own) || active.some((m) => m.version !== target)
          ? 'Upgrading'
          : active.length !== g.replicas || g.members.some((m) => m.removing)
            ? (g.pool.status?.phase === 'Active' || g.pool.status?.phase === 'Scaling' ? 'Scaling' : 'Provisioning')
            : ready < g.replicas
              ? (g.pool.status?.phase === undefined || g.pool.status.phase === 'Provisioning' ? 'Provisioning' : 'Degraded')
              : 'Active';
      summaries.push({ name: g.pool.metadata.name!, ready, replicas: active.length, ...(version ? { version } : {}) });
      await writePoolStatus(
        g.pool,
        {
          replicas: active.length,
          readyReplicas: ready,
          updatedReplicas: active.filter((m) => m.version === target).length,
          version,
          selector: selectorOf(cluster.metadata.name!, g.pool.metadata.name),
          phase,
          upgrade: own,
        },
        [
          { type: 'Ready', status: phase === 'Active' ? 'True' : 'False', reason: phase, message: `${ready} of ${g.replicas} nodes are Ready at ${target}.` },
          ...upgradingCondition(own, g.pool.status?.conditions),
        ],
      );
    }

    const cpActive = cpMembers.filter((m) => !m.removing);
    const cpReady = cpActive.filter((m) => m.ready).length;
    const cpVersions = new Set(cpActive.filter((m) => m.ready).map((m) => m.version));
    const version = cpVersions.size === 1 && cpReady === cpActive.length && cpActive.length > 0 ? [...cpVersions][0] : cluster.status?.version;
    const workersWanted = poolGroups.reduce((n, g) => n + g.replicas, 0);
    const workersReady = poolGroups.reduce((n, g) => n + g.members.filter((m) => !m.removing && m.ready).length, 0);
    const settled = groupAt(cpMembers, cpTarget, cpReplicas) && poolGroups.every((g, i) => groupAt(g.members, poolTarget(sortedPools[i]!, cpMembers, upgrade), g.replicas));
    const upgrading = inFlight(upgrade) || [...ownUpgrades.values()].some(inFlight);
    const everActive = cluster.status?.phase !== undefined && cluster.status.phase !== 'Provisioning' && cluster.status.phase !== 'Error';
    const unreachable = serviceError !== undefined || observation?.reachable === false;
    const phase = cluster.spec.maintenance
      ? 'Maintenance'
      : unreachable
        ? 'Offline'
        : upgrading
          ? 'Upgrading'
          : settled
            ? 'Active'
            : !everActive
              ? 'Provisioning'
              : cpActive.length !== cpReplicas || poolGroups.some((g) => g.members.filter((m) => !m.removing).length !== g.replicas || g.members.some((m) => m.removing))
                ? 'Scaling'
                : 'Degraded';

    const unschedulable = vms.filter((vm) => !vm.metadata.deletionTimestamp && vm.status?.phase === 'Unschedulable');
    const capacity: Cond =
      unschedulable.length === 0
        ? { type: 'NodesScheduled', status: 'True', reason: clusterReasons.nodesScheduled, message: 'Every node VM is placed.' }
        : {
            type: 'NodesScheduled',
            status: 'False',
            reason: clusterReasons.nodesUnschedulable,
            message: `${unschedulable.length} of ${cpReplicas + workersWanted} nodes are missing: ${countMessages(unschedulable)}`,
          };
    const readyMessage = serviceError
      ? `The K8s Cluster Service cannot be reached: ${serviceError.message}`
      : observation?.reachable === false
        ? 'The K8s Cluster Service cannot reach the cluster.'
        : `Control plane ${cpReady}/${cpReplicas}, workers ${workersReady}/${workersWanted} Ready.`;
    const conditions: Cond[] = [
      refs,
      { type: 'Ready', status: phase === 'Active' ? 'True' : 'False', reason: serviceError?.reason ?? phase, message: readyMessage },
      capacity,
    ];
    conditions.push(...upgradingCondition(upgrade, cluster.status?.conditions));
    await writeClusterStatus(
      cluster,
      {
        phase,
        version,
        nodes: `${workersReady}/${workersWanted}`,
        controlPlane: { ready: cpReady, replicas: cpActive.length, nodes: `${cpReady}/${cpReplicas}` },
        nodePools: summaries,
        plugins: observation?.exists ? observation.plugins : (cluster.spec.plugins ?? []).map((p) => ({ name: p.name, ...(p.version ? { version: p.version } : {}), state: 'inactive' })),
        serviceMeshes: observation?.exists
          ? observation.serviceMeshes.map((m) => ({ mesh: m.mesh, role: m.role as 'primary' | 'secondary', state: listers.serviceMeshes.get(m.mesh) ? m.state : 'error' }))
          : (cluster.spec.serviceMeshes ?? []).map((m) => ({ mesh: m.mesh, role: m.role ?? 'primary', state: 'inactive' })),
        network: observation?.cni ? { cni: observation.cni.name, state: observation.cni.state } : { cni: cluster.spec.network?.cni ?? 'cilium', state: 'inactive' },
        bastions: (cluster.spec.bastions ?? []).map((name) => {
          const vm = listers.vms.get(`${cluster.metadata.namespace}/${name}`);
          return { name, state: !vm ? 'missing' : vm.spec.role === 'Bastion' && vm.status?.phase === 'Running' ? 'active' : 'error' };
        }),
        apiServer: observation?.apiServer ?? cluster.status?.apiServer,
        kubeconfigSecret,
        upgrade,
      },
      conditions,
    );
    // The service is polled while it has work (nodes joining or draining, a desired state it
    // has not taken yet) or an upgrade's deadline runs; VM changes wake the cluster anyway.
    const waitingOnService =
      changed ||
      upgrading ||
      serviceError !== undefined ||
      vms.some((vm) => vm.metadata.annotations?.[DRAIN_ANNOTATION] !== undefined) ||
      (observation?.exists === true && (observation.nodes.some((n) => n.state !== 'Ready') || !observation.apiServer));
    return { requeueAfterMs: waitingOnService ? pollMs : settled ? resyncMs : pollMs * 5 };
  }

  /** Creates the VMs a plan asks for, marks the ones to remove, deletes the drained ones. */
  async function apply(
    cluster: K8sCluster,
    group: Group,
    vms: VirtualMachine[],
    plan: { create: number; remove: string[] },
    build: { version: string; specification: string; vmGroup: string; spreadAcross: 'Rack' | 'Host' | undefined },
    observation: ClusterObservation | undefined,
  ): Promise<boolean> {
    let changed = false;
    const k = keyString(keyOf(cluster));
    // The creates of one plan go together: a pool of fifty is one round trip's wait, not fifty.
    const created = await Promise.allSettled(
      Array.from({ length: plan.create }, () => client.create<VirtualMachine>(Kinds.VirtualMachine, nodeVm({ cluster, group, image: cluster.spec.image!, ...build }))),
    );
    for (const result of created) {
      if (result.status === 'rejected') continue;
      expectations.expect(k, result.value.metadata.name!, ctx.now().getTime());
      ctx.events.record(cluster, 'Normal', clusterReasons.createdNode, `Created ${group.kind === 'ControlPlane' ? 'control-plane' : `pool ${group.pool.metadata.name}`} node ${result.value.metadata.name} (${build.version}).`);
      changed = true;
    }
    const failed = created.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    // Refused (a suspended tenant, a policy): said on the cluster, tried again on the next poll.
    if (failed && failed.reason instanceof ApiError && (failed.reason.code === 403 || failed.reason.code === 422)) {
      ctx.events.record(cluster, 'Warning', clusterReasons.cannotCreateNode, `Cannot create a node VM: ${failed.reason.message}`);
    } else if (failed) throw failed.reason;
    for (const name of plan.remove) {
      const vm = vms.find((v) => v.metadata.name === name);
      if (!vm || vm.metadata.annotations?.[DRAIN_ANNOTATION] !== undefined) continue;
      try {
        await client.patch(Kinds.VirtualMachine, keyOf(vm), 'merge', { metadata: { annotations: { [DRAIN_ANNOTATION]: ctx.now().toISOString() } } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      ctx.events.record(cluster, 'Normal', clusterReasons.drainingNode, `Draining node ${name} before its VM is deleted.`);
      changed = true;
    }
    // A marked VM goes once the service no longer lists its node (cordoned, drained, removed).
    for (const vm of vms) {
      if (vm.metadata.annotations?.[DRAIN_ANNOTATION] === undefined || vm.metadata.deletionTimestamp) continue;
      if (observation?.nodes.some((n) => n.name === vm.metadata.name)) continue;
      await deleteVm(vm);
      ctx.events.record(cluster, 'Normal', clusterReasons.deletedNode, `Deleted the VM of drained node ${vm.metadata.name}.`);
      changed = true;
    }
    return changed;
  }

  async function ensureKubeconfig(cluster: K8sCluster, kubeconfig: string, apiServer: string | undefined): Promise<string> {
    const name = `${cluster.metadata.name}-kubeconfig`;
    // Written again when the API server moved (a service that restarted on another port).
    if (cluster.status?.kubeconfigSecret === name && cluster.status?.apiServer === apiServer) return name;
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name,
        namespace: cluster.metadata.namespace,
        labels: { [CLUSTER_LABEL]: cluster.metadata.name! },
        ownerReferences: [{ apiVersion, kind: 'K8sCluster', name: cluster.metadata.name!, uid: cluster.metadata.uid!, controller: true }],
      },
      type: 'Opaque',
      data: { value: Buffer.from(kubeconfig).toString('base64') },
    };
    try {
      await client.create(Secrets, secret as KubeObject);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      await client.patch(Secrets, { namespace: cluster.metadata.namespace, name }, 'merge', { data: secret.data });
    }
    return name;
  }

  return {
    async reconcile(_rc, key) {
      return reconcile(key);
    },
  };
}

/** The cluster the service should run: every VM that runs and is not leaving, as a node (a worker with its pool's labels and taints). */
export function desiredCluster(cluster: K8sCluster, vms: VirtualMachine[], version: string, pools: K8sNodePool[]): ClusterRequest {
  const poolsByName = new Map(pools.map((p) => [p.metadata.name!, p]));
  const nodes: ClusterNode[] = vms
    .filter((vm) => vm.status?.phase === 'Running' && !vm.metadata.deletionTimestamp && vm.metadata.annotations?.[DRAIN_ANNOTATION] === undefined)
    .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name!.localeCompare(b.metadata.name!))
    .map((vm) => {
      const address = vm.status?.addresses?.[0]?.address;
      const pool = vm.metadata.labels?.[NODE_POOL_LABEL];
      const spec = pool ? poolsByName.get(pool)?.spec : undefined;
      return {
        name: vm.metadata.name!,
        role: vm.spec.role === 'ControlPlane' ? 'ControlPlane' : 'Worker',
        version: vm.metadata.labels?.[VERSION_LABEL] ?? version,
        ...(address ? { address } : {}),
        ...(pool ? { pool } : {}),
        ...(spec?.labels && Object.keys(spec.labels).length > 0 ? { labels: spec.labels } : {}),
        ...(spec?.taints && spec.taints.length > 0 ? { taints: spec.taints } : {}),
      };
    });
  // Control plane first: the first of them bootstraps the cluster.
  nodes.sort((a, b) => Number(a.role !== 'ControlPlane') - Number(b.role !== 'ControlPlane'));
  const body = {
    namespace: cluster.metadata.namespace!,
    name: cluster.metadata.name!,
    version,
    network: {
      cni: cluster.spec.network?.cni ?? 'cilium',
      ...(cluster.spec.network?.podCIDR ? { podCIDR: cluster.spec.network.podCIDR } : {}),
      ...(cluster.spec.network?.serviceCIDR ? { serviceCIDR: cluster.spec.network.serviceCIDR } : {}),
    },
    plugins: (cluster.spec.plugins ?? []).map((p) => ({ name: p.name, ...(p.version ? { version: p.version } : {}), enabled: p.enabled !== false })),
    serviceMeshes: (cluster.spec.serviceMeshes ?? []).map((m) => ({ mesh: m.mesh, role: m.role ?? 'primary' })),
    nodes,
  };
  return { ...body, revision: createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 16) };
}

/** "2 Unschedulable: 0/2 hosts: ..." — the VMs' own Scheduled messages, counted. */
function countMessages(vms: VirtualMachine[]): string {
  const counts = new Map<string, number>();
  for (const vm of vms) {
    const msg = vm.status?.conditions?.find((c) => c.type === 'Scheduled')?.message ?? 'not placed yet';
    counts.set(msg, (counts.get(msg) ?? 0) + 1);
  }
  return [...counts].map(([m, n]) => `${n} x ${m}`).join('; ');
}

function keyOf(obj: KubeObject): ObjectKey {
  return obj.metadata.namespace ? { namespace: obj.metadata.namespace, name: obj.metadata.name! } : { name: obj.metadata.name! };
}

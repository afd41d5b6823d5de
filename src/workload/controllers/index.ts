// The controllers of a simulated workload cluster, on one manager of their own (no lease: a
// simulated cluster has one controller process, as a KWOK cluster does).
import type { KubeConfig } from '@kubernetes/client-node';
import pino, { type Logger } from 'pino';
import type { KubeObject } from '../../machinery/object.js';
import { keyOf, type ObjectKey } from '../../runtime/keys.js';
import { Manager } from '../../runtime/manager.js';
import { isPlainObject } from '../../machinery/object.js';
import {
  DaemonSets,
  Deployments,
  EndpointsKind,
  Ingresses,
  keysInNamespace,
  Nodes,
  PersistentVolumeClaims,
  PersistentVolumes,
  Pods,
  ReplicaSets,
  Services,
  StatefulSets,
  StorageClasses,
  type Workload,
} from './common.js';
import { DeploymentReconciler } from './deployments.js';
import { KubeletReconciler } from './kubelet.js';
import { DaemonSetReconciler, ReplicaSetReconciler, StatefulSetReconciler } from './pod-sets.js';
import { IngressReconciler, ServiceReconciler } from './services.js';
import { ClaimReconciler, VolumeReconciler } from './volumes.js';

export interface WorkloadControllers {
  manager: Manager;
  done: Promise<void>;
  stop(): Promise<void>;
}

export function startWorkloadControllers(kubeConfig: KubeConfig, log: Logger = pino({ level: 'warn' })): WorkloadControllers {
  const manager = new Manager({ kubeConfig, fieldManager: 'virtflow-workload-simulator', leaderElection: false, log });
  const client = manager.client;
  const pods = manager.informer<KubeObject>(Pods);
  const nodes = manager.informer<KubeObject>(Nodes);
  const replicaSets = manager.informer<Workload>(ReplicaSets);
  const deployments = manager.informer<Workload>(Deployments);
  const statefulSets = manager.informer<Workload>(StatefulSets);
  const daemonSets = manager.informer<Workload>(DaemonSets);
  const services = manager.informer<KubeObject>(Services);
  const endpoints = manager.informer<KubeObject>(EndpointsKind);
  const claims = manager.informer<KubeObject>(PersistentVolumeClaims);
  const volumes = manager.informer<KubeObject>(PersistentVolumes);
  const classes = manager.informer<KubeObject>(StorageClasses);
  const ingresses = manager.informer<KubeObject>(Ingresses);

  manager.controller('kubelet').for(pods).withWorkers(4).complete(new KubeletReconciler(client, pods, nodes));
  manager.controller('replicaset').for(replicaSets).owns(pods).withWorkers(2).complete(new ReplicaSetReconciler(client, replicaSets, pods));
  manager.controller('deployment').for(deployments).owns(replicaSets).withWorkers(2).complete(new DeploymentReconciler(client, deployments, replicaSets));
  manager.controller('statefulset').for(statefulSets).owns(pods).complete(new StatefulSetReconciler(client, statefulSets, pods, claims));
  manager
    .controller('daemonset')
    .for(daemonSets)
    .owns(pods)
    .watches(nodes, () => daemonSets.list().map((ds) => keyOf(ds)))
    .complete(new DaemonSetReconciler(client, daemonSets, pods, nodes));
  manager
    .controller('service')
    .for(services)
    .watches(pods, (pod) => keysInNamespace(services, pod.metadata.namespace))
    .watches(endpoints, (ep) => [keyOf(ep)])
    .complete(new ServiceReconciler(client, services, pods, endpoints));
  manager.controller('ingress').for(ingresses).complete(new IngressReconciler(client, ingresses));
  manager
    .controller('persistentvolumeclaim')
    .for(claims)
    .watches(classes, () => claims.list().filter((c) => (c.status as { phase?: string } | undefined)?.phase !== 'Bound').map((c) => keyOf(c)))
    .watches(volumes, (pv) => claimKeyOf(pv))
    .complete(new ClaimReconciler(client, claims, volumes, classes));
  manager
    .controller('persistentvolume')
    .for(volumes)
    .watches(claims, (claim) => {
      const name = isPlainObject(claim.spec) ? claim.spec.volumeName : undefined;
      return typeof name === 'string' && name ? [{ name }] : [];
    })
    .complete(new VolumeReconciler(client, volumes, claims));

  const abort = new AbortController();
  const done = manager.start(abort.signal);
  return {
    manager,
    done,
    async stop() {
      abort.abort();
      await done.catch(() => {});
    },
  };
}

function claimKeyOf(pv: KubeObject): ObjectKey[] {
  const ref = isPlainObject(pv.spec) ? pv.spec.claimRef : undefined;
  return isPlainObject(ref) && typeof ref.name === 'string' ? [{ namespace: String(ref.namespace), name: ref.name }] : [];
}

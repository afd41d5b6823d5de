// A simulated workload cluster: VirtFlow's own API server code on a database of its own,
// serving the workload kinds instead of VirtFlow's, with simulated nodes, a default storage
// class and the controllers that make Deployments, StatefulSets and DaemonSets run. What the
// operations console and the K8s cluster service talk to where there is no real cluster.
import path from 'node:path';
import pg from 'pg';
import type { ObjectService, WriteOptions } from '../api/object-service.js';
import { loadKubeConfig } from '../cli/controllers.js';
import { startStandalone, type Standalone } from '../cli/standalone.js';
import { formatConditionTime } from '../machinery/conditions.js';
import { ApiError } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import { startWorkloadControllers, type WorkloadControllers } from './controllers/index.js';
import { DEFAULT_CLASS_ANNOTATION } from './controllers/volumes.js';
import { workloadResources } from './resources.js';

export interface SimulatedClusterOptions {
  /** A DNS label: names the cluster's database, folder and kubeconfig context. */
  name: string;
  /** VirtFlow's home; the cluster lives in <home>/clusters/<name>. */
  home: string;
  /** The PostgreSQL server to make the cluster's own database on. */
  databaseUrl: string;
  port?: number;
  host?: string;
  nodes?: number;
  /** The Kubernetes version the cluster reports (default v1.32.0). */
  version?: string;
}

export interface SimulatedCluster {
  name: string;
  url: string;
  /** Path of a kubeconfig with the cluster's admin token. */
  kubeconfig: string;
  token: string;
  caCert: string;
  standalone: Standalone;
  controllers: WorkloadControllers;
  stop(): Promise<void>;
}

const NAME = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/;

/** The database `name` on the server of `serverUrl`, created when missing; answers its URL. */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    // Identifiers cannot be bound parameters: quoted, with any quote doubled.
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } catch (err) {
    // Two starts racing: the other one made it.
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function startSimulatedCluster(opts: SimulatedClusterOptions): Promise<SimulatedCluster> {
  if (!NAME.test(opts.name)) throw new Error(`a simulated cluster's name must be a DNS label of at most 40 characters, got "${opts.name}"`);
  const version = opts.version ?? 'v1.32.0';
  // Named after the database VirtFlow itself uses, so two VirtFlows on one PostgreSQL server
  // each have their own "demo".
  const parent = decodeURIComponent(new URL(opts.databaseUrl).pathname.slice(1)) || 'postgres';
  const databaseUrl = await ensureDatabase(opts.databaseUrl, `${parent}_cluster_${opts.name.replaceAll('-', '_')}`.slice(0, 63));
  const standalone = await startStandalone({
    home: path.join(opts.home, 'clusters', opts.name),
    port: opts.port ?? 0,
    host: opts.host,
    databaseUrl,
    servedResources: workloadResources,
    virtflowKinds: false,
    version,
  });
  let controllers: WorkloadControllers | undefined;
  try {
    await seedCluster(standalone.server.service, { nodes: opts.nodes ?? 3, version, name: opts.name });
    controllers = startWorkloadControllers(loadKubeConfig(standalone.kubeconfig));
  } catch (err) {
    await standalone.stop();
    throw err;
  }
  const running = controllers;
  return {
    name: opts.name,
    url: standalone.url,
    kubeconfig: standalone.kubeconfig,
    token: standalone.token,
    caCert: standalone.caCert,
    standalone,
    controllers: running,
    async stop() {
      await running.stop();
      await standalone.stop();
    },
  };
}

const seeder: WriteOptions = {
  dryRun: false,
  fieldValidation: 'Strict',
  fieldManager: 'virtflow-workload-simulator',
  user: { username: 'system:virtflow-workload-simulator', groups: ['system:masters'] },
  userAgent: 'virtflow-workload-simulator',
};

async function ensure(service: ObjectService, group: string, plural: string, obj: KubeObject): Promise<void> {
  const info = service.registry.lookup(group, 'v1', plural)!;
  try {
    await service.create(info, obj.metadata.namespace, obj, seeder);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 409)) throw err;
  }
}

/** Nodes that report Ready, a default StorageClass, and a few static volumes. */
async function seedCluster(service: ObjectService, opts: { nodes: number; version: string; name: string }): Promise<void> {
  for (let i = 1; i <= opts.nodes; i += 1) {
    const name = `${opts.name}-node-${i}`;
    await ensure(service, '', 'nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'node.kubernetes.io/instance-type': 'simulated' } },
      spec: { podCIDR: `10.244.${i}.0/24` },
    });
    const info = service.registry.lookup('', 'v1', 'nodes')!;
    const at = formatConditionTime(new Date());
    await service.patch(
      info,
      undefined,
      name,
      (node) => ({
        ...node,
        status: {
          capacity: { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' },
          allocatable: { cpu: '8', memory: '31Gi', pods: '110', 'ephemeral-storage': '95Gi' },
          conditions: [
            { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status (simulated)', lastHeartbeatTime: at, lastTransitionTime: at },
          ],
          addresses: [
            { type: 'InternalIP', address: `172.16.0.${10 + i}` },
            { type: 'Hostname', address: name },
          ],
          nodeInfo: {
            kubeletVersion: opts.version,
            kubeProxyVersion: opts.version,
            containerRuntimeVersion: 'containerd://1.7.0',
            operatingSystem: 'linux',
            architecture: 'amd64',
            osImage: 'VirtFlow simulated node',
            kernelVersion: '6.1.0',
            machineID: name,
            systemUUID: name,
            bootID: name,
          },
        },
      }),
      { ...seeder, subresource: 'status' },
    );
  }
  await ensure(service, 'storage.k8s.io', 'storageclasses', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'standard', annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    provisioner: 'simulated.virtflow.io/ceph-rbd',
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'Immediate',
    allowVolumeExpansion: true,
  });
  for (const size of ['10Gi', '50Gi']) {
    await ensure(service, '', 'persistentvolumes', {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `static-${size.toLowerCase()}` },
      spec: {
        capacity: { storage: size },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: '',
        nfs: { server: '172.16.0.2', path: `/exports/${size.toLowerCase()}` },
      },
    });
  }
}

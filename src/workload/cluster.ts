// A simulated workload cluster: VirtFlow's own API server code on a database of its own,
// serving the workload kinds instead of VirtFlow's, with simulated nodes, a default storage
// class and the controllers that make Deployments, StatefulSets and DaemonSets run. What the
// operations console and the K8s cluster service talk to where there is no real cluster.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { ObjectService, WriteOptions } from '../api/object-service.js';
import { loadKubeConfig } from '../cli/controllers.js';
import { startStandalone, type Standalone } from '../cli/standalone.js';
import { ApiError } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import { ObjectClient } from '../runtime/client.js';
import { startWorkloadControllers, type WorkloadControllers } from './controllers/index.js';
import { DEFAULT_CLASS_ANNOTATION } from './controllers/volumes.js';
import { syncNodes, type WorkloadNode } from './nodes.js';
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
  /** Ready nodes it starts with, named <name>-node-<i> (default 3); 0 for a cluster whose nodes syncNodes brings. */
  nodes?: number;
  /** Hot-path connections of its database pool (default the server's); a fleet of clusters keeps it small. */
  poolSize?: number;
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

/**
 * The cluster's database: named after the database VirtFlow itself uses, so two VirtFlows on
 * one PostgreSQL server each have their own "demo".
 */
function databaseNameOf(serverUrl: string, name: string): string {
  const parent = decodeURIComponent(new URL(serverUrl).pathname.slice(1)) || 'postgres';
  return `${parent}_cluster_${name.replaceAll('-', '_')}`.slice(0, 63);
}

function clusterHome(home: string, name: string): string {
  return path.join(home, 'clusters', name);
}

/** Deletes a stopped cluster for good: its database and its folder (certificates, tokens). */
export async function removeSimulatedCluster(opts: Pick<SimulatedClusterOptions, 'name' | 'home' | 'databaseUrl'>): Promise<void> {
  const admin = new pg.Client({ connectionString: opts.databaseUrl });
  await admin.connect();
  try {
    // FORCE: a connection of the stopped server still closing must not keep the database.
    await admin.query(`DROP DATABASE IF EXISTS "${databaseNameOf(opts.databaseUrl, opts.name).replaceAll('"', '""')}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  await rm(clusterHome(opts.home, opts.name), { recursive: true, force: true });
}

export async function startSimulatedCluster(opts: SimulatedClusterOptions): Promise<SimulatedCluster> {
  if (!NAME.test(opts.name)) throw new Error(`a simulated cluster's name must be a DNS label of at most 40 characters, got "${opts.name}"`);
  const version = opts.version ?? 'v1.32.0';
  const databaseUrl = await ensureDatabase(opts.databaseUrl, databaseNameOf(opts.databaseUrl, opts.name));
  const standalone = await startStandalone({
    home: clusterHome(opts.home, opts.name),
    port: opts.port ?? 0,
    host: opts.host,
    databaseUrl,
    servedResources: workloadResources,
    virtflowKinds: false,
    version,
    poolSize: opts.poolSize,
  });
  let controllers: WorkloadControllers | undefined;
  try {
    await seedCluster(standalone.server.service);
    const kubeConfig = loadKubeConfig(standalone.kubeconfig);
    const count = opts.nodes ?? 3;
    const nodes = Array.from({ length: count }, (_, i): WorkloadNode => ({ name: `${opts.name}-node-${i + 1}`, role: 'Worker', state: 'Ready', version }));
    if (nodes.length > 0) await syncNodes(new ObjectClient(kubeConfig), nodes);
    controllers = startWorkloadControllers(kubeConfig);
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

/** A default StorageClass and a few static volumes (the nodes come from syncNodes). */
async function seedCluster(service: ObjectService): Promise<void> {
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

// The console's clusters are K8sCluster records: the ones VirtFlow builds and the ones it
// imports alike. Seed 004 names a cluster by a small integer; that id is kept in a table,
// keyed by the K8sCluster's uid, so it never changes while the cluster exists and is never
// given to another. Clusters registered through the console live in the namespace
// CONSOLE_NAMESPACE with their credentials in a Secret beside them.
import type { ObjectService, UserInfo, WriteOptions } from '../api/object-service.js';
import { resourceId } from '../api/registry.js';
import { clone, type KubeObject } from '../machinery/object.js';
import { isPlainObject } from '../machinery/object.js';
import type { ResourceInfo } from '../machinery/resource.js';
import type { Database } from '../store/database.js';
import { formatConditionTime } from '../machinery/conditions.js';
import { consoleErrors } from './envelope.js';
import { serverOf, type Credentials } from './member-client.js';

export const CONSOLE_NAMESPACE = 'virtflow-system';
/** The console's name for a cluster when it differs from metadata.name (which cannot change). */
export const DISPLAY_NAME_ANNOTATION = 'virtflow.io/display-name';
export const CONSOLE_LABEL = 'virtflow.io/registered-by';

export interface ClusterStats {
  status: 'online' | 'offline';
  version: string;
  nodeCount: number;
  podCount: number;
  namespaceCount: number;
}

export interface ClusterRecord {
  id: number;
  cluster: KubeObject;
  stats?: ClusterStats & { lastConnectedAt?: string };
}

interface IdRow {
  id: string;
  uid: string;
  status: string;
  version: string;
  node_count: number;
  pod_count: number;
  namespace_count: number;
  last_connected_at: Date | string | null;
}

function spec(obj: KubeObject): Record<string, unknown> {
  return isPlainObject(obj.spec) ? obj.spec : {};
}

export function displayName(cluster: KubeObject): string {
  return cluster.metadata.annotations?.[DISPLAY_NAME_ANNOTATION] ?? cluster.metadata.name ?? '';
}

export function importOf(cluster: KubeObject): { apiServer?: string; authType?: string; credentialsSecret?: string } {
  const imported = spec(cluster).import;
  return isPlainObject(imported) ? (imported as { apiServer?: string; authType?: string; credentialsSecret?: string }) : {};
}

/** How long a connection check stands before a list checks the cluster again. */
export const CHECK_FRESH_MS = 30_000;

export class ConsoleClusters {
  /** When each cluster id was last checked by this server (a list checks the stale ones). */
  private readonly checkedAt = new Map<number, number>();

  constructor(
    private readonly service: ObjectService,
    private readonly db: Database,
  ) {}

  private info(group: string, version: string, plural: string): ResourceInfo {
    const info = this.service.registry.lookup(group, version, plural);
    if (!info) throw consoleErrors.notFound(`the resource ${plural}${group ? `.${group}` : ''} (is VirtFlow's CRD installed?)`);
    return info;
  }

  get clusterInfo(): ResourceInfo {
    return this.info('virtflow.io', 'v1alpha1', 'k8sclusters');
  }

  get secretInfo(): ResourceInfo {
    return this.info('', 'v1', 'secrets');
  }

  /** Every K8sCluster, with its id (given now to those that have none). */
  async list(): Promise<ClusterRecord[]> {
    await this.service.store.syncCache();
    const clusters = this.service.store.cache.list(resourceId(this.clusterInfo)).map((e) => e.object);
    const rows = await this.rowsFor(clusters.map((c) => c.metadata.uid!));
    return clusters
      .map((cluster) => ({ cluster, ...recordOf(rows.get(cluster.metadata.uid!)!) }))
      .sort((a, b) => a.id - b.id);
  }

  async byId(id: number): Promise<ClusterRecord> {
    const rows = await this.db.query<IdRow>('SELECT * FROM console_clusters WHERE id = ?', [id]);
    const row = rows[0];
    await this.service.store.syncCache();
    const cluster = row ? this.service.store.cache.list(resourceId(this.clusterInfo)).find((e) => e.object.metadata.uid === row.uid)?.object : undefined;
    if (!row || !cluster) throw consoleErrors.notFound(`cluster ${id}`);
    return { cluster, ...recordOf(row) };
  }

  private async rowsFor(uids: string[]): Promise<Map<string, IdRow>> {
    if (uids.length > 0) {
      await this.db.query(
        `INSERT INTO console_clusters (uid) SELECT u FROM jsonb_array_elements_text(?::jsonb) AS u ON CONFLICT (uid) DO NOTHING`,
        [JSON.stringify(uids)],
      );
    }
    const rows = await this.db.query<IdRow>('SELECT * FROM console_clusters WHERE uid IN (SELECT jsonb_array_elements_text(?::jsonb))', [JSON.stringify(uids)]);
    return new Map(rows.map((r) => [r.uid, r]));
  }

  async idOf(cluster: KubeObject): Promise<number> {
    return Number((await this.rowsFor([cluster.metadata.uid!])).get(cluster.metadata.uid!)!.id);
  }

  /** Whether the cluster's recorded status is older than CHECK_FRESH_MS (or was never checked here). */
  isStale(id: number, now = Date.now()): boolean {
    return now - (this.checkedAt.get(id) ?? -Infinity) > CHECK_FRESH_MS;
  }

  async recordConnection(id: number, stats: ClusterStats): Promise<void> {
    this.checkedAt.set(id, Date.now());
    await this.db.query(
      `UPDATE console_clusters SET status = ?, version = ?, node_count = ?, pod_count = ?, namespace_count = ?,
         last_connected_at = CASE WHEN ? = 'online' THEN now() ELSE last_connected_at END WHERE id = ?`,
      [stats.status, stats.version, stats.nodeCount, stats.podCount, stats.namespaceCount, stats.status, id],
    );
  }

  async recordOffline(id: number): Promise<void> {
    this.checkedAt.set(id, Date.now());
    await this.db.query(`UPDATE console_clusters SET status = 'offline' WHERE id = ?`, [id]);
  }

  /** The credentials to reach a cluster: an imported one's Secret, or a built one's kubeconfig Secret. */
  async credentials(cluster: KubeObject): Promise<Credentials> {
    const imported = importOf(cluster);
    const namespace = cluster.metadata.namespace;
    const status = isPlainObject(cluster.status) ? cluster.status : {};
    const secretName = imported.credentialsSecret ?? (typeof status.kubeconfigSecret === 'string' ? status.kubeconfigSecret : undefined);
    if (!secretName) {
      throw consoleErrors.validation(`cluster ${displayName(cluster)} has no credentials yet`, 'a built cluster has credentials once its control plane is up (status.kubeconfigSecret)');
    }
    const secret = (await this.service.read(this.secretInfo, namespace, secretName).catch(() => undefined))?.object;
    if (!secret) throw consoleErrors.notFound(`the credentials Secret ${namespace}/${secretName} of cluster ${displayName(cluster)}`);
    const data = isPlainObject(secret.data) ? (secret.data as Record<string, string>) : {};
    const decode = (key: string) => (data[key] ? Buffer.from(data[key], 'base64').toString('utf8') : undefined);
    // A built cluster's Secret holds its kubeconfig under "value", as Cluster API's do.
    const authType = imported.authType ?? (data.kubeconfig || data.value ? 'kubeconfig' : 'token');
    if (authType === 'kubeconfig') {
      const kubeconfig = decode('kubeconfig') ?? (imported.credentialsSecret ? undefined : decode('value'));
      if (!kubeconfig) throw consoleErrors.validation(`the Secret ${namespace}/${secretName} has no "kubeconfig" key`);
      return { authType: 'kubeconfig', apiServer: imported.apiServer, kubeconfig };
    }
    const token = decode('token');
    if (!token || !imported.apiServer) throw consoleErrors.validation(`the Secret ${namespace}/${secretName} has no "token" key, or the cluster no spec.import.apiServer`);
    return { authType: 'token', apiServer: imported.apiServer, token, caData: data['ca.crt'], insecureSkipTlsVerify: decode('insecure-skip-tls-verify') === 'true' };
  }

  /** Registers an existing cluster: its credentials Secret, then its K8sCluster. */
  async register(input: { name: string; description?: string; version: string; creds: Credentials }, user: UserInfo): Promise<KubeObject> {
    const { creds } = input;
    const secretName = `${input.name}-credentials`;
    const data: Record<string, string> =
      creds.authType === 'token'
        ? {
            token: b64(creds.token),
            ...(creds.caData ? { 'ca.crt': creds.caData } : {}),
            ...(creds.insecureSkipTlsVerify ? { 'insecure-skip-tls-verify': b64('true') } : {}),
          }
        : { kubeconfig: b64(creds.kubeconfig) };
    const opts = writeOptions(user);
    await this.service.create(
      this.secretInfo,
      CONSOLE_NAMESPACE,
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: secretName, namespace: CONSOLE_NAMESPACE, labels: { [CONSOLE_LABEL]: 'console' } }, type: 'Opaque', data },
      opts,
    );
    try {
      const created = await this.service.create(
        this.clusterInfo,
        CONSOLE_NAMESPACE,
        {
          apiVersion: 'virtflow.io/v1alpha1',
          kind: 'K8sCluster',
          metadata: { name: input.name, namespace: CONSOLE_NAMESPACE, labels: { [CONSOLE_LABEL]: 'console' } },
          spec: {
            version: input.version,
            ...(input.description ? { description: input.description } : {}),
            import: { apiServer: creds.authType === 'token' ? creds.apiServer : (creds.apiServer ?? serverOf(creds)), authType: creds.authType, credentialsSecret: secretName },
          },
        },
        opts,
      );
      return created.object;
    } catch (err) {
      await this.service.delete(this.secretInfo, CONSOLE_NAMESPACE, secretName, {}, opts).catch(() => {});
      throw err;
    }
  }

  async update(record: ClusterRecord, change: { name?: string; description?: string; creds?: Credentials }, user: UserInfo): Promise<KubeObject> {
    const { cluster } = record;
    const opts = writeOptions(user);
    if (change.creds) {
      const secretName = importOf(cluster).credentialsSecret;
      if (!secretName) throw consoleErrors.validation('only an imported cluster\'s credentials can be replaced through the console');
      const creds = change.creds;
      const data = creds.authType === 'token' ? { token: b64(creds.token), ...(creds.caData ? { 'ca.crt': creds.caData } : {}) } : { kubeconfig: b64(creds.kubeconfig) };
      await this.service.patch(this.secretInfo, cluster.metadata.namespace, secretName, (s) => ({ ...s, data }), opts);
    }
    const result = await this.service.patch(
      this.clusterInfo,
      cluster.metadata.namespace,
      cluster.metadata.name!,
      (current) => {
        const next = clone(current);
        if (change.name !== undefined) next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [DISPLAY_NAME_ANNOTATION]: change.name };
        const nextSpec = isPlainObject(next.spec) ? next.spec : {};
        if (change.description !== undefined) nextSpec.description = change.description;
        if (change.creds && isPlainObject(nextSpec.import)) {
          nextSpec.import = { ...nextSpec.import, authType: change.creds.authType, ...(change.creds.authType === 'token' ? { apiServer: change.creds.apiServer } : {}) };
        }
        next.spec = nextSpec;
        return next;
      },
      opts,
    );
    return result.object;
  }

  /** Deletes the K8sCluster (a built one is torn down by its controller) and a console Secret. */
  async remove(record: ClusterRecord, user: UserInfo): Promise<void> {
    const { cluster } = record;
    const opts = writeOptions(user);
    await this.service.delete(this.clusterInfo, cluster.metadata.namespace, cluster.metadata.name!, { propagationPolicy: 'Background' }, opts);
    const secretName = importOf(cluster).credentialsSecret;
    if (secretName && cluster.metadata.labels?.[CONSOLE_LABEL] === 'console') {
      await this.service.delete(this.secretInfo, cluster.metadata.namespace, secretName, {}, opts).catch(() => {});
    }
  }
}

function recordOf(row: IdRow): Omit<ClusterRecord, 'cluster'> {
  return {
    id: Number(row.id),
    stats:
      row.status === 'unknown'
        ? undefined
        : {
            status: row.status === 'online' ? 'online' : 'offline',
            version: row.version,
            nodeCount: row.node_count,
            podCount: row.pod_count,
            namespaceCount: row.namespace_count,
            lastConnectedAt: row.last_connected_at ? formatConditionTime(row.last_connected_at) : undefined,
          },
  };
}

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export function writeOptions(user: UserInfo): WriteOptions {
  return { dryRun: false, fieldValidation: 'Strict', fieldManager: 'virtflow-console', user, userAgent: 'virtflow-console' };
}

// /api/k8s/clusters: list, register by token or kubeconfig, update, delete, test a saved or
// a new connection, and a live status with node, pod and namespace counts.
import type { ObjectClient } from '../runtime/client.js';
import { formatConditionTime } from '../machinery/conditions.js';
import { displayName, importOf, type ClusterRecord, type ClusterStats } from './clusters.js';
import { consoleErrors } from './envelope.js';
import { memberClient, memberError, serverOf, type Credentials } from './member-client.js';
import { common, matchesSearch, paginate, type Args, type Param } from './params.js';
import { createdAt, type ConsoleContext, type Route } from './route.js';

const credentialParams: Param[] = [
  { name: 'api_server', type: 'string', format: 'url', description: 'https:// address of the cluster\'s API server.' },
  { name: 'auth_type', type: 'string', enum: ['token', 'kubeconfig'], description: 'How to authenticate: token or kubeconfig.' },
  { name: 'token', type: 'string', description: 'Bearer token (auth_type token).' },
  { name: 'kubeconfig', type: 'string', description: 'Kubeconfig YAML with inline credentials (auth_type kubeconfig).' },
  { name: 'ca_cert', type: 'string', description: 'PEM CA certificate of the API server (auth_type token; optional).' },
  { name: 'insecure_skip_tls_verify', type: 'boolean', description: 'Do not verify the server certificate (auth_type token; set on purpose only).' },
];

/** Credentials from a request, or undefined when it names none. */
function credentialsOf(args: Args, required: boolean): Credentials | undefined {
  const authType = args.auth_type as string | undefined;
  if (!authType) {
    if (required) throw consoleErrors.validation('auth_type: is required (token or kubeconfig)');
    if (args.token || args.kubeconfig) throw consoleErrors.validation('auth_type: is required with token or kubeconfig');
    return undefined;
  }
  if (authType === 'token') {
    if (!args.api_server) throw consoleErrors.validation('api_server: is required with auth_type token');
    if (!args.token) throw consoleErrors.validation('token: is required with auth_type token');
    const pem = args.ca_cert as string | undefined;
    if (pem && !pem.includes('-----BEGIN CERTIFICATE-----')) throw consoleErrors.validation('ca_cert: must be a PEM certificate');
    return {
      authType,
      apiServer: args.api_server as string,
      token: args.token as string,
      caData: pem ? Buffer.from(pem).toString('base64') : undefined,
      insecureSkipTlsVerify: args.insecure_skip_tls_verify === true,
    };
  }
  if (!args.kubeconfig) throw consoleErrors.validation('kubeconfig: is required with auth_type kubeconfig');
  return { authType: 'kubeconfig', apiServer: args.api_server as string | undefined, kubeconfig: args.kubeconfig as string };
}

/** Version and counts, read from the cluster now. */
export async function readStats(client: ObjectClient): Promise<ClusterStats> {
  const version = await client.getPath<{ gitVersion?: string }>('/version');
  const count = async (path: string) => (await client.getPath<{ items?: unknown[] }>(path)).items?.length ?? 0;
  const [nodeCount, podCount, namespaceCount] = await Promise.all([count('/api/v1/nodes'), count('/api/v1/pods'), count('/api/v1/namespaces')]);
  return { status: 'online', version: version.gitVersion ?? '', nodeCount, podCount, namespaceCount };
}

/** A list checks each stale cluster with this bound, side by side, so a dead cluster holds the page briefly. */
const LIST_CHECK_TIMEOUT_MS = 3_000;

/**
 * The clusters of a page with a live status: each not checked within CHECK_FRESH_MS is
 * checked now (a cluster that does not answer shows offline); one without credentials yet
 * (a built cluster still bootstrapping) keeps what its phase says.
 */
async function withLiveStatus(ctx: ConsoleContext, records: ClusterRecord[]): Promise<ClusterRecord[]> {
  return Promise.all(
    records.map(async (record) => {
      if (!ctx.clusters.isStale(record.id)) return record;
      const creds = await ctx.clusters.credentials(record.cluster).catch(() => undefined);
      if (!creds) return record;
      try {
        const stats = await readStats(memberClient(creds, LIST_CHECK_TIMEOUT_MS));
        await ctx.clusters.recordConnection(record.id, stats);
        return { ...record, stats: { ...stats, lastConnectedAt: formatConditionTime(new Date()) } };
      } catch {
        await ctx.clusters.recordOffline(record.id);
        const before = record.stats ?? { version: '', nodeCount: 0, podCount: 0, namespaceCount: 0 };
        return { ...record, stats: { ...before, status: 'offline' as const } };
      }
    }),
  );
}

function clusterView(record: ClusterRecord): Record<string, unknown> {
  const { cluster, stats } = record;
  const imported = importOf(cluster);
  const status = (cluster.status ?? {}) as Record<string, unknown>;
  return {
    id: record.id,
    name: displayName(cluster),
    namespace: cluster.metadata.namespace,
    api_server: imported.apiServer ?? status.apiServer ?? '',
    auth_type: imported.authType ?? 'kubeconfig',
    source: imported.apiServer ? 'imported' : 'built',
    status: stats?.status ?? (status.phase === 'Active' ? 'online' : status.phase === 'Offline' ? 'offline' : 'unknown'),
    phase: status.phase ?? '',
    node_count: stats?.nodeCount ?? 0,
    pod_count: stats?.podCount ?? 0,
    namespace_count: stats?.namespaceCount ?? 0,
    version: stats?.version || (status.version as string | undefined) || ((cluster.spec as Record<string, unknown> | undefined)?.version as string | undefined) || '',
    description: ((cluster.spec as Record<string, unknown> | undefined)?.description as string | undefined) ?? '',
    created_at: createdAt(cluster),
    last_connected_at: stats?.lastConnectedAt ?? null,
  };
}

/** Tests a connection and records the outcome for a saved cluster. */
async function test(ctx: ConsoleContext, creds: Credentials, id?: number): Promise<ClusterStats & { api_server: string }> {
  const server = serverOf(creds);
  try {
    const stats = await readStats(memberClient(creds));
    if (id !== undefined) await ctx.clusters.recordConnection(id, stats);
    return { ...stats, api_server: server };
  } catch (err) {
    if (id !== undefined) await ctx.clusters.recordOffline(id);
    throw memberError(err, server);
  }
}

function statsView(stats: ClusterStats): Record<string, unknown> {
  return { status: stats.status, version: stats.version, node_count: stats.nodeCount, pod_count: stats.podCount, namespace_count: stats.namespaceCount };
}

const clusterName: Param = { name: 'name', type: 'string', required: true, format: 'namespace', description: 'Cluster name (DNS label).' };
const clusterIdBody: Param = { name: 'id', type: 'integer', required: true, minimum: 1, description: 'Cluster id.' };

export const clusterRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/k8s/clusters',
    summary: 'List clusters (获取集群列表)',
    mutates: false,
    scope: 'cluster',
    params: [common.page, common.perPage, common.search],
    async handle(ctx, args) {
      const records = (await ctx.clusters.list()).filter((r) => ctx.visible(r.cluster)).filter((r) => matchesSearch(displayName(r.cluster), args) || matchesSearch(String((r.cluster.spec as { description?: string })?.description ?? ''), args));
      const { items, pagination } = paginate(records, args);
      return { data: { clusters: (await withLiveStatus(ctx, items)).map(clusterView), pagination } };
    },
  },
  {
    method: 'POST',
    path: '/api/k8s/clusters',
    summary: 'Register a cluster by token or kubeconfig (创建集群)',
    mutates: true,
    scope: 'console',
    params: [clusterName, ...credentialParams, { name: 'description', type: 'string', description: 'Description (描述).' }],
    operation: (args) => ({ type: 'create', resource: 'cluster', name: args.name as string }),
    async handle(ctx, args) {
      const creds = credentialsOf(args, true)!;
      // Registered only once reachable: the console answers with what it read.
      const stats = await test(ctx, creds);
      const version = /^v\d+\.\d+\.\d+/.exec(stats.version)?.[0] ?? 'v0.0.0';
      const cluster = await ctx.clusters.register({ name: args.name as string, description: args.description as string | undefined, version, creds }, ctx.user);
      const id = await ctx.clusters.idOf(cluster);
      await ctx.clusters.recordConnection(id, stats);
      return { data: { cluster: { id, name: args.name, api_server: stats.api_server, status: 'online', version: stats.version } }, message: 'cluster created', status: 201 };
    },
  },
  {
    method: 'POST',
    path: '/api/k8s/clusters/update',
    summary: 'Update a cluster\'s name, description or credentials (更新集群)',
    mutates: true,
    scope: 'cluster',
    params: [clusterIdBody, { ...clusterName, required: false, format: undefined }, { name: 'description', type: 'string', description: 'Description.' }, ...credentialParams],
    operation: (args) => ({ type: 'update', resource: 'cluster', name: String(args.name ?? args.id) }),
    async handle(ctx, args) {
      const record = await ctx.cluster(args.id as number);
      const creds = credentialsOf(args, false);
      if (creds) await test(ctx, creds, record.id);
      const cluster = await ctx.clusters.update(record, { name: args.name as string | undefined, description: args.description as string | undefined, creds }, ctx.user);
      return { data: { cluster: clusterView({ ...record, cluster }) }, message: 'cluster updated' };
    },
  },
  {
    method: 'POST',
    path: '/api/k8s/clusters/delete',
    summary: 'Delete a cluster (删除集群)',
    mutates: true,
    scope: 'cluster',
    params: [clusterIdBody],
    operation: (args) => ({ type: 'delete', resource: 'cluster', name: String(args.id) }),
    async handle(ctx, args) {
      const record = await ctx.cluster(args.id as number);
      await ctx.clusters.remove(record, ctx.user);
      return { data: { id: record.id, name: displayName(record.cluster) }, message: 'cluster deleted' };
    },
  },
  {
    method: 'POST',
    path: '/api/k8s/clusters/test',
    summary: 'Test the connection of a saved cluster (id) or of new credentials (测试集群连接)',
    mutates: true,
    scope: 'console',
    params: [{ ...clusterIdBody, required: false }, ...credentialParams],
    operation: (args) => ({ type: 'test', resource: 'cluster', name: args.id !== undefined ? String(args.id) : String(args.api_server ?? '') }),
    async handle(ctx, args) {
      if (args.id !== undefined) {
        const record = await ctx.cluster(args.id as number);
        const stats = await test(ctx, await ctx.clusters.credentials(record.cluster), record.id);
        return { data: { id: record.id, ...statsView(stats), api_server: stats.api_server }, message: 'connection succeeded' };
      }
      const creds = credentialsOf(args, true)!;
      const stats = await test(ctx, creds);
      return { data: { ...statsView(stats), api_server: stats.api_server }, message: 'connection succeeded' };
    },
  },
  {
    method: 'GET',
    path: '/api/k8s/clusters/status',
    summary: 'Live status of a cluster: version, node, pod and namespace counts (获取集群状态)',
    mutates: false,
    scope: 'cluster',
    params: [{ name: 'id', type: 'integer', required: true, minimum: 1, description: 'Cluster id.' }],
    async handle(ctx, args) {
      const member = await ctx.member(args.id as number);
      try {
        const stats = await ctx.call(member, readStats);
        await ctx.clusters.recordConnection(member.record.id, stats);
        return { data: { id: member.record.id, name: displayName(member.record.cluster), api_server: member.server, ...statsView(stats), last_connected_at: formatConditionTime(new Date()) } };
      } catch (err) {
        await ctx.clusters.recordOffline(member.record.id);
        throw err;
      }
    },
  },
];


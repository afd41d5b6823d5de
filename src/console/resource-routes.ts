// The console's day-2 endpoints on a member cluster: namespaces, workloads (with scale and
// restart), pod logs, services, ingresses and endpoints, configmaps and secrets, volumes,
// claims and storage classes. Each reads or writes the member cluster through its own API.
import { formatConditionTime } from '../machinery/conditions.js';
import type { KubeObject } from '../machinery/object.js';
import { isPlainObject } from '../machinery/object.js';
import type { ResourceType } from '../runtime/resource.js';
import { collectionPath, objectPath } from '../runtime/resource.js';
import { consoleErrors } from './envelope.js';
import { common, matchesSearch, paginate, type Args, type Param } from './params.js';
import { createdAt, type AnyObject, type ConsoleContext, type Route } from './route.js';

const core = (plural: string, kind: string, namespaced = true): ResourceType => ({ group: '', version: 'v1', plural, kind, namespaced });
const kinds = {
  namespaces: core('namespaces', 'Namespace', false),
  pods: core('pods', 'Pod'),
  services: core('services', 'Service'),
  endpoints: core('endpoints', 'Endpoints'),
  configmaps: core('configmaps', 'ConfigMap'),
  secrets: core('secrets', 'Secret'),
  persistentvolumes: core('persistentvolumes', 'PersistentVolume', false),
  persistentvolumeclaims: core('persistentvolumeclaims', 'PersistentVolumeClaim'),
  ingresses: { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', kind: 'Ingress', namespaced: true } as ResourceType,
  storageclasses: { group: 'storage.k8s.io', version: 'v1', plural: 'storageclasses', kind: 'StorageClass', namespaced: false } as ResourceType,
};

export const workloadTypes = {
  deployment: { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  statefulset: { group: 'apps', version: 'v1', plural: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  daemonset: { group: 'apps', version: 'v1', plural: 'daemonsets', kind: 'DaemonSet', namespaced: true },
} satisfies Record<string, ResourceType>;

type WorkloadType = keyof typeof workloadTypes;
const typeNames = Object.keys(workloadTypes) as WorkloadType[];

const name = (what: string): Param => ({ name: 'name', type: 'string', required: true, format: 'name', description: `${what} name.` });
const workloadType = (required: boolean): Param => ({ name: 'type', type: 'string', required, enum: typeNames, description: 'Workload type: deployment, statefulset or daemonset.' });

async function list(ctx: ConsoleContext, clusterId: number, kind: ResourceType, namespace?: string, query: Record<string, string> = {}): Promise<AnyObject[]> {
  const member = await ctx.member(clusterId);
  const body = await ctx.call(member, (c) => c.getPath<{ items?: AnyObject[] }>(collectionPath(kind, namespace), query));
  return (body.items ?? []).sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

function page(items: KubeObject[], args: Args, view: (o: AnyObject) => Record<string, unknown>, key: string) {
  const { items: shown, pagination } = paginate(items.filter((o) => matchesSearch(o.metadata.name ?? '', args)), args);
  return { [key]: shown.map((o) => view(o as AnyObject)), pagination };
}

function images(obj: AnyObject): string[] {
  const containers = obj.spec?.template?.spec?.containers;
  return Array.isArray(containers) ? containers.map((c: { image?: string }) => c.image ?? '') : [];
}

function workloadView(type: WorkloadType, w: AnyObject): Record<string, unknown> {
  const s = w.status ?? {};
  const counts =
    type === 'daemonset'
      ? { replicas: s.desiredNumberScheduled ?? 0, ready_replicas: s.numberReady ?? 0, available_replicas: s.numberAvailable ?? 0, updated_replicas: s.updatedNumberScheduled ?? 0 }
      : { replicas: w.spec?.replicas ?? 1, ready_replicas: s.readyReplicas ?? 0, available_replicas: s.availableReplicas ?? s.readyReplicas ?? 0, updated_replicas: s.updatedReplicas ?? 0 };
  return {
    name: w.metadata.name,
    namespace: w.metadata.namespace,
    type,
    ...counts,
    images: images(w),
    labels: w.metadata.labels ?? {},
    selector: w.spec?.selector?.matchLabels ?? {},
    created_at: createdAt(w),
  };
}

function podView(p: AnyObject): Record<string, unknown> {
  const statuses: AnyObject[] = Array.isArray(p.status?.containerStatuses) ? p.status.containerStatuses : [];
  return {
    name: p.metadata.name,
    namespace: p.metadata.namespace,
    status: p.metadata.deletionTimestamp ? 'Terminating' : (p.status?.phase ?? 'Pending'),
    ready: `${statuses.filter((s) => s.ready).length}/${(p.spec?.containers ?? []).length}`,
    restarts: statuses.reduce((n, s) => n + (Number(s.restartCount) || 0), 0),
    containers: (p.spec?.containers ?? []).map((c: { name?: string }) => c.name),
    node: p.spec?.nodeName ?? '',
    ip: p.status?.podIP ?? '',
    created_at: createdAt(p),
  };
}

function selectorString(matchLabels: unknown): string {
  return isPlainObject(matchLabels) ? Object.entries(matchLabels).map(([k, v]) => `${k}=${String(v)}`).join(',') : '';
}

const namespaceRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/k8s/namespaces',
    summary: 'List namespaces (获取命名空间列表)',
    mutates: false,
    scope: 'cluster',
    params: [common.clusterId, common.search, common.page, common.perPage],
    async handle(ctx, args) {
      const items = await list(ctx, args.cluster_id as number, kinds.namespaces);
      return { data: page(items, args, (n) => ({ name: n.metadata.name, status: n.status?.phase ?? 'Active', resource_quota: null, labels: n.metadata.labels ?? {}, created_at: createdAt(n) }), 'namespaces') };
    },
  },
  {
    method: 'POST',
    path: '/api/k8s/namespaces',
    summary: 'Create a namespace (创建命名空间)',
    mutates: true,
    scope: 'cluster',
    params: [common.clusterId, { ...name('Namespace'), format: 'namespace' }],
    operation: (args) => ({ type: 'create', resource: 'namespace', name: args.name as string }),
    async handle(ctx, args) {
      const member = await ctx.member(args.cluster_id as number);
      const created = await ctx.call(member, (c) => c.create(kinds.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: args.name as string } }));
      return { data: { namespace: { name: created.metadata.name, status: 'Active', created_at: createdAt(created) } }, message: 'namespace created', status: 201 };
    },
  },
  {
    method: 'POST',
    path: '/api/k8s/namespaces/delete',
    summary: 'Delete a namespace (删除命名空间)',
    mutates: true,
    scope: 'cluster',
    params: [common.clusterId, common.namespace],
    operation: (args) => ({ type: 'delete', resource: 'namespace', name: args.namespace as string }),
    async handle(ctx, args) {
      const ns = args.namespace as string;
      if (['default', 'kube-system', 'kube-public', 'kube-node-lease'].includes(ns)) {
        throw consoleErrors.validation(`namespace: ${ns} is a system namespace and cannot be deleted through the console`);
      }
      const member = await ctx.member(args.cluster_id as number);
      await ctx.call(member, (c) => c.delete(kinds.namespaces, { name: ns }));
      return { data: { name: ns }, message: 'namespace deleted' };
    },
  },
];

const workloadRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/k8s/workloads',
    summary: 'List workloads by type (获取工作负载列表)',
    mutates: false,
    scope: 'cluster',
    params: [common.clusterId, common.namespace, workloadType(false), common.search, common.page, common.perPage],
    async handle(ctx, args) {
      const types = args.type ? [args.type as WorkloadType] : typeNames;
      const all: { type: WorkloadType; obj: AnyObject }[] = [];
      for (const type of types) {
        for (const obj of await list(ctx, args.cluster_id as number, workloadTypes[type], args.namespace as string)) all.push({ type, obj });
      }
      const { items, pagination } = paginate(all.filter((w) => matchesSearch(w.obj.metadata.name ?? '', args)), args);
      return { data: { workloads: items.map((w) => workloadView(w.type, w.obj)), pagination } };
    },
  },
  {
    method: 'GET',
    path: '/api/k8s/workloads/detail',
    summary: 'One workload with its pods and conditions (获取工作负载详情)',
    mutates: false,
    scope: 'cluster',
    params: [common.clusterId, common.namespace, workloadType(true), name('Workload')],
    async handle(ctx, args) {
      const type = args.type as WorkloadType;
      const member = await ctx.member(args.cluster_id as number);
      const key = { namespace: args.namespace as string, name: args.name as string };
      const w = await ctx.call(member, (c) => c.get<AnyObject>(workloadTypes[type], key));
      const selector = selectorString(w.spec?.selector?.matchLabels);
      const pods = selector ? await list(ctx, args.cluster_id as number, kinds.pods, key.namespace, { labelSelector: selector }) : [];
      return {
        data: {
          workload: {
            ...workloadView(type, w),
            strategy: w.spec?.strategy ?? w.spec?.updateStrategy ?? null,
            revision: w.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? w.status?.updateRevision ?? null,
            conditions: w.status?.conditions ?? [],
            pods: pods.map(podView),
          },
        },
      };
    },
  },
  {
    method: 'POST',
    path: '/api/k8s/workloads/scale',
    summary: 'Scale a deployment or statefulset (扩缩容工作负载)',
    mutates: true,
    scope: 'cluster',
    params: [common.clusterId, common.namespace, workloadType(true), name('Workload'), { name: 'replicas', type: 'integer', required: true, minimum: 0, maximum: 10_000, description: 'Wanted replicas.' }],
    operation: (args) => ({ type: 'scale', resource: String(args.type), name: args.name as string, namespace: args.namespace as string }),
    async handle(ctx, args) {
      const type = args.type as WorkloadType;
      if (type === 'daemonset') throw consoleErrors.validation('type: a daemonset runs one pod per node and cannot be scaled');
      const member = await ctx.member(args.cluster_id as number);
      const key = { namespace: args.namespace as string, name: args.name as string };
      await ctx.call(member, (c) => c.patch(workloadTypes[type], key, 'merge', { spec: { replicas: args.replicas } }));
      return { data: { name: key.name, namespace: key.namespace, type, replicas: args.replicas }, message: 'workload scaled' };
    },
  },
  {
    method: 'POST',
    path: '/api/k8s/workloads/restart',
    summary: 'Restart a workload\'s pods, as kubectl rollout restart does (重启工作负载)',
    mutates: true,
    scope: 'cluster',
    params: [common.clusterId, common.namespace, workloadType(true), name('Workload')],
    operation: (args) => ({ type: 'restart', resource: String(args.type), name: args.name as string, namespace: args.namespace as string }),
    async handle(ctx, args) {
      const type = args.type as WorkloadType;
      const member = await ctx.member(args.cluster_id as number);
      const key = { namespace: args.namespace as string, name: args.name as string };
      const at = formatConditionTime(new Date());
      const patch = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } };
      await ctx.call(member, (c) => c.patch(workloadTypes[type], key, 'merge', patch));
      return { data: { name: key.name, namespace: key.namespace, type, restarted_at: at }, message: 'workload restarted' };
    },
  },
  {
    method: 'GET',
    path: '/api/k8s/pods/logs',
    summary: 'A pod\'s log (获取Pod日志)',
    mutates: false,
    scope: 'cluster',
    params: [
      common.clusterId,
      common.namespace,
      { name: 'pod_name', type: 'string', required: true, format: 'name', description: 'Pod name.' },
      { name: 'container', type: 'string', description: 'Container name (容器名称); needed when the pod has several.' },
      { name: 'tail_lines', type: 'integer', minimum: 1, maximum: 10_000, default: 100, description: 'Lines from the end (返回行数), default 100.' },
    ],
    async handle(ctx, args) {
      const member = await ctx.member(args.cluster_id as number);
      const path = `${objectPath(kinds.pods, { namespace: args.namespace as string, name: args.pod_name as string })}/log`;
      const text = await ctx.call(member, (c) => c.getText(path, { container: args.container as string | undefined, tailLines: String(args.tail_lines) }));
      const lines = text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
      return { data: { pod_name: args.pod_name, namespace: args.namespace, container: args.container ?? null, tail_lines: args.tail_lines, lines: lines.length, logs: text } };
    },
  },
];

const networkRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/k8s/services',
    summary: 'List services, by type (获取Service列表)',
    mutates: false,
    scope: 'cluster',
    params: [common.clusterId, common.namespace, { name: 'type', type: 'string', enum: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'], description: 'Service type.' }, common.search, common.page, common.perPage],
    async handle(ctx, args) {
      const items = (await list(ctx, args.cluster_id as number, kinds.services, args.namespace as string)).filter((s) => !args.type || (s.spec?.type ?? 'ClusterIP') === args.type);
      return {
        data: page(items, args, (s) => ({
          name: s.metadata.name,
          namespace: s.metadata.namespace,
          type: s.spec?.type ?? 'ClusterIP',
          cluster_ip: s.spec?.clusterIP ?? '',
          external_ips: [...(s.spec?.externalIPs ?? []), ...((s.status?.loadBalancer?.ingress ?? []) as { ip?: string; hostname?: string }[]).map((i) => i.ip ?? i.hostname)],
          ports: (s.spec?.ports ?? []).map((p: AnyObject) => ({ name: p.name ?? '', port: p.port, target_port: p.targetPort ?? p.port, node_port: p.nodePort ?? null, protocol: p.protocol ?? 'TCP' })),
          selector: s.spec?.selector ?? {},
          created_at: createdAt(s),
        }), 'services'),
      };
    },
  },
  {
    method: 'GET',
    path: '/api/k8s/ingresses',
    summary: 'List ingresses (获取Ingress列表)',
    mutates: false,
    scope: 'cluster',
    params: [common.clusterId, common.namespace, common.search, common.page, common.perPage],
    async handle(ctx, args) {
      const items = await list(ctx, args.cluster_id as number, kinds.ingresses, args.namespace as string);
      return {
        data: page(items, args, (i) => ({
          name: i.metadata.name,
          namespace: i.metadata.namespace,
          class_name: i.spec?.ingressClassName ?? '',
          hosts: (i.spec?.rules ?? []).map((r: AnyObject) => r.host ?? '*'),
          rules: (i.spec?.rules ?? []).map((r: AnyObject) => ({
            host: r.host ?? '*',
            paths: (r.http?.paths ?? []).map((p: AnyObject) => ({ path: p.path ?? '/', path_type: p.pathType ?? '', service: p.backend?.service?.name ?? '', port: p.backend?.service?.port?.number ?? p.backend?.service?.port?.name ?? null })),
          })),
          address: ((i.status?.loadBalancer?.ingress ?? []) as { ip?: string; hostname?: string }[]).map((a) => a.ip ?? a.hostname).join(','),
          tls: (i.spec?.tls ?? []).map((t: AnyObject) => ({ hosts: t.hosts ?? [], secret_name: t.secretName ?? '' })),
          created_at: createdAt(i),
        }), 'ingresses'),
      };
    },
  },
  {
    method: 'GET',
    path: '/api/k8s/services/endpoints',
    summary: 'A service\'s endpoints (获取Service Endpoints)',
    mutates: false,
    scope: 'cluster',
    params: [common.clusterId, common.namespace, name('Service')],
    async handle(ctx, args) {
      const member = await ctx.member(args.cluster_id as number);
      const ep = await ctx.call(member, (c) => c.get<AnyObject>(kinds.endpoints, { namespace: args.namespace as string, name: args.name as string }));
      const address = (a: AnyObject) => ({ ip: a.ip, node_name: a.nodeName ?? '', target: a.targetRef ? `${String(a.targetRef.kind).toLowerCase()}/${a.targetRef.name}` : '' });
      return {
        data: {
          name: ep.metadata.name,
          namespace: ep.metadata.namespace,
          subsets: ((ep.subsets ?? []) as AnyObject[]).map((s) => ({
            addresses: (s.addresses ?? []).map(address),
            not_ready_addresses: (s.notReadyAddresses ?? []).map(address),
            ports: (s.ports ?? []).map((p: AnyObject) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
          })),
        },
      };
    },
  },
];

const keyValueBody = (what: string): Param => ({ name: 'data', type: 'object', required: true, description: `${what} data: a map of string keys to string values.` });

function configRoutes(kind: 'configmap' | 'secret'): Route[] {
  const type = kind === 'configmap' ? kinds.configmaps : kinds.secrets;
  const title = kind === 'configmap' ? 'ConfigMap' : 'Secret';
  const plural = `${kind}s`;
  return [
    {
      method: 'GET',
      path: `/api/k8s/${plural}`,
      summary: `List ${title}s (获取${title}列表)${kind === 'secret' ? '; values are never returned, only key names' : ''}`,
      mutates: false,
      scope: 'cluster',
      params: [common.clusterId, common.namespace, common.search, common.page, common.perPage],
      async handle(ctx, args) {
        const items = await list(ctx, args.cluster_id as number, type, args.namespace as string);
        return {
          data: page(items, args, (o) => ({
            name: o.metadata.name,
            namespace: o.metadata.namespace,
            ...(kind === 'secret' ? { type: o.type ?? 'Opaque' } : { data: o.data ?? {} }),
            keys: Object.keys({ ...(o.data ?? {}), ...((o.binaryData as object | undefined) ?? {}) }).sort(),
            created_at: createdAt(o),
          }), plural),
        };
      },
    },
    {
      method: 'POST',
      path: `/api/k8s/${plural}`,
      summary: `Create a ${title} (创建${title})`,
      mutates: true,
      scope: 'cluster',
      params: [common.clusterId, common.namespace, name(title), keyValueBody(title)],
      operation: (args) => ({ type: 'create', resource: kind, name: args.name as string, namespace: args.namespace as string }),
      async handle(ctx, args) {
        const member = await ctx.member(args.cluster_id as number);
        const values = args.data as Record<string, string>;
        const data = kind === 'secret' ? Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) : values;
        const body = { apiVersion: 'v1', kind: title, metadata: { name: args.name as string, namespace: args.namespace as string }, ...(kind === 'secret' ? { type: 'Opaque' } : {}), data };
        const created = await ctx.call(member, (c) => c.create(type, body));
        return { data: { [kind]: { name: created.metadata.name, namespace: created.metadata.namespace, keys: Object.keys(data).sort(), created_at: createdAt(created) } }, message: `${kind} created`, status: 201 };
      },
    },
    {
      method: 'POST',
      path: `/api/k8s/${plural}/delete`,
      summary: `Delete a ${title} (删除${title})`,
      mutates: true,
      scope: 'cluster',
      params: [common.clusterId, common.namespace, name(title)],
      operation: (args) => ({ type: 'delete', resource: kind, name: args.name as string, namespace: args.namespace as string }),
      async handle(ctx, args) {
        const member = await ctx.member(args.cluster_id as number);
        await ctx.call(member, (c) => c.delete(type, { namespace: args.namespace as string, name: args.name as string }));
        return { data: { name: args.name, namespace: args.namespace }, message: `${kind} deleted` };
      },
    },
  ];
}

const storageRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/k8s/persistent-volumes',
    summary: 'List persistent volumes, by status (获取PV列表)',
    mutates: false,
    scope: 'cluster',
    params: [common.clusterId, { name: 'status', type: 'string', enum: ['Available', 'Bound', 'Released', 'Pending', 'Failed'], description: 'Status filter.' }, common.search, common.page, common.perPage],
    async handle(ctx, args) {
      const items = (await list(ctx, args.cluster_id as number, kinds.persistentvolumes)).filter((v) => !args.status || v.status?.phase === args.status);
      return {
        data: page(items, args, (v) => ({
          name: v.metadata.name,
          capacity: v.spec?.capacity?.storage ?? '',
          access_modes: v.spec?.accessModes ?? [],
          reclaim_policy: v.spec?.persistentVolumeReclaimPolicy ?? '',
          status: v.status?.phase ?? '',
          claim: v.spec?.claimRef ? `${v.spec.claimRef.namespace}/${v.spec.claimRef.name}` : '',
          storage_class: v.spec?.storageClassName ?? '',
          created_at: createdAt(v),
        }), 'persistent_volumes'),
      };
    },
  },
  {
    method: 'GET',
    path: '/api/k8s/persistent-volume-claims',
    summary: 'List persistent volume claims (获取PVC列表)',
    mutates: false,
    scope: 'cluster',
    params: [common.clusterId, common.namespace, common.search, common.page, common.perPage],
    async handle(ctx, args) {
      const items = await list(ctx, args.cluster_id as number, kinds.persistentvolumeclaims, args.namespace as string);
      return {
        data: page(items, args, (c) => ({
          name: c.metadata.name,
          namespace: c.metadata.namespace,
          status: c.status?.phase ?? 'Pending',
          volume: c.spec?.volumeName ?? '',
          capacity: c.status?.capacity?.storage ?? c.spec?.resources?.requests?.storage ?? '',
          access_modes: c.spec?.accessModes ?? [],
          storage_class: c.spec?.storageClassName ?? '',
          created_at: createdAt(c),
        }), 'persistent_volume_claims'),
      };
    },
  },
  {
    method: 'GET',
    path: '/api/k8s/storage-classes',
    summary: 'List storage classes (获取StorageClass列表)',
    mutates: false,
    scope: 'cluster',
    params: [common.clusterId, common.search, common.page, common.perPage],
    async handle(ctx, args) {
      const items = await list(ctx, args.cluster_id as number, kinds.storageclasses);
      return {
        data: page(items, args, (s) => ({
          name: s.metadata.name,
          provisioner: s.provisioner ?? '',
          reclaim_policy: s.reclaimPolicy ?? 'Delete',
          volume_binding_mode: s.volumeBindingMode ?? 'Immediate',
          allow_volume_expansion: s.allowVolumeExpansion === true,
          is_default: s.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true',
          created_at: createdAt(s),
        }), 'storage_classes'),
      };
    },
  },
];

const auditRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/k8s/audit/operations',
    summary: 'The operations log (获取操作日志)',
    mutates: false,
    scope: 'console',
    params: [
      { ...common.clusterId, required: false },
      { name: 'operation_type', type: 'string', description: 'Operation type: create, update, delete, scale, restart, test.' },
      { name: 'resource_type', type: 'string', description: 'Resource type: cluster, namespace, deployment, statefulset, daemonset, configmap, secret.' },
      { name: 'status', type: 'string', enum: ['success', 'failed'], description: 'Outcome.' },
      common.page,
      common.perPage,
    ],
    async handle(ctx, args) {
      const perPage = args.per_page as number;
      const pageNo = args.page as number;
      const { total, logs } = await ctx.operations.list({
        clusterId: args.cluster_id as number | undefined,
        operationType: args.operation_type as string | undefined,
        resourceType: args.resource_type as string | undefined,
        status: args.status as string | undefined,
        offset: (pageNo - 1) * perPage,
        limit: perPage,
      });
      return { data: { logs, pagination: { page: pageNo, per_page: perPage, total, pages: Math.max(1, Math.ceil(total / perPage)) } } };
    },
  },
];

export const resourceRoutes: Route[] = [...namespaceRoutes, ...workloadRoutes, ...networkRoutes, ...configRoutes('configmap'), ...configRoutes('secret'), ...storageRoutes, ...auditRoutes];

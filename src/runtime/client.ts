// A dynamic client: get, list, create, update, patch and delete any resource, including its
// status subresource, as plain JSON.
//
// It sends through @kubernetes/client-node's own HTTP stack (KubeConfig authentication and
// TLS, the generated Configuration and fetch library), so it works against `virtflow up` and
// any Kubernetes cluster alike. It does not use the typed APIs on purpose:
// - CustomObjectsApi cannot address the core group (its paths are /apis/{group}/...), and
// - KubernetesObjectApi turns every answer into model classes whose timestamps are Date
//   objects, while watch events arrive as plain JSON; a cache fed by both would hold two
//   shapes of the same object.
import http from 'node:http';
import https from 'node:https';
import {
  createConfiguration,
  HttpMethod,
  ServerConfiguration,
  type RequestContext,
  type Configuration,
  type KubeConfig,
} from '@kubernetes/client-node';
import { ApiError, type ReceivedStatus } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import type { ObjectKey } from './keys.js';
import { collectionPath, objectPath, resourceName, type ResourceType } from './resource.js';



const hasCode = (code: number) => (err: unknown) => err instanceof ApiError && err.code === code;
export const isNotFound = hasCode(404);
/** 409 from an update with a stale resourceVersion. */
export const isConflict = (err: unknown) => hasCode(409)(err) && (err as ApiError).reason !== 'AlreadyExists';
export const isAlreadyExists = (err: unknown) => hasCode(409)(err) && (err as ApiError).reason === 'AlreadyExists';
export const isGone = hasCode(410);

export interface ObjectList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface ListOptions extends RequestOptions {
  /** All namespaces when absent (or for cluster-scoped resources). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface WriteOptions extends RequestOptions {
  /** Defaults to the client's field manager. */
  fieldManager?: string;
  dryRun?: boolean;
}

/** merge: RFC 7386; json: RFC 6902; apply: server-side apply (needs a fieldManager). */
export type PatchType = 'merge' | 'json' | 'apply';

const patchContentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface DeleteOptions extends RequestOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export class ObjectClient {
  readonly kubeConfig: KubeConfig;
  readonly fieldManager: string;
  private readonly config: Configuration;
  private readonly timeoutMs: number;
  private pooledAgent?: https.Agent;

  /**
   * `timeoutMs` bounds every request (watches are not made here): a pooled connection that
   * died without closing would otherwise hang a reconcile or a relist for good.
   */
  constructor(kubeConfig: KubeConfig, opts: { fieldManager?: string; timeoutMs?: number } = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('cannot create a client: the kubeconfig has no current cluster');
    this.kubeConfig = kubeConfig;
    this.fieldManager = opts.fieldManager ?? 'virtflow-controller';
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.config = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kubeConfig },
    });
  }

  get<T extends KubeObject>(r: ResourceType, key: ObjectKey, opts: RequestOptions = {}): Promise<T> {
    return this.request('GET', objectPath(r, key), {}, opts);
  }

  /** Like get, but undefined when the object does not exist. */
  async find<T extends KubeObject>(r: ResourceType, key: ObjectKey, opts: RequestOptions = {}): Promise<T | undefined> {
    try {
      return await this.get<T>(r, key, opts);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  list<T extends KubeObject>(r: ResourceType, opts: ListOptions = {}): Promise<ObjectList<T>> {
    return this.request('GET', collectionPath(r, opts.namespace), {
      query: {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: opts.limit?.toString(),
        continue: opts.continue,
        resourceVersion: opts.resourceVersion,
        resourceVersionMatch: opts.resourceVersionMatch,
      },
    }, opts);
  }

  create<T extends KubeObject>(r: ResourceType, obj: T, opts: WriteOptions = {}): Promise<T> {
    const namespace = r.namespaced ? obj.metadata.namespace : undefined;
    if (r.namespaced && !namespace) throw new Error(`cannot create ${resourceName(r)} without metadata.namespace`);
    return this.request('POST', collectionPath(r, namespace), { query: this.writeQuery(opts), body: obj }, opts);
  }

  /** PUT: fails with 409 when obj.metadata.resourceVersion is not the current one. */
  replace<T extends KubeObject>(r: ResourceType, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.request('PUT', objectPath(r, keyOfObject(obj)), { query: this.writeQuery(opts), body: obj }, opts);
  }

  /** PUT to the status subresource: only status changes; 409 on a stale resourceVersion. */
  replaceStatus<T extends KubeObject>(r: ResourceType, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.request('PUT', objectPath(r, keyOfObject(obj), 'status'), { query: this.writeQuery(opts), body: obj }, opts);
  }

  patch<T extends KubeObject>(
    r: ResourceType,
    key: ObjectKey,
    type: PatchType,
    patch: unknown,
    opts: WriteOptions & { force?: boolean; subresource?: 'status' } = {},
  ): Promise<T> {
    const query = { ...this.writeQuery(opts), force: opts.force ? 'true' : undefined };
    return this.request(
      'PATCH',
      objectPath(r, key, opts.subresource),
      { query, body: patch, contentType: patchContentTypes[type] },
      opts,
    );
  }

  /** POST to a subresource that answers rather than stores (serviceaccounts/<name>/token). */
  createSubresource<T>(r: ResourceType, key: ObjectKey, subresource: string, body: unknown, opts: RequestOptions = {}): Promise<T> {
    return this.request('POST', objectPath(r, key, subresource), { body }, opts);
  }

  /** Answers the object (still present while finalizers run) or the server's Status. */
  delete(r: ResourceType, key: ObjectKey, opts: DeleteOptions = {}): Promise<KubeObject | ReceivedStatus> {
    const body =
      opts.propagationPolicy || opts.gracePeriodSeconds !== undefined || opts.preconditions
        ? {
            kind: 'DeleteOptions',
            apiVersion: 'v1',
            propagationPolicy: opts.propagationPolicy,
            gracePeriodSeconds: opts.gracePeriodSeconds,
            preconditions: opts.preconditions,
          }
        : undefined;
    return this.request('DELETE', objectPath(r, key), { body }, opts);
  }

  private writeQuery(opts: WriteOptions): Record<string, string | undefined> {
    return { fieldManager: opts.fieldManager ?? this.fieldManager, dryRun: opts.dryRun ? 'All' : undefined };
  }

  /** GET of any path of the API server (/version, say), answered as JSON. */
  getPath<T>(path: string, query: Record<string, string | undefined> = {}, opts: RequestOptions = {}): Promise<T> {
    return this.request('GET', path, { query }, opts);
  }

  /** GET of a path whose answer is text, such as pods/<name>/log. */
  getText(path: string, query: Record<string, string | undefined> = {}, opts: RequestOptions = {}): Promise<string> {
    return this.request('GET', path, { query, text: true }, opts);
  }

  private async request<T>(
    method: keyof typeof HttpMethod,
    path: string,
    req: { query?: Record<string, string | undefined>; body?: unknown; contentType?: string; text?: boolean },
    opts: RequestOptions,
  ): Promise<T> {
    const ctx = this.config.baseServer.makeRequestContext(path, HttpMethod[method]);
    for (const [name, value] of Object.entries(req.query ?? {})) if (value !== undefined) ctx.setQueryParam(name, value);
    ctx.setHeaderParam('Accept', req.text ? 'text/plain, application/json' : 'application/json');
    if (req.body !== undefined) {
      ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(req.body));
    }
    const timeout = AbortSignal.timeout(this.timeoutMs);
    ctx.setSignal(opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    this.reuseConnections(ctx);
    const res = await send(ctx);
    const text = res.text;
    if (req.text && res.httpStatusCode >= 200 && res.httpStatusCode < 300) return text as T;
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.httpStatusCode >= 200 && res.httpStatusCode < 300) return parsed as T;
    const status = parsed && typeof parsed === 'object' ? (parsed as ReceivedStatus) : undefined;
    throw ApiError.fromStatus(res.httpStatusCode, status, `${method} ${path}: HTTP ${res.httpStatusCode} ${text.slice(0, 200)}`);
  }

  /**
   * KubeConfig makes a new https.Agent for every request, which opens a new TCP and TLS
   * connection each time. The TLS settings come from the kubeconfig and do not change, so
   * one keep-alive agent built from the first one serves every request. Proxy agents and
   * plain HTTP are left as they are.
   */
  private reuseConnections(ctx: { getAgent(): unknown; setAgent(agent: https.Agent): void }): void {
    const agent = ctx.getAgent();
    if (!(agent instanceof https.Agent) || agent.constructor !== https.Agent) return;
    this.pooledAgent ??= new https.Agent({ ...agent.options, keepAlive: true, maxSockets: 64 });
    ctx.setAgent(this.pooledAgent);
  }
}

/**
 * Sends a request the kubeconfig has authenticated, with node's own HTTP client: node-fetch
 * (client-node's library) spent more CPU on its streams, headers and response classes than
 * a busy controller spent on the request itself. No redirects are followed and no
 * compression is asked for, as the API server neither redirects nor needs it on the answers
 * the controllers read.
 */
function send(ctx: RequestContext): Promise<{ httpStatusCode: number; text: string }> {
  const url = new URL(ctx.getUrl());
  const body = ctx.getBody();
  const headers: Record<string, string> = { ...ctx.getHeaders() };
  if (typeof body === 'string') headers['Content-Length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: ctx.getHttpMethod(), headers, agent: ctx.getAgent(), signal: ctx.getSignal() },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve({ httpStatusCode: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    request.on('error', reject);
    request.end(typeof body === 'string' ? body : undefined);
  });
}

function keyOfObject(obj: KubeObject): ObjectKey {
  const name = obj.metadata.name;
  if (!name) throw new Error('cannot address an object without metadata.name');
  return { namespace: obj.metadata.namespace, name };
}

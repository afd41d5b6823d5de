// The operations console API of seed 004, served under /api/k8s/ beside the Kubernetes API,
// behind VirtFlow's authentication: one dispatcher that checks parameters, asks the
// authorizer, runs the endpoint, logs what changed things, and answers in the seed's
// envelope. A cluster here is a K8sCluster; member clusters are reached over their own API.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ObjectService, UserInfo } from '../api/object-service.js';
import { readBody } from '../api/body.js';
import { ApiError } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import type { Database } from '../store/database.js';
import { clusterRoutes } from './cluster-routes.js';
import { ConsoleClusters } from './clusters.js';
import { ConsoleError, consoleErrors, sendFailure, sendSuccess, toConsoleError } from './envelope.js';
import { memberClient, memberError, serverOf } from './member-client.js';
import { consoleOpenApi } from './console-openapi.js';
import { OperationsLog } from './operations-log.js';
import { parseArgs } from './params.js';
import { resourceRoutes } from './resource-routes.js';
import type { ConsoleContext, Member, Route } from './route.js';

export const CONSOLE_PREFIX = '/api/k8s';
export const consoleRoutes: Route[] = [...clusterRoutes, ...resourceRoutes];
const MAX_CONSOLE_BODY = 1024 * 1024;

/**
 * Whether `user` may read ('get') or change ('update') a cluster: throws when not. The
 * server's authorizer decides, as for `k8sclusters.virtflow.io` in the cluster's namespace.
 */
export type ConsoleAuthorizer = (user: UserInfo, verb: 'get' | 'list' | 'update', cluster?: KubeObject) => void;

export function isConsolePath(url: string): boolean {
  return url === CONSOLE_PREFIX || url.startsWith(`${CONSOLE_PREFIX}/`) || url.startsWith(`${CONSOLE_PREFIX}?`);
}

export class OperationsConsole {
  private readonly clusters: ConsoleClusters;
  private readonly operations: OperationsLog;
  private readonly byPath = new Map<string, Route[]>();
  readonly openapi = consoleOpenApi(consoleRoutes);

  constructor(
    service: ObjectService,
    db: Database,
    private readonly authorize: ConsoleAuthorizer,
  ) {
    this.clusters = new ConsoleClusters(service, db);
    this.operations = new OperationsLog(db);
    for (const route of consoleRoutes) this.byPath.set(route.path, [...(this.byPath.get(route.path) ?? []), route]);
  }

  /** Answers an authentication failure in the console's envelope. */
  refuse(res: ServerResponse, err: unknown): void {
    sendFailure(res, err instanceof ApiError && err.code === 401 ? consoleErrors.authentication(err.message) : toConsoleError(err));
  }

  async serve(req: IncomingMessage, res: ServerResponse, user: UserInfo): Promise<void> {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const pathname = (q < 0 ? target : target.slice(0, q)).replace(/\/+$/, '');
    const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
    if (req.method === 'GET' && pathname === `${CONSOLE_PREFIX}/openapi.json`) {
      sendSuccessRaw(res, this.openapi);
      return;
    }
    const candidates = this.byPath.get(pathname);
    const route = candidates?.find((r) => r.method === req.method);
    let args: Record<string, unknown> = {};
    try {
      if (!candidates) {
        throw new ConsoleError('RESOURCE_NOT_FOUND', `no console endpoint at ${pathname.slice(0, 200)}`, '', [`See ${CONSOLE_PREFIX}/openapi.json for the endpoints.`]);
      }
      if (!route) throw consoleErrors.validation(`${req.method} is not allowed on ${pathname}; use ${candidates.map((r) => r.method).join(' or ')}`);
      args = parseArgs(route.params, route.method === 'GET' ? Object.fromEntries(query) : await this.body(req));
    } catch (err) {
      sendFailure(res, toConsoleError(err));
      return;
    }
    try {
      const ctx = this.context(user, route);
      const outcome = await route.handle(ctx, args);
      if (route.operation) await this.log(user, route, args, 'success');
      sendSuccess(res, outcome.data, outcome.message ?? 'OK', outcome.status ?? 200);
    } catch (err) {
      const failure = toConsoleError(err);
      if (route.operation) await this.log(user, route, args, 'failed', `${failure.code}: ${failure.message}`).catch(() => {});
      sendFailure(res, failure);
    }
  }

  private async body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const type = String(req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw consoleErrors.validation(`the body must be application/json, got ${type.slice(0, 100)}`);
    let raw: Buffer;
    try {
      raw = await readBody(req, MAX_CONSOLE_BODY);
    } catch {
      throw consoleErrors.validation(`the body is larger than ${MAX_CONSOLE_BODY} bytes`);
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8') || '{}');
    } catch (err) {
      throw consoleErrors.validation('the body is not valid JSON', (err as Error).message);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw consoleErrors.validation('the body must be a JSON object');
    return body as Record<string, unknown>;
  }

  private context(user: UserInfo, route: Route): ConsoleContext {
    const verb = route.mutates ? 'update' : 'get';
    const check = (cluster?: KubeObject) => {
      try {
        this.authorize(user, verb, cluster);
      } catch (err) {
        if (err instanceof ApiError && err.code === 403) throw consoleErrors.permission(err.message);
        throw err;
      }
    };
    if (route.scope === 'console') check();
    const cluster = async (clusterId: number) => {
      const record = await this.clusters.byId(clusterId);
      check(record.cluster);
      return record;
    };
    return {
      user,
      clusters: this.clusters,
      operations: this.operations,
      cluster,
      visible: (obj) => {
        try {
          this.authorize(user, 'get', obj);
          return true;
        } catch {
          return false;
        }
      },
      member: async (clusterId: number): Promise<Member> => {
        const record = await cluster(clusterId);
        const creds = await this.clusters.credentials(record.cluster);
        return { record, client: memberClient(creds), server: serverOf(creds) };
      },
      call: async (member, fn) => {
        try {
          return await fn(member.client);
        } catch (err) {
          throw memberError(err, member.server);
        }
      },
    };
  }

  private log(user: UserInfo, route: Route, args: Record<string, unknown>, status: 'success' | 'failed', message?: string): Promise<void> {
    const op = route.operation!(args);
    const clusterId = typeof args.cluster_id === 'number' ? args.cluster_id : typeof args.id === 'number' ? args.id : undefined;
    return this.operations.record({ username: user.username, clusterId, operationType: op.type, resourceType: op.resource, resourceName: op.name, namespace: op.namespace, status, message });
  }
}

function sendSuccessRaw(res: ServerResponse, doc: unknown): void {
  const text = JSON.stringify(doc);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

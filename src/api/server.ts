// The Kubernetes-compatible API server: routing, authentication, metrics and error handling
// around the discovery, OpenAPI and resource handlers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApiError, errors } from '../machinery/errors.js';
import { ReadAuditLog } from '../store/read-audit.js';
import type { ResourceInfo } from '../machinery/resource.js';
import type { AuditRecord } from '../store/objects.js';
import type { Store } from '../store/store.js';
import { Authorizer, nonResourceAttributes, resourceAttributes } from '../auth/authorizer.js';
import { escalationAdmitter } from '../auth/escalation.js';
import { isAuthRequest, serveAuthRequest } from '../auth/reviews.js';
import { ServiceAccountTokens } from '../auth/service-account-tokens.js';
import { TokenAuthenticator } from './auth.js';
import { CONSOLE_NAMESPACE } from '../console/clusters.js';
import { isConsolePath, OperationsConsole, type ConsoleAuthorizer } from '../console/index.js';
import {
  aggregatedDiscovery,
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
} from './discovery.js';
import { applyPatch, updateOwnership } from './field-ownership.js';
import { startGarbageCollector } from './gc.js';
import { startLifecycle } from './lifecycle.js';
import { answerClientError, DEFAULT_LIMITS, UserLimiter, uriTooLong, type ServerLimits } from './limits.js';
import { ApiMetrics, metricVerb } from './metrics.js';
import { wantsAggregatedDiscovery } from './negotiate.js';
import { ObjectService, type UserInfo } from './object-service.js';
import { OpenApiDocuments } from './openapi-endpoint.js';
import { serveUi } from './portal.js';
import { ResourceRegistry } from './registry.js';
import { parseResourcePath, type ResourceRequest } from './request-info.js';
import { describeRequest, handleResource, type ApplyPatcher } from './resource-handler.js';
import { sendError, sendJson, toApiError } from './respond.js';

export interface ApiServerOptions {
  store: Store;
  tls: { key: string; cert: string };
  port?: number;
  host?: string;
  /** Interval of watch bookmarks; Kubernetes sends one about every minute. */
  bookmarkIntervalMs?: number;
  version?: string;
  applyPatch?: ApplyPatcher;
  /** Built-in kinds served beyond the standard ones (default: the read-only workload kinds). */
  servedResources?: ResourceInfo[];
  /** Serve the operations console API under /api/k8s (default true). */
  console?: boolean;
  /** Run the garbage collector in this process (default true). */
  garbageCollector?: boolean;
  /** Per-user and per-request bounds (see limits.ts); each unset one has its default. */
  limits?: Partial<ServerLimits>;
}

const OPEN_PATHS = new Set(['/livez', '/readyz', '/healthz', '/version']);

export const serverVersion = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-virtflow.0.1.0',
  gitCommit: 'virtflow',
  gitTreeState: 'clean',
  buildDate: '2026-11-29T00:00:00Z',
  goVersion: 'node',
  compiler: 'tsc',
  platform: `${process.platform}/${process.arch}`,
};

/** /version: VirtFlow's own, or the Kubernetes version a simulated cluster plays ("v1.30.2"). */
export function versionInfo(version?: string): typeof serverVersion {
  const match = version ? /^v(\d+)\.(\d+)/.exec(version) : null;
  return match ? { ...serverVersion, major: match[1]!, minor: match[2]!, gitVersion: version! } : serverVersion;
}

export class ApiServer {
  readonly registry: ResourceRegistry;
  readonly service: ObjectService;
  readonly metrics = new ApiMetrics({ defaultMetrics: true });
  readonly openapi: OpenApiDocuments;
  readonly auth: TokenAuthenticator;
  readonly authorizer: Authorizer;
  /** ServiceAccount tokens; ready once start() has loaded the signing key. */
  tokens?: ServiceAccountTokens;
  private readonly console?: OperationsConsole;
  /** get, list and watch requests, written to the audit table in batches. */
  readonly readAudit: ReadAuditLog;
  private server?: https.Server;
  private stopLifecycle?: () => void;
  private stopGc?: () => void;
  private ready = false;
  private readonly sockets = new Set<import('node:stream').Duplex>();
  readonly limits: ServerLimits;
  readonly limiter: UserLimiter;

  constructor(private readonly opts: ApiServerOptions) {
    this.registry = new ResourceRegistry(opts.servedResources);
    this.registry.follow(opts.store.cache);
    this.service = new ObjectService(opts.store, this.registry);
    this.service.ownership = updateOwnership;
    this.auth = new TokenAuthenticator(opts.store.db);
    this.authorizer = new Authorizer(opts.store.cache);
    this.readAudit = new ReadAuditLog(opts.store.db.pool);
    this.service.admitters.push(this.authorizer.scope.admitter(), escalationAdmitter(this.authorizer, () => opts.store.syncCache()));
    this.openapi = new OpenApiDocuments(this.registry);
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.limiter = new UserLimiter(this.limits);
    if (opts.console !== false) this.console = new OperationsConsole(this.service, opts.store.db, this.consoleAuthorizer());
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    return `https://${this.opts.host ?? '127.0.0.1'}:${address?.port ?? this.opts.port ?? 0}`;
  }

  async start(): Promise<void> {
    this.tokens = await ServiceAccountTokens.open(this.opts.store.db, this.opts.store.cache);
    this.auth.serviceAccounts = this.tokens;
    const app = this.buildApp();
    // The API paths, nearly every request, go straight to their handler; express serves the
    // rest. Its router and middleware chain cost more than everything else a create does in
    // JavaScript besides the write itself.
    const limits = this.limits;
    this.server = https.createServer(
      {
        key: this.opts.tls.key,
        cert: this.opts.tls.cert,
        maxHeaderSize: limits.maxHeaderBytes,
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        // How often those two are checked; a tenth of the shorter keeps them close to exact.
        connectionsCheckingInterval: Math.max(100, Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 10),
      },
      (req, res) => {
        if ((req.url?.length ?? 0) > limits.maxUrlBytes) this.fail(req, res, uriTooLong(limits.maxUrlBytes), 'unknown');
        else if (this.console && isConsolePath(req.url ?? '')) this.serveConsole(this.console, req, res);
        else if (isApiPath(req.url ?? '')) this.serveApi(req, res);
        else app(req, res);
      },
    );
    this.server.keepAliveTimeout = 65_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    // An HTTP parse failure is the client's problem, never the process's: it gets a Status.
    this.server.on('clientError', answerClientError);
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.stopLifecycle = startLifecycle(this.service);
    if (this.opts.garbageCollector !== false) this.stopGc = startGarbageCollector(this.service);
    this.ready = true;
  }

  async stop(): Promise<void> {
    this.ready = false;
    this.stopLifecycle?.();
    this.stopGc?.();
    if (!this.server) return;
    const closed = new Promise<void>((resolve) => this.server!.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    // What was read until now is on record before the database goes.
    await this.readAudit.flush();
  }

  private buildApp(): express.Express {
    const app = express();
    app.disable('x-powered-by');
    app.disable('etag');
    app.set('query parser', 'simple');
    app.use('/ui', serveUi());

    app.use((req, res, next) => {
      if (OPEN_PATHS.has(req.path)) return next();
      this.auth
        .authenticate(req)
        .then((user) => {
          (req as RequestWithUser).user = user;
          this.authorizer.authorize(nonResourceAttributes(user, req.method, req.path));
          next();
        })
        .catch((err) => this.fail(req, res, err, 'unknown'));
    });

    app.get('/version', (_req, res) => sendJson(res, 200, versionInfo(this.opts.version)));
    for (const path of ['/healthz', '/livez']) app.get(path, (_req, res) => res.type('text/plain').send('ok'));
    app.get('/readyz', (_req, res) => {
      // The change feed's LISTEN connection stands for the database: it notices a lost
      // database at once and reconnects by itself, and asking it costs no query.
      if (this.ready && this.opts.store.feed.connected) res.type('text/plain').send('ok');
      else res.status(503).type('text/plain').send('not ready');
    });
    app.get('/metrics', async (_req, res) => {
      res.setHeader('Content-Type', this.metrics.registry.contentType);
      res.send(await this.metrics.registry.metrics());
    });
    app.get('/openapi/v2', (req, res) => this.openapi.serveV2(req, res));
    app.get('/openapi/v3', (req, res) => this.openapi.serveV3Index(req, res));
    app.get(/^\/openapi\/v3\/(.+)$/, (req, res) => this.openapi.serveV3(req, res, (req.params as Record<string, string>)[0]!));

    app.use((req: express.Request, res: express.Response) => {
      sendError(res, errors.notFound({ group: '', resource: '' }, req.path));
    });
    // Whatever express itself refuses (a malformed URL, say) is answered as a Status too.
    app.use((err: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => {
      const status = (err as { status?: number; statusCode?: number }).status ?? (err as { statusCode?: number }).statusCode;
      const refusal = typeof status === 'number' && status >= 400 && status < 500 ? new ApiError(status, status === 413 ? 'RequestEntityTooLarge' : 'BadRequest', (err as Error).message) : err;
      this.fail(req, res, refusal, 'unknown');
    });
    return app;
  }

  private serveApi(req: IncomingMessage, res: ServerResponse): void {
    this.auth
      .authenticate(req)
      .then((user) => {
        (req as RequestWithUser).user = user;
        return this.handleApi(req, res);
      })
      .catch((err) => this.fail(req, res, err, 'unknown'));
  }

  /** The console asks the authorizer as for the K8sCluster itself (or the console's namespace). */
  private consoleAuthorizer(): ConsoleAuthorizer {
    return (user, verb, cluster) => {
      this.authorizer.authorize({
        user,
        verb,
        resourceRequest: true,
        apiGroup: 'virtflow.io',
        resource: 'k8sclusters',
        subresource: '',
        namespace: cluster?.metadata.namespace ?? CONSOLE_NAMESPACE,
        name: cluster?.metadata.name ?? '',
        path: '',
      });
    };
  }

  private serveConsole(consoleApi: OperationsConsole, req: IncomingMessage, res: ServerResponse): void {
    this.auth.authenticate(req).then(
      async (user) => {
        // Counted against the user's in-flight limit like any other request of the API.
        let release: (() => void) | undefined;
        try {
          release = this.limiter.acquire(user.username, false);
          await consoleApi.serve(req, res, user);
        } catch (err) {
          consoleApi.refuse(res, err);
        } finally {
          release?.();
        }
      },
      (err) => consoleApi.refuse(res, err),
    );
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = splitRequestUrl(req.url ?? '/');
    const segments = url.pathname.split('/').filter(Boolean).map(decodeSegment);
    const prefix = segments.shift() as 'api' | 'apis';
    const method = req.method ?? 'GET';
    if (method === 'GET' && segments.length <= (prefix === 'api' ? 1 : 2)) {
      this.authorizer.authorize(nonResourceAttributes((req as RequestWithUser).user!, method, url.pathname));
      this.serveDiscovery(req, res, prefix, segments);
      return;
    }
    const r = parseResourcePath(prefix, segments);
    if (!r || (prefix === 'api' && r.version !== 'v1')) {
      throw errors.notFound({ group: '', resource: '' }, url.pathname);
    }
    checkPathSegment('Name', r.name);
    checkPathSegment('Namespace', r.namespace);
    const info = this.registry.lookup(r.group, r.version, r.resource);
    const attrs = describeRequest(method, r, url.searchParams, info);
    const started = performance.now();
    let code = 0;
    const labels = { verb: metricVerb(attrs.verb, req.headers['content-type']), group: r.group, resource: r.resource, subresource: r.subresource ?? '' };
    try {
      const user = (req as RequestWithUser).user!;
      const decision = this.authorizer.authorize(resourceAttributes(user, attrs, url.searchParams, url.pathname));
      if (!info) {
        throw errors.notFound({ group: r.group, resource: r.resource }, r.name ?? '');
      }
      if (isAuthRequest(info, r) && (await serveAuthRequest({ authorizer: this.authorizer, tokens: this.tokens!, service: this.service }, req, res, r, info, user))) {
        code = res.statusCode;
        return;
      }
      // Only a watch outlives its request handling; for other verbs an abort per response
      // would just build an AbortError nobody reads, on the hottest path.
      const release = this.limiter.acquire(user.username, attrs.verb === 'watch');
      const signal = attrs.verb === 'watch' ? abortedOnClose(res) : neverAborted;
      if (attrs.verb === 'watch') this.metrics.watchers.inc({ group: r.group, resource: r.resource });
      try {
        await handleResource(
          { service: this.service, bookmarkIntervalMs: this.opts.bookmarkIntervalMs ?? 60_000, applyPatch: this.opts.applyPatch ?? applyPatch },
          req,
          res,
          r,
          info,
          url.searchParams,
          user,
          signal,
          decision.filter,
        );
      } finally {
        release();
        if (attrs.verb === 'watch') this.metrics.watchers.dec({ group: r.group, resource: r.resource });
      }
      code = res.statusCode;
    } catch (err) {
      const apiError = toApiError(err);
      code = apiError.code;
      // The refusal is on record before the client hears of it; a 429 is not, as writing
      // one for each would load the database just when the server sheds load.
      if (isMutation(attrs.verb) && apiError.code !== 429) {
        await this.service.store.objects
          // A refused create names its object in the body; the Status carries that name.
          .recordRefusal(auditRecord(req, attrs.verb, r, r.name ?? (attrs.verb === 'create' ? (apiError.details?.name ?? '') : '')), apiError.code)
          .catch(() => {});
      }
      sendError(res, apiError);
    } finally {
      const seconds = attrs.verb === 'watch' ? undefined : (performance.now() - started) / 1000;
      this.metrics.recordRequest(labels, code, seconds);
      // Writes are audited with the change itself; reads here, in batches (a 429 is not: it
      // would load the database just when the server sheds load).
      if (READ_VERBS.has(attrs.verb) && code !== 429) {
        this.readAudit.record(auditRecord(req, attrs.verb, r, r.name ?? ''), code);
      }
    }
  }

  private serveDiscovery(req: IncomingMessage, res: ServerResponse, prefix: 'api' | 'apis', segments: string[]): void {
    if (segments.length === 0) {
      const aggregated = wantsAggregatedDiscovery(req);
      if (aggregated) {
        sendJson(
          res,
          200,
          aggregatedDiscovery(this.registry, prefix === 'api', aggregated),
          `application/json;g=apidiscovery.k8s.io;v=${aggregated};as=APIGroupDiscoveryList`,
        );
        return;
      }
      if (prefix === 'api') sendJson(res, 200, apiVersions(req.headers.host ?? ''));
      else sendJson(res, 200, apiGroupList(this.registry));
      return;
    }
    if (prefix === 'api') {
      const list = apiResourceList(this.registry, '', segments[0]!);
      if (!list) throw errors.notFound({ group: '', resource: '' }, segments[0]!);
      sendJson(res, 200, list);
      return;
    }
    const [group, version] = segments as [string, string | undefined];
    const doc = version ? apiResourceList(this.registry, group, version) : apiGroupDocument(this.registry, group);
    if (!doc) throw errors.notFound({ group: '', resource: '' }, `${group}${version ? `/${version}` : ''}`);
    sendJson(res, 200, doc);
  }

  private fail(req: IncomingMessage, res: ServerResponse, err: unknown, verb: string): void {
    const apiError = sendError(res, err);
    this.metrics.recordRequest({ verb: verb.toUpperCase(), group: '', resource: '', subresource: '' }, apiError.code);
    void req;
  }
}

interface RequestWithUser extends IncomingMessage {
  user?: UserInfo;
}

/**
 * The path and query of a request target in origin form ("/api/v1/pods?watch=1"), which is
 * what clients send. Split by hand: a WHATWG URL parse was a visible share of every request.
 */
function splitRequestUrl(target: string): { pathname: string; searchParams: URLSearchParams } {
  const q = target.indexOf('?');
  return q < 0
    ? { pathname: target, searchParams: new URLSearchParams() }
    : { pathname: target.slice(0, q), searchParams: new URLSearchParams(target.slice(q + 1)) };
}

/** /api and /apis and everything below them (the path, before any query). */
function isApiPath(url: string): boolean {
  const prefix = url.startsWith('/apis') ? 5 : url.startsWith('/api') ? 4 : 0;
  if (prefix === 0) return false;
  const next = url.charAt(prefix);
  return next === '' || next === '/' || next === '?';
}

/** A path segment, percent-decoded; a malformed escape is the client's mistake. */
function decodeSegment(segment: string): string {
  // Nearly every segment has no escapes; decodeURIComponent copies it even then.
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw errors.badRequest(`the path segment ${JSON.stringify(segment)} is not valid percent-encoding`);
  }
}

/** path.IsValidPathSegmentName, plus NUL, which PostgreSQL text cannot hold. */
function checkPathSegment(what: 'Name' | 'Namespace', value: string | undefined): void {
  if (value === undefined) return;
  const problems: string[] = [];
  if (value === '.' || value === '..') problems.push(`may not be '${value}'`);
  for (const bad of ['/', '%']) if (value.includes(bad)) problems.push(`may not contain '${bad}'`);
  if (value.includes('\u0000')) problems.push('may not contain a NUL character');
  if (problems.length > 0) throw errors.badRequest(`${what} parameter invalid: ${JSON.stringify(value)}: ${problems.join(';')}`);
}

const neverAborted = new AbortController().signal;

function abortedOnClose(res: ServerResponse): AbortSignal {
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  return abort.signal;
}

const READ_VERBS = new Set(['get', 'list', 'watch']);

/** Who did what to which object, for the audit table; writes that land are recorded by the store. */
function auditRecord(req: IncomingMessage, verb: string, r: ResourceRequest, name: string): AuditRecord {
  return {
    username: (req as RequestWithUser).user?.username ?? 'system:anonymous',
    verb,
    apiGroup: r.group,
    resource: r.resource,
    subresource: r.subresource ?? '',
    namespace: r.namespace ?? '',
    name,
    userAgent: String(req.headers['user-agent'] ?? ''),
  };
}

function isMutation(verb: string): boolean {
  return ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(verb);
}

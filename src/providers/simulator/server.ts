// The simulator's HTTP face: an external controller speaking protocol v1 (express), over the
// in-memory Simulation. `virtflow agent simulate` and the tests start it with startSimulator.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { realClock, type Clock } from '../../runtime/clock.js';
import type { CallbackTarget } from '../http-provider.js';
import {
  basePath,
  capabilities,
  CreateRequest,
  dataDiskPolicies,
  errorCodes,
  PowerRequest,
  MigrateRequest,
  protocolVersion,
  UpdateRequest,
  virtualMachineStatusPath,
  type Callback,
  type DataDiskPolicy,
  type ErrorBody,
  type Health,
} from '../protocol.js';
import type { Random } from './random.js';
import { Simulation, type Answer, type FailureMode, type Latency, type SimulatorStats } from './simulation.js';
import { StatusReporter } from './status-reporter.js';
import { allowedHostnames, bearerTokenCheck, hostOf, sameApiServer } from './guard.js';
import { SimulationStore } from './persistence.js';
import { ClusterSimulation, clusterServiceRouter, type ClusterLatency } from './cluster-service.js';
import { WorkloadFleet, type WorkloadFleetOptions } from '../../workload/fleet.js';

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Per operation, on the injected clock; a number applies to all. Default 0. */
  latencyMs?: Latency;
  /** 0..1, default 0. */
  failureRate?: number;
  /** Default `operation` (reported Failed); `http` answers 503; `both` mixes them. */
  failureMode?: FailureMode;
  /** The region this controller serves, answered by healthz; creates elsewhere are refused. */
  region?: string;
  /** Source of failure draws; default Math.random. Tests pass seededRandom(n). */
  random?: Random;
  /** Time for latencies and callback back-off; default the real clock. */
  clock?: Clock;
  /**
   * Where status reports go: the API server, CA and token of the simulator's own kubeconfig.
   * Reports go only to this apiServer; a request whose callback names another is refused,
   * so the token is never sent to an address a caller chose.
   */
  callback?: CallbackTarget;
  /**
   * The bearer token every request but healthz must carry (compared in constant time).
   * Required unless allowUnauthenticated is set.
   */
  token?: string;
  /** Serve without a token: for tests only, never for a simulator others can reach. */
  allowUnauthenticated?: boolean;
  /** Serve https with this certificate and key (PEM) instead of http. */
  tls?: { cert: string; key: string };
  /**
   * Host header names (without port) the simulator answers to, against DNS rebinding;
   * default: localhost, 127.0.0.1, ::1, the listen address and this machine's hostname.
   */
  allowedHosts?: string[];
  /** Largest request body read; default 64 KiB. */
  maxBodyBytes?: number;
  /** Most uids it keeps state for (machines, operations, tombstones); default 100000. */
  maxTrackedUids?: number;
  /**
   * A file where the machines it built are kept across restarts (written atomically, a
   * moment after each change); absent: memory only.
   */
  stateFile?: string;
  /**
   * Serve live migration (POST /v1/virtualmachines/{uid}/migrate, capability migrate in
   * healthz); default true. False plays a controller that cannot, so a drain re-creates.
   */
  migrate?: boolean;
  /** Back-off of failed status reports (first delay, cap); defaults 100 ms and 30 s. */
  callbackBackoffMs?: { base?: number; max?: number };
  log?: Logger;
  /** Latencies of the K8s Cluster Service it also plays; default: latencyMs when a number, else 0. */
  clusterLatencyMs?: ClusterLatency;
  /**
   * Where the K8s Cluster Service runs a real simulated workload cluster for each cluster it
   * builds (a database each on this PostgreSQL server); absent: it reports a made-up address.
   */
  workloadClusters?: WorkloadFleetOptions;
}

export interface SimulatorHandle {
  /** Base URL, e.g. https://127.0.0.1:7480; the protocol lives under /v1. */
  url: string;
  /** The bearer token it requires (undefined only with allowUnauthenticated). */
  token?: string;
  port: number;
  /** Counters per uid: creates, machinesCreated, failures, ... (also GET /v1/_stats). */
  stats: SimulatorStats;
  /** The machines and drift controls (vanish, setPower). */
  simulation: Simulation;
  reporter: StatusReporter;
  /** The K8s Cluster Service it plays (/v1/k8sclusters). */
  clusters: ClusterSimulation;
  /** The workload clusters it runs for them, with workloadClusters. */
  workloads?: WorkloadFleet;
  /** Resolves once every status report queued so far has been sent or given up. */
  whenReported(): Promise<void>;
  stop(): Promise<void>;
}

const ajv = new Ajv({ strict: false, allErrors: true });
const validators = {
  create: ajv.compile(CreateRequest),
  update: ajv.compile(UpdateRequest),
  power: ajv.compile(PowerRequest),
  migrate: ajv.compile(MigrateRequest),
};

function invalid(validate: ValidateFunction): Answer {
  const detail = (validate.errors ?? [])
    .map((e) => `${e.instancePath || '(body)'} ${e.message ?? 'is invalid'}`)
    .join('; ');
  return { status: 400, body: { code: errorCodes.invalid, message: detail || 'the body is invalid' } };
}

function send(res: Response, answer: Answer): void {
  for (const [k, v] of Object.entries(answer.headers ?? {})) res.setHeader(k, v);
  res.status(answer.status).json(answer.body);
}

function refuse(res: Response, status: number, code: string, message: string): void {
  const body: ErrorBody = { code, message };
  res.status(status).json(body);
}

export interface SimulatorAppOptions {
  /** Required bearer token; undefined serves without one (allowUnauthenticated). */
  token?: string;
  /** Host header names answered; undefined answers any. */
  allowedHosts?: ReadonlySet<string>;
  /** The API server reports go to; a request's callback.apiServer must name it. */
  apiServer?: string;
  maxBodyBytes?: number;
  maxTrackedUids?: number;
  /** Serve live migration (healthz lists the capability migrate); default true. */
  migrate?: boolean;
}

export const defaultMaxBodyBytes = 64 * 1024;
export const defaultMaxTrackedUids = 100_000;

/** The express application of a simulation (exported for embedding in another server). */
export function simulatorApp(sim: Simulation, opts: SimulatorAppOptions & { clusters?: ClusterSimulation }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // DNS rebinding: a page of another site resolving its name to this address is refused.
  app.use((req, res, next) => {
    if (!opts.allowedHosts) return next();
    const host = hostOf(req.headers.host);
    if (host !== undefined && opts.allowedHosts.has(host)) return next();
    refuse(res, 400, errorCodes.invalid, `the Host header ${JSON.stringify(String(req.headers.host ?? '').slice(0, 100))} is not a name this controller answers to`);
  });
  app.use(express.json({ limit: opts.maxBodyBytes ?? defaultMaxBodyBytes, type: ['application/json', 'application/*+json'] }));
  const authorized = bearerTokenCheck(opts.token);
  const guarded = (req: Request, res: Response, next: NextFunction) => {
    if (!authorized(req.get('authorization'))) {
      res.setHeader('www-authenticate', 'Bearer');
      return refuse(res, 401, errorCodes.unauthorized, 'a valid bearer token is required');
    }
    next();
  };
  const maxTracked = opts.maxTrackedUids ?? defaultMaxTrackedUids;

  app.get(`${basePath}/healthz`, (_req, res) => {
    const body: Health = {
      status: 'ok',
      versions: [protocolVersion],
      service: 'VirtualMachine',
      regions: sim.region ? [sim.region] : [],
      implementation: 'virtflow-simulator',
      ...(opts.migrate !== false ? { capabilities: [capabilities.migrate] } : {}),
    };
    res.json(body);
  });

  app.get(`${basePath}/_stats`, guarded, (_req, res) => {
    res.json({ ...sim.stats.toJSON(), machines: sim.machines.size, retainedDisks: sim.retainedDisks.size });
  });

  const vms = express.Router();
  vms.use(guarded);
  /** A callback that would send reports elsewhere than the VM's status on our API server. */
  const misdirected = (callback: Callback | undefined, namespace: string, name: string): Answer | undefined => {
    if (!callback) return undefined;
    if (callback.apiServer !== undefined && opts.apiServer !== undefined && !sameApiServer(callback.apiServer, opts.apiServer)) {
      return {
        status: 400,
        body: { code: errorCodes.invalid, message: `callback.apiServer must be ${opts.apiServer}, the API server this controller reports to` },
      };
    }
    const statusPath = virtualMachineStatusPath(namespace, name);
    if (callback.statusPath !== statusPath) {
      return { status: 400, body: { code: errorCodes.invalid, message: `callback.statusPath must be ${statusPath}, the status of the VM the request is for` } };
    }
    return undefined;
  };
  vms.post('/', (req, res) => {
    if (!validators.create(req.body)) return send(res, invalid(validators.create));
    const body = req.body as CreateRequest;
    const wrong = misdirected(body.callback, body.namespace, body.name);
    if (wrong) return send(res, wrong);
    if (!sim.tracks(body.uid) && sim.mayTrackAtLeast(maxTracked)) {
      return send(res, {
        status: 503,
        body: { code: errorCodes.unavailable, message: `this controller keeps state for at most ${maxTracked} machines and holds that many; no new machine can be built` },
        headers: { 'retry-after': '60' },
      });
    }
    send(res, sim.create(body));
  });
  vms.get('/:uid', (req, res) => send(res, sim.observe(req.params.uid)));
  vms.put('/:uid', (req, res) => {
    if (!validators.update(req.body)) return send(res, invalid(validators.update));
    const body = req.body as UpdateRequest;
    const machine = sim.machines.get(req.params.uid);
    const wrong = machine ? misdirected(body.callback, machine.namespace, machine.name) : undefined;
    if (wrong) return send(res, wrong);
    send(res, sim.update(req.params.uid, body));
  });
  vms.post('/:uid/power', (req, res) => {
    if (!validators.power(req.body)) return send(res, invalid(validators.power));
    send(res, sim.power(req.params.uid, req.body));
  });
  if (opts.migrate !== false) {
    vms.post('/:uid/migrate', (req, res) => {
      if (!validators.migrate(req.body)) return send(res, invalid(validators.migrate));
      send(res, sim.migrate(req.params.uid, req.body as MigrateRequest));
    });
  }
  vms.delete('/:uid', (req, res) => {
    const dataDisk = (typeof req.query.dataDisk === 'string' ? req.query.dataDisk : 'Delete') as DataDiskPolicy;
    const requestId = req.query.requestId;
    if (!dataDiskPolicies.includes(dataDisk)) {
      return refuse(res, 400, errorCodes.invalid, `dataDisk must be Delete or Retain, not ${dataDisk}`);
    }
    if (typeof requestId !== 'string' || requestId === '') {
      return refuse(res, 400, errorCodes.invalid, 'the requestId query parameter is required');
    }
    send(res, sim.delete(req.params.uid, dataDisk, requestId));
  });
  app.use(`${basePath}/virtualmachines`, vms);
  // The same guard as the VM service: the router itself then needs no token of its own.
  if (opts.clusters) app.use(`${basePath}/k8sclusters`, guarded, clusterServiceRouter(opts.clusters, {}));

  app.use((req, res) => refuse(res, 404, errorCodes.notFound, `no route ${req.method} ${req.path}`));
  // express.json's parse errors, and anything thrown by a handler.
  app.use((err: Error & { status?: number; type?: string; limit?: number }, _req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.too.large') {
      return refuse(res, 413, errorCodes.invalid, `the body is larger than ${err.limit ?? opts.maxBodyBytes ?? defaultMaxBodyBytes} bytes, the most this controller reads`);
    }
    if (err.type === 'entity.parse.failed' || err.status === 400) {
      return refuse(res, 400, errorCodes.invalid, `the body is not valid JSON: ${err.message}`);
    }
    refuse(res, 500, 'Internal', 'the simulator failed to answer; see its log');
  });
  return app;
}

/** Starts a simulated external controller; see SimulatorOptions. */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const rate = opts.failureRate ?? 0;
  if (!(rate >= 0 && rate <= 1)) throw new Error(`the failure rate must be between 0 and 1, not ${rate}`);
  if (!opts.token && !opts.allowUnauthenticated) {
    throw new Error('the simulator requires a bearer token (token); only tests may run it without one (allowUnauthenticated)');
  }
  const clock = opts.clock ?? realClock;
  const store = opts.stateFile ? new SimulationStore(opts.stateFile, { log: opts.log }) : undefined;
  const saved = await store?.load();
  const reporter = new StatusReporter({
    clock,
    defaults: opts.callback,
    log: opts.log,
    baseBackoffMs: opts.callbackBackoffMs?.base,
    maxBackoffMs: opts.callbackBackoffMs?.max,
  });
  const simulation = new Simulation({
    clock,
    random: opts.random ?? Math.random,
    reporter,
    latencyMs: opts.latencyMs,
    failureRate: rate,
    failureMode: opts.failureMode,
    region: opts.region,
    log: opts.log,
    onChange: () => store?.changed(),
  });
  const workloads = opts.workloadClusters
    ? new WorkloadFleet({ ...opts.workloadClusters, log: opts.workloadClusters.log ?? ((message) => opts.log?.warn(message)) })
    : undefined;
  const clusters = new ClusterSimulation({
    clock,
    random: opts.random ?? Math.random,
    failureRate: rate,
    latencyMs: opts.clusterLatencyMs ?? (typeof opts.latencyMs === 'number' ? opts.latencyMs : 0),
    workloads,
    onChange: () => store?.changed(),
  });
  if (saved) simulation.importState(saved);
  if (saved?.clusters) clusters.importState(saved.clusters);
  store?.attach({ exportState: () => ({ ...simulation.exportState(), clusters: clusters.exportState() }) });
  const listenHost = opts.host ?? '127.0.0.1';
  const app = simulatorApp(simulation, {
    token: opts.token,
    allowedHosts: allowedHostnames(listenHost, opts.allowedHosts),
    apiServer: opts.callback?.apiServer,
    maxBodyBytes: opts.maxBodyBytes,
    maxTrackedUids: opts.maxTrackedUids,
    clusters,
    migrate: opts.migrate,
  });
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, app) : http.createServer(app);
  // Slow or idle clients cannot hold connections for long.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, listenHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    simulation.stop();
    clusters.stop();
    reporter.stop();
    await workloads?.stop();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let stopped = false;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${host}:${address.port}`,
    token: opts.token,
    port: address.port,
    stats: simulation.stats,
    simulation,
    reporter,
    clusters,
    workloads,
    whenReported: () => reporter.whenIdle(),
    async stop() {
      if (stopped) return;
      stopped = true;
      simulation.stop();
      clusters.stop();
      reporter.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.all([store?.flush(), workloads?.stop()]);
    },
  };
}

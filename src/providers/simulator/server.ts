// The simulator's HTTP face: an external controller speaking protocol v1 (express), over the
// in-memory Simulation. `virtflow agent simulate` and the tests start it with startSimulator.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { realClock, type Clock } from '../../runtime/clock.js';
import type { CallbackTarget } from '../http-provider.js';
import {
  basePath,
  CreateRequest,
  dataDiskPolicies,
  errorCodes,
  PowerRequest,
  protocolVersion,
  UpdateRequest,
  type DataDiskPolicy,
  type ErrorBody,
  type Health,
} from '../protocol.js';
import type { Random } from './random.js';
import { Simulation, type Answer, type FailureMode, type Latency, type SimulatorStats } from './simulation.js';
import { StatusReporter } from './status-reporter.js';
import { ClusterSimulation, clusterServiceRouter, type ClusterLatency } from './cluster-service.js';

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
  /** The callback target used for what a request's callback leaves out (e.g. the token). */
  callback?: CallbackTarget;
  /** When set, requests to /v1/virtualmachines must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Back-off of failed status reports (first delay, cap); defaults 100 ms and 30 s. */
  callbackBackoffMs?: { base?: number; max?: number };
  log?: Logger;
  /** Latencies of the K8s Cluster Service it also plays; default: latencyMs when a number, else 0. */
  clusterLatencyMs?: ClusterLatency;
}

export interface SimulatorHandle {
  /** Base URL, e.g. http://127.0.0.1:7480; the protocol lives under /v1. */
  url: string;
  port: number;
  /** Counters per uid: creates, machinesCreated, failures, ... (also GET /v1/_stats). */
  stats: SimulatorStats;
  /** The machines and drift controls (vanish, setPower). */
  simulation: Simulation;
  reporter: StatusReporter;
  /** The K8s Cluster Service it plays (/v1/k8sclusters). */
  clusters: ClusterSimulation;
  /** Resolves once every status report queued so far has been sent or given up. */
  whenReported(): Promise<void>;
  stop(): Promise<void>;
}

const ajv = new Ajv({ strict: false, allErrors: true });
const validators = {
  create: ajv.compile(CreateRequest),
  update: ajv.compile(UpdateRequest),
  power: ajv.compile(PowerRequest),
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

/** The express application of a simulation (exported for embedding in another server). */
export function simulatorApp(sim: Simulation, opts: { token?: string; clusters?: ClusterSimulation }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '1mb', type: ['application/json', 'application/*+json'] }));

  app.get(`${basePath}/healthz`, (_req, res) => {
    const body: Health = {
      status: 'ok',
      versions: [protocolVersion],
      service: 'VirtualMachine',
      regions: sim.region ? [sim.region] : [],
      implementation: 'virtflow-simulator',
    };
    res.json(body);
  });

  app.get(`${basePath}/_stats`, (_req, res) => {
    res.json({ ...sim.stats.toJSON(), machines: sim.machines.size, retainedDisks: sim.retainedDisks.size });
  });

  const vms = express.Router();
  vms.use((req, res, next) => {
    if (opts.token && req.get('authorization') !== `Bearer ${opts.token}`) {
      return refuse(res, 401, errorCodes.unauthorized, 'a valid bearer token is required');
    }
    next();
  });
  vms.post('/', (req, res) => {
    if (!validators.create(req.body)) return send(res, invalid(validators.create));
    send(res, sim.create(req.body));
  });
  vms.get('/:uid', (req, res) => send(res, sim.observe(req.params.uid)));
  vms.put('/:uid', (req, res) => {
    if (!validators.update(req.body)) return send(res, invalid(validators.update));
    send(res, sim.update(req.params.uid, req.body));
  });
  vms.post('/:uid/power', (req, res) => {
    if (!validators.power(req.body)) return send(res, invalid(validators.power));
    send(res, sim.power(req.params.uid, req.body));
  });
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
  if (opts.clusters) app.use(`${basePath}/k8sclusters`, clusterServiceRouter(opts.clusters, opts));

  app.use((req, res) => refuse(res, 404, errorCodes.notFound, `no route ${req.method} ${req.path}`));
  // express.json's parse errors, and anything thrown by a handler.
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.parse.failed' || err.status === 400) {
      return refuse(res, 400, errorCodes.invalid, `the body is not valid JSON: ${err.message}`);
    }
    refuse(res, 500, 'Internal', err.message);
  });
  return app;
}

/** Starts a simulated external controller; see SimulatorOptions. */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const rate = opts.failureRate ?? 0;
  if (!(rate >= 0 && rate <= 1)) throw new Error(`the failure rate must be between 0 and 1, not ${rate}`);
  const clock = opts.clock ?? realClock;
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
  });
  const clusters = new ClusterSimulation({
    clock,
    random: opts.random ?? Math.random,
    failureRate: rate,
    latencyMs: opts.clusterLatencyMs ?? (typeof opts.latencyMs === 'number' ? opts.latencyMs : 0),
  });
  const server = http.createServer(simulatorApp(simulation, { token: opts.token, clusters }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let stopped = false;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    stats: simulation.stats,
    simulation,
    reporter,
    clusters,
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
    },
  };
}

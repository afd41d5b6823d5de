// The simulated K8s Cluster Service (cluster-protocol.ts): clusters held in memory by uid.
// A PUT records the desired cluster; nodes converge on timers of the injected clock (the
// first control-plane node bootstraps, the others join, nodes no longer wanted are cordoned,
// drained and removed), with the simulator's failure rate and random source. A version listed
// in `failVersions` never becomes Ready (its kubelet "crash-loops"): how tests make an
// upgrade fail. Nothing is ever contacted; the API server URL and kubeconfig are only data.
import { Ajv } from 'ajv';
import express from 'express';
import { compareVersions } from '../../machinery/kubernetes-version.js';
import type { Clock, Timer } from '../../runtime/clock.js';
import { errorCodes, type ErrorBody } from '../protocol.js';
import {
  ClusterRequest,
  type ClusterNode,
  type ClusterObservation,
  type ClusterRequest as Request,
  type ObservedNode,
} from '../cluster-protocol.js';
import type { Random } from './random.js';

export type ClusterLatencyKey = 'bootstrap' | 'join' | 'drain' | 'teardown';
/** One latency for every step, or one per step (missing ones are 0). */
export type ClusterLatency = number | Partial<Record<ClusterLatencyKey, number>>;

export interface ClusterSimulationOptions {
  clock: Clock;
  random: Random;
  latencyMs?: ClusterLatency;
  /** 0..1: the share of node joins that fail. */
  failureRate?: number;
}

interface SimNode extends ObservedNode {
  timer?: Timer;
}

interface SimCluster {
  uid: string;
  request: Request;
  nodes: Map<string, SimNode>;
  bootstrapped: boolean;
  apiServer?: string;
  tearingDown?: Timer;
}

export class ClusterSimulation {
  readonly clusters = new Map<string, SimCluster>();
  /** Versions whose nodes never become Ready: a test's way of failing an upgrade. */
  readonly failVersions = new Set<string>();
  /** Finer than failVersions: nodes this answers true for never become Ready. */
  failNode?: (node: ClusterNode) => boolean;
  /** Requests accepted and nodes drained, for tests and /v1/_stats. */
  readonly counts = { applies: 0, joins: 0, drains: 0, teardowns: 0, failedJoins: 0 };

  constructor(private readonly opts: ClusterSimulationOptions) {}

  apply(uid: string, request: Request): void {
    let cluster = this.clusters.get(uid);
    if (cluster?.tearingDown) return;
    if (!cluster) {
      cluster = { uid, request, nodes: new Map(), bootstrapped: false };
      this.clusters.set(uid, cluster);
    }
    if (cluster.request.revision === request.revision && cluster.nodes.size > 0) return;
    this.counts.applies++;
    cluster.request = request;
    const wanted = new Map(request.nodes.map((n) => [n.name, n]));
    for (const node of cluster.nodes.values()) {
      if (!wanted.has(node.name) && node.state !== 'Draining') this.drain(cluster, node);
    }
    for (const want of request.nodes) {
      if (!cluster.nodes.has(want.name)) this.join(cluster, { name: want.name, role: want.role, version: want.version, state: 'Joining' }, want);
    }
    this.maybeBootstrap(cluster);
  }

  observe(uid: string): ClusterObservation {
    const cluster = this.clusters.get(uid);
    if (!cluster) return { uid, exists: false, nodes: [], plugins: [], serviceMeshes: [] };
    const nodes = [...cluster.nodes.values()].map(({ timer: _t, ...n }) => ({ ...n }));
    const readyCp = nodes.filter((n) => n.role === 'ControlPlane' && n.state === 'Ready');
    const version = readyCp.map((n) => n.version).sort(compareVersions)[0];
    const running = cluster.bootstrapped;
    const state = (enabled: boolean) => (!running ? 'inactive' : enabled ? 'active' : 'inactive') as 'active' | 'inactive';
    const r = cluster.request;
    return {
      uid,
      exists: true,
      revision: r.revision,
      phase: cluster.tearingDown ? 'TearingDown' : running ? 'Running' : 'Bootstrapping',
      reachable: !running || readyCp.length > 0,
      ...(cluster.apiServer ? { apiServer: cluster.apiServer, kubeconfig: kubeconfigOf(r, cluster.apiServer, uid) } : {}),
      ...(version ? { version } : {}),
      nodes,
      cni: { name: r.network.cni, state: state(true) },
      plugins: r.plugins.map((p) => ({ name: p.name, ...(p.version ? { version: p.version } : {}), state: state(p.enabled) })),
      serviceMeshes: r.serviceMeshes.map((m) => ({ mesh: m.mesh, role: m.role, state: state(true) })),
    };
  }

  /** Accepted at once; the cluster is gone after the teardown latency. */
  teardown(uid: string): boolean {
    const cluster = this.clusters.get(uid);
    if (!cluster) return false;
    if (cluster.tearingDown) return true;
    this.counts.teardowns++;
    for (const node of cluster.nodes.values()) node.timer?.cancel();
    cluster.tearingDown = this.opts.clock.setTimer(() => this.clusters.delete(uid), this.latency('teardown'));
    return true;
  }

  stop(): void {
    for (const cluster of this.clusters.values()) {
      cluster.tearingDown?.cancel();
      for (const node of cluster.nodes.values()) node.timer?.cancel();
    }
  }

  private maybeBootstrap(cluster: SimCluster): void {
    if (cluster.bootstrapped || cluster.apiServer) return;
    const first = [...cluster.nodes.values()].find((n) => n.role === 'ControlPlane');
    if (!first) return;
    const address = cluster.request.nodes.find((n) => n.name === first.name)?.address ?? `${cluster.request.name}.${cluster.request.namespace}.cluster.invalid`;
    cluster.apiServer = `https://${address}:6443`;
  }

  private join(cluster: SimCluster, node: SimNode, want: ClusterNode): void {
    cluster.nodes.set(node.name, node);
    this.counts.joins++;
    // The first control-plane node bootstraps the cluster (kubeadm init); the rest join it.
    const bootstrapping = !cluster.bootstrapped && node.role === 'ControlPlane';
    const rejected = this.failVersions.has(node.version) || this.failNode?.(want) === true;
    const fails = rejected || this.draw();
    node.timer = this.opts.clock.setTimer(() => {
      node.timer = undefined;
      if (fails) {
        this.counts.failedJoins++;
        node.state = 'Failed';
        node.message = rejected
          ? `simulated failure: the kubelet ${node.version} does not start`
          : `simulated failure (rate ${this.opts.failureRate}): the node could not join`;
        return;
      }
      node.state = 'Ready';
      if (bootstrapping || node.role === 'ControlPlane') cluster.bootstrapped = true;
    }, this.latency(bootstrapping ? 'bootstrap' : 'join'));
  }

  private drain(cluster: SimCluster, node: SimNode): void {
    node.timer?.cancel();
    node.state = 'Draining';
    this.counts.drains++;
    node.timer = this.opts.clock.setTimer(() => cluster.nodes.delete(node.name), this.latency('drain'));
  }

  private draw(): boolean {
    const rate = this.opts.failureRate ?? 0;
    return rate > 0 && this.opts.random() < rate;
  }

  private latency(key: ClusterLatencyKey): number {
    const latency = this.opts.latencyMs ?? 0;
    return typeof latency === 'number' ? latency : (latency[key] ?? 0);
  }
}

function kubeconfigOf(r: Request, server: string, uid: string): string {
  const user = `${r.name}-admin`;
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters:\n- name: ${r.name}\n  cluster:\n    server: ${server}\n    insecure-skip-tls-verify: true`,
    `users:\n- name: ${user}\n  user:\n    token: simulated-${uid}`,
    `contexts:\n- name: ${r.name}\n  context:\n    cluster: ${r.name}\n    user: ${user}`,
    `current-context: ${r.name}`,
    '',
  ].join('\n');
}

const validate = new Ajv({ strict: false, allErrors: true }).compile(ClusterRequest);

function refuse(res: express.Response, status: number, code: string, message: string): void {
  const body: ErrorBody = { code, message };
  res.status(status).json(body);
}

/** The routes under /v1/k8sclusters, mounted by the simulator's app. */
export function clusterServiceRouter(sim: ClusterSimulation, opts: { token?: string }): express.Router {
  const router = express.Router();
  router.use((req, res, next) => {
    if (opts.token && req.get('authorization') !== `Bearer ${opts.token}`) return refuse(res, 401, errorCodes.unauthorized, 'a valid bearer token is required');
    next();
  });
  router.get('/:uid', (req, res) => res.json(sim.observe(req.params.uid)));
  router.put('/:uid', (req, res) => {
    if (!validate(req.body)) {
      const detail = (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message ?? 'is invalid'}`).join('; ');
      return refuse(res, 400, errorCodes.invalid, detail || 'the body is invalid');
    }
    sim.apply(req.params.uid, req.body);
    res.status(202).json(sim.observe(req.params.uid));
  });
  router.delete('/:uid', (req, res) => {
    if (!sim.teardown(req.params.uid)) return refuse(res, 404, errorCodes.notFound, `no cluster ${req.params.uid}`);
    res.status(202).json(sim.observe(req.params.uid));
  });
  return router;
}

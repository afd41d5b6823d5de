// The simulated K8s Cluster Service (cluster-protocol.ts): clusters held in memory by uid.
// A PUT records the desired cluster; nodes converge on timers of the injected clock (the
// first control-plane node bootstraps, the others join, nodes no longer wanted are cordoned,
// drained and removed), with the simulator's failure rate and random source. A version listed
// in `failVersions` never becomes Ready (its kubelet "crash-loops"): how tests make an
// upgrade fail. Given a WorkloadFleet, each bootstrapped cluster is a real simulated workload
// cluster (src/workload/) whose Nodes follow the nodes that are Ready, and whose API server
// URL and admin kubeconfig are what the service reports; deleting the cluster deletes it.
// Without one (unit tests on a fake clock), the API server URL and kubeconfig are only data.
// exportState/importState carry the clusters across a restart (persistence.ts).
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
import type { WorkloadFleet } from '../../workload/fleet.js';
import type { WorkloadNode } from '../../workload/nodes.js';
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
  /** Runs a real workload cluster for each cluster built; absent: the address is only data. */
  workloads?: WorkloadFleet;
  /** Called after every change worth keeping across a restart. */
  onChange?: () => void;
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
  /** Its workload cluster in the fleet, and the port it last listened on. */
  workload?: { name: string; port?: number };
}

/** One cluster as it is kept across restarts. */
export interface ClusterState {
  uid: string;
  request: Request;
  nodes: ObservedNode[];
  bootstrapped: boolean;
  tearingDown: boolean;
  workload?: { name: string; port?: number };
}

/** The fleet's name of a cluster's workload cluster: a DNS label, stable for its uid. */
export function workloadNameOf(uid: string): string {
  return `k8s-${uid.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 24)}`;
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
    this.changed(cluster);
  }

  observe(uid: string): ClusterObservation {
    const cluster = this.clusters.get(uid);
    if (!cluster) return { uid, exists: false, nodes: [], plugins: [], serviceMeshes: [] };
    // A real cluster runs once its API server has served (it got a port): until then it
    // bootstraps, and no kubelet can report Ready to it.
    const running = cluster.bootstrapped && (!this.opts.workloads || cluster.workload?.port !== undefined);
    const awaitingApi = this.opts.workloads !== undefined && !running;
    const nodes = [...cluster.nodes.values()].map(({ timer: _t, ...n }) => ({ ...n, ...(n.state === 'Ready' && awaitingApi ? { state: 'Joining' as const } : {}) }));
    const readyCp = nodes.filter((n) => n.role === 'ControlPlane' && n.state === 'Ready');
    const version = readyCp.map((n) => n.version).sort(compareVersions)[0];
    const workload = cluster.workload ? this.opts.workloads?.get(cluster.workload.name) : undefined;
    const state = (enabled: boolean) => (!running ? 'inactive' : enabled ? 'active' : 'inactive') as 'active' | 'inactive';
    const r = cluster.request;
    // A real cluster is reachable while its API server runs (the fleet has it, or is starting it).
    const serving = !this.opts.workloads || (cluster.workload !== undefined && this.opts.workloads.has(cluster.workload.name));
    const access = workload
      ? { apiServer: workload.url, kubeconfig: workload.kubeconfig(r.name) }
      : !this.opts.workloads && cluster.apiServer
        ? { apiServer: cluster.apiServer, kubeconfig: kubeconfigOf(r, cluster.apiServer, uid) }
        : {};
    return {
      uid,
      exists: true,
      revision: r.revision,
      phase: cluster.tearingDown ? 'TearingDown' : running ? 'Running' : 'Bootstrapping',
      reachable: !running || (readyCp.length > 0 && serving),
      ...access,
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
    cluster.tearingDown = this.opts.clock.setTimer(() => this.forget(cluster), this.latency('teardown'));
    this.changed(cluster);
    return true;
  }

  /** What to keep across a restart. */
  exportState(): ClusterState[] {
    return [...this.clusters.values()].map((c) => ({
      uid: c.uid,
      request: c.request,
      nodes: [...c.nodes.values()].map(({ timer: _t, ...n }) => ({ ...n })),
      bootstrapped: c.bootstrapped,
      tearingDown: c.tearingDown !== undefined,
      ...(c.workload ? { workload: { ...c.workload } } : {}),
    }));
  }

  /**
   * Takes back the clusters of an earlier run: steps in flight start over (a node joining
   * joins again, one draining drains again, a teardown tears down again), and each running
   * cluster's workload cluster starts again on its data, on its old port when free.
   */
  importState(states: readonly ClusterState[]): void {
    for (const state of states) {
      const cluster: SimCluster = { uid: state.uid, request: state.request, nodes: new Map(), bootstrapped: state.bootstrapped, ...(state.workload ? { workload: { ...state.workload } } : {}) };
      this.clusters.set(state.uid, cluster);
      if (state.tearingDown) {
        cluster.tearingDown = this.opts.clock.setTimer(() => this.forget(cluster), this.latency('teardown'));
        continue;
      }
      const wanted = new Map(state.request.nodes.map((n) => [n.name, n]));
      for (const node of state.nodes) {
        const want = wanted.get(node.name);
        if (node.state === 'Joining' && want) this.join(cluster, { ...node }, want, false);
        else if (node.state === 'Draining') this.drain(cluster, { ...node }, false);
        else cluster.nodes.set(node.name, { ...node });
      }
      this.maybeBootstrap(cluster);
      if (cluster.bootstrapped) this.startWorkload(cluster);
    }
  }

  stop(): void {
    for (const cluster of this.clusters.values()) {
      cluster.tearingDown?.cancel();
      for (const node of cluster.nodes.values()) node.timer?.cancel();
    }
  }

  /** A teardown finished: the cluster and its workload cluster are gone. */
  private forget(cluster: SimCluster): void {
    this.clusters.delete(cluster.uid);
    if (cluster.workload) void this.opts.workloads?.remove(cluster.workload.name);
    this.opts.onChange?.();
  }

  /** Node states changed: the workload cluster's Nodes follow, and the state is saved. */
  private changed(cluster: SimCluster): void {
    if (cluster.workload && !cluster.tearingDown) this.opts.workloads?.setNodes(cluster.workload.name, this.workloadNodes(cluster));
    this.opts.onChange?.();
  }

  private workloadNodes(cluster: SimCluster): WorkloadNode[] {
    const wanted = new Map(cluster.request.nodes.map((n) => [n.name, n]));
    return [...cluster.nodes.values()].map((node) => {
      const want = wanted.get(node.name);
      return {
        name: node.name,
        role: node.role,
        state: node.state,
        version: node.version,
        ...(want?.address ? { address: want.address } : {}),
        ...(want?.pool ? { pool: want.pool } : {}),
        ...(want?.labels ? { labels: want.labels } : {}),
        ...(want?.taints ? { taints: want.taints } : {}),
      };
    });
  }

  /** The first control-plane node is up: the cluster's API server starts (kubeadm init). */
  private startWorkload(cluster: SimCluster): void {
    const fleet = this.opts.workloads;
    if (!fleet) return;
    cluster.workload ??= { name: workloadNameOf(cluster.uid) };
    const workload = cluster.workload;
    fleet.ensure(workload.name, {
      version: cluster.request.version,
      port: workload.port,
      onStarted: (port) => {
        if (workload.port === port) return;
        workload.port = port;
        this.opts.onChange?.();
      },
    });
    this.changed(cluster);
  }

  private maybeBootstrap(cluster: SimCluster): void {
    if (cluster.bootstrapped || cluster.apiServer) return;
    const first = [...cluster.nodes.values()].find((n) => n.role === 'ControlPlane');
    if (!first) return;
    const address = cluster.request.nodes.find((n) => n.name === first.name)?.address ?? `${cluster.request.name}.${cluster.request.namespace}.cluster.invalid`;
    cluster.apiServer = `https://${address}:6443`;
  }

  private join(cluster: SimCluster, node: SimNode, want: ClusterNode, counted = true): void {
    cluster.nodes.set(node.name, node);
    if (counted) this.counts.joins++;
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
        this.changed(cluster);
        return;
      }
      node.state = 'Ready';
      if (!cluster.bootstrapped && node.role === 'ControlPlane') {
        cluster.bootstrapped = true;
        this.startWorkload(cluster);
      }
      this.changed(cluster);
    }, this.latency(bootstrapping ? 'bootstrap' : 'join'));
  }

  private drain(cluster: SimCluster, node: SimNode, counted = true): void {
    node.timer?.cancel();
    node.state = 'Draining';
    cluster.nodes.set(node.name, node);
    if (counted) this.counts.drains++;
    node.timer = this.opts.clock.setTimer(() => {
      cluster.nodes.delete(node.name);
      this.changed(cluster);
    }, this.latency('drain'));
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

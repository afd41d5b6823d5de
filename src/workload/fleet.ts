// The simulated workload clusters a simulated K8s Cluster Service runs: one per cluster it
// builds, each a real API server (cluster.ts) on a database of its own on one shared
// PostgreSQL server, with a small connection pool so that dozens fit. Callers stay
// synchronous: they say what they want (ensure, setNodes, remove) and the fleet does it in
// the background, one step at a time per cluster, retrying a start that failed.
import { loadKubeConfig } from '../cli/controllers.js';
import { kubeconfigYaml } from '../cli/kubeconfig.js';
import { ObjectClient } from '../runtime/client.js';
import { removeSimulatedCluster, startSimulatedCluster, type SimulatedCluster } from './cluster.js';
import { syncNodes, type WorkloadNode } from './nodes.js';

export interface WorkloadFleetOptions {
  /** The PostgreSQL server the clusters' databases are made on; a function is asked once, at the first cluster. */
  databaseUrl: string | (() => Promise<string>);
  /** Where the clusters keep certificates and tokens (<home>/clusters/<name>). */
  home: string;
  /** Address the clusters' API servers listen on (default 127.0.0.1). */
  host?: string;
  log?: (message: string) => void;
  /** Delay before a failed start is tried again; default 5 s. */
  retryMs?: number;
}

/** Hot-path connections per cluster: a simulated cluster serves one console and its own controllers. */
const POOL_SIZE = 3;

export interface WorkloadCluster {
  name: string;
  url: string;
  port: number;
  /** An admin kubeconfig (YAML) whose cluster and context carry `contextName`. */
  kubeconfig(contextName: string): string;
}

interface Entry {
  name: string;
  version: string;
  port?: number;
  onStarted?: (port: number) => void;
  cluster?: SimulatedCluster;
  /** The steps of this cluster, one after another. */
  chain: Promise<void>;
  nodes?: readonly WorkloadNode[];
  syncQueued: boolean;
  removed: boolean;
  retry?: NodeJS.Timeout;
}

export class WorkloadFleet {
  private readonly entries = new Map<string, Entry>();
  /** Steps not yet run, also of clusters removed meanwhile. */
  private readonly pending = new Set<Promise<void>>();
  private databaseUrl?: Promise<string>;
  private stopped = false;

  constructor(private readonly opts: WorkloadFleetOptions) {}

  /**
   * Runs the cluster `name` unless it runs already. `port` is the one it listened on before
   * (kept when still free, so its kubeconfig stays valid); onStarted hears the port it got.
   */
  ensure(name: string, spec: { version: string; port?: number; onStarted?: (port: number) => void }): void {
    if (this.stopped || this.entries.has(name)) return;
    const entry = this.entryFor(name, spec);
    this.entries.set(name, entry);
    this.start(entry);
  }

  private entryFor(name: string, spec: { version: string; port?: number; onStarted?: (port: number) => void }): Entry {
    return { name, version: spec.version, port: spec.port, onStarted: spec.onStarted, chain: Promise.resolve(), syncQueued: false, removed: false };
  }

  /** The cluster `name` once its API server answers; undefined while starting or gone. */
  get(name: string): WorkloadCluster | undefined {
    const cluster = this.entries.get(name)?.cluster;
    if (!cluster) return undefined;
    return {
      name,
      url: cluster.url,
      port: Number(new URL(cluster.url).port),
      kubeconfig: (contextName) => kubeconfigYaml({ server: cluster.url, caCert: cluster.caCert, token: cluster.token, name: contextName }),
    };
  }

  /** Whether the fleet holds `name` at all (running, starting or retrying). */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The cluster's Nodes should match `nodes` (applied once it runs, latest wins). */
  setNodes(name: string, nodes: readonly WorkloadNode[]): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    entry.nodes = nodes;
    this.queueSync(entry);
  }

  /** Stops the cluster and deletes its database and folder. */
  remove(name: string): Promise<void> {
    // Also one not running now (torn down while the service was away): its data goes all the same.
    const entry = this.entries.get(name) ?? this.entryFor(name, { version: '' });
    entry.removed = true;
    clearTimeout(entry.retry);
    this.entries.delete(name);
    return this.step(entry, async () => {
      await entry.cluster?.stop();
      entry.cluster = undefined;
      await removeSimulatedCluster({ name, home: this.opts.home, databaseUrl: await this.database() });
    });
  }

  /**
   * Stops the cluster's API server and controllers but keeps its data, as a crashed cluster
   * would: `get` answers undefined until `ensure` runs it again. For tests of an unreachable cluster.
   */
  async halt(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry) return;
    clearTimeout(entry.retry);
    this.entries.delete(name);
    await this.step(entry, async () => {
      await entry.cluster?.stop();
      entry.cluster = undefined;
    });
  }

  /** Resolves once every step asked for so far has run. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  /** Stops every cluster, keeping their data for the next start (removals under way finish). */
  async stop(): Promise<void> {
    this.stopped = true;
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const e of entries) clearTimeout(e.retry);
    await Promise.all(
      entries.map((e) =>
        this.step(e, async () => {
          await e.cluster?.stop();
          e.cluster = undefined;
        }),
      ),
    );
    // A removal under way finishes before the database server goes.
    await this.settled();
  }

  private start(entry: Entry): void {
    void this.step(entry, async () => {
      if (entry.removed || this.stopped) return;
      try {
        entry.cluster = await this.launch(entry);
      } catch (err) {
        this.opts.log?.(`cannot start the simulated workload cluster ${entry.name}: ${(err as Error).message}; trying again`);
        entry.retry = setTimeout(() => this.start(entry), this.opts.retryMs ?? 5_000);
        entry.retry.unref();
        return;
      }
      entry.port = Number(new URL(entry.cluster.url).port);
      entry.onStarted?.(entry.port);
      if (entry.nodes) this.queueSync(entry);
    });
  }

  private async launch(entry: Entry): Promise<SimulatedCluster> {
    const base = { name: entry.name, home: this.opts.home, databaseUrl: await this.database(), host: this.opts.host, nodes: 0, version: entry.version, poolSize: POOL_SIZE };
    try {
      return await startSimulatedCluster({ ...base, port: entry.port ?? 0 });
    } catch (err) {
      // Its old port is taken now: another one, and a kubeconfig that says so.
      if (entry.port && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') return startSimulatedCluster({ ...base, port: 0 });
      throw err;
    }
  }

  private queueSync(entry: Entry): void {
    if (entry.syncQueued || !entry.cluster) return;
    entry.syncQueued = true;
    void this.step(entry, async () => {
      entry.syncQueued = false;
      if (!entry.cluster || !entry.nodes) return;
      try {
        await syncNodes(new ObjectClient(loadKubeConfig(entry.cluster.kubeconfig)), entry.nodes);
      } catch (err) {
        this.opts.log?.(`cannot update the nodes of the simulated workload cluster ${entry.name}: ${(err as Error).message}; trying again`);
        clearTimeout(entry.retry);
        entry.retry = setTimeout(() => this.queueSync(entry), this.opts.retryMs ?? 5_000);
        entry.retry.unref();
      }
    });
  }

  private step(entry: Entry, work: () => Promise<void>): Promise<void> {
    const chain = entry.chain.then(work).catch((err: Error) => this.opts.log?.(`simulated workload cluster ${entry.name}: ${err.message}`));
    entry.chain = chain;
    this.pending.add(chain);
    void chain.finally(() => this.pending.delete(chain));
    return chain;
  }

  private database(): Promise<string> {
    const source = this.opts.databaseUrl;
    if (!this.databaseUrl) {
      const asked = typeof source === 'string' ? Promise.resolve(source) : source();
      // A server that could not be had is asked again next time.
      asked.catch(() => {
        if (this.databaseUrl === asked) this.databaseUrl = undefined;
      });
      this.databaseUrl = asked;
    }
    return this.databaseUrl;
  }
}

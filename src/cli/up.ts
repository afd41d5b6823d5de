// `virtflow up`: the API server (with its database), the controllers in the same process,
// and a simulated external controller registered for every region, so documents applied
// with kubectl converge out of the box.
import path from 'node:path';
import { CONTROLLER_LEASE } from '../controllers/setup.js';
import { ApiError } from '../machinery/errors.js';
import { settlesWithin } from '../runtime/deadline.js';
import { startSimulatedCluster, type SimulatedCluster } from '../workload/cluster.js';
import { callbackTargetFromKubeconfig, startSimulator, type SimulatorHandle } from '../providers/simulator/index.js';
import { controllersKubeConfig } from './controller-identity.js';
import { startControllers, type RunningControllers } from './controllers.js';
import { homeIdentity, type HomeIdentity } from './lease-identity.js';
import { simulatorRegistration } from './simulator-registration.js';
import { superviseControllers } from './supervised-controllers.js';
import { startStandalone, storedToken, type Standalone, type StandaloneOptions } from './standalone.js';
import { clone } from '../machinery/object.js';

export interface UpOptions extends StandaloneOptions {
  /** Port of the simulated external controller; undefined = 7480, false = none. */
  simulatorPort?: number | false;
  controllers?: boolean;
  /** Faster timings for tests. */
  vmResyncMs?: number;
  /** Run a simulated workload cluster named `demo` beside VirtFlow, for the console (default false). */
  demoCluster?: boolean;
}

export interface Up {
  standalone: Standalone;
  simulator?: SimulatorHandle;
  controllers?: RunningControllers;
  demo?: SimulatedCluster;
  stop(): Promise<void>;
}

export const SIMULATOR_CONTROLLER = 'virtflow-simulator';
export const SIMULATOR_CLUSTER_CONTROLLER = 'virtflow-simulator-k8s';

/**
 * How long stopping waits for the controllers' reconciles in flight (and the demo cluster). They finish at once
 * unless the database is away (frozen), and then the process must stop all the same.
 */
const CONTROLLERS_STOP_MS = 5_000;

export async function startUp(opts: UpOptions): Promise<Up> {
  const standalone = await startStandalone(opts);
  let simulator: SimulatorHandle | undefined;
  let controllers: RunningControllers | undefined;
  let demo: SimulatedCluster | undefined;
  let identity: HomeIdentity | undefined;
  try {
    if (opts.simulatorPort !== false) {
      // Over TLS with the API server's certificate, a token of its own, reporting with the
      // status writer's kubeconfig, and remembering its machines across restarts.
      const token = await storedToken(standalone.home, 'simulator-token');
      simulator = await startSimulator({
        port: opts.simulatorPort ?? 7480,
        tls: standalone.tls,
        token,
        callback: callbackTargetFromKubeconfig(standalone.statusKubeconfig),
        stateFile: path.join(standalone.home, 'simulator', 'state.json'),
        // The clusters it builds are real simulated workload clusters, on VirtFlow's PostgreSQL.
        workloadClusters: { databaseUrl: standalone.databaseUrl, home: standalone.home, host: opts.host, log: (message) => process.stderr.write(`virtflow: ${message}\n`) },
      });
      await registerSimulator(standalone, simulator.url, token);
    }
    if (opts.controllers !== false) {
      identity = await homeIdentity(path.resolve(opts.home));
      const leaseIdentity = identity.identity;
      const kubeConfig = await controllersKubeConfig(standalone);
      controllers = superviseControllers(() =>
        startControllers({
          kubeConfig,
          resyncMs: opts.vmResyncMs,
          leaderElection: { ...CONTROLLER_LEASE, identity: leaseIdentity },
          // One /metrics for the whole process: the API server's and the controllers'.
          registry: standalone.server.metrics.registry,
        }),
      );
      controllers.done.catch((err) => {
        process.stderr.write(`virtflow: the controllers stopped: ${(err as Error).message}\n`);
      });
    }
    if (opts.demoCluster) {
      demo = await startSimulatedCluster({ name: 'demo', home: standalone.home, databaseUrl: standalone.databaseUrl, host: opts.host });
    }
  } catch (err) {
    await controllers?.stop().catch(() => {});
    await identity?.release();
    await simulator?.stop().catch(() => {});
    await standalone.stop();
    throw err;
  }
  return {
    standalone,
    simulator,
    controllers,
    demo,
    async stop() {
      // The demo cluster, the simulator's workload clusters and the controllers do not depend
      // on each other: they stop side by side.
      await settlesWithin(Promise.allSettled([demo?.stop(), simulator?.workloads?.stop(), controllers?.stop()]), CONTROLLERS_STOP_MS);
      await identity?.release();
      await simulator?.stop().catch(() => {});
      await standalone.stop();
    },
  };
}

/** The simulator plays the VM service and the K8s Cluster Service on one endpoint, with one token. */
async function registerSimulator(standalone: Standalone, url: string, token: string): Promise<void> {
  const service = standalone.server.service;
  const opts = {
    dryRun: false,
    fieldValidation: 'Strict' as const,
    user: { username: 'system:virtflow-up', groups: ['system:masters'] },
    userAgent: 'virtflow-up',
  };
  const registrations = [
    ...simulatorRegistration({ name: SIMULATOR_CONTROLLER, url, token, caCert: standalone.caCert }),
    ...simulatorRegistration({ name: SIMULATOR_CLUSTER_CONTROLLER, url, token, caCert: standalone.caCert, service: 'K8sCluster' }),
  ];
  for (const { group, version, plural, object } of registrations) {
    const info = service.registry.lookup(group, version, plural);
    if (!info) continue;
    const namespace = object.metadata.namespace;
    try {
      await service.create(info, namespace, clone(object), opts);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
      const { metadata: _m, apiVersion: _a, kind: _k, ...content } = object;
      await service.patch(info, namespace, object.metadata.name!, (current) => ({ ...current, ...content }), opts);
    }
  }
}

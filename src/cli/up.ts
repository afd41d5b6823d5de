// `virtflow up`: the API server (with its database), the controllers in the same process,
// and a simulated external controller registered for every region, so documents applied
// with kubectl converge out of the box.
import { ApiError } from '../machinery/errors.js';
import { startSimulator, type SimulatorHandle } from '../providers/simulator/index.js';
import { loadKubeConfig, startControllers, type RunningControllers } from './controllers.js';
import { startStandalone, type Standalone, type StandaloneOptions } from './standalone.js';

export interface UpOptions extends StandaloneOptions {
  /** Port of the simulated external controller; undefined = 7480, false = none. */
  simulatorPort?: number | false;
  controllers?: boolean;
  /** Faster timings for tests. */
  vmResyncMs?: number;
}

export interface Up {
  standalone: Standalone;
  simulator?: SimulatorHandle;
  controllers?: RunningControllers;
  stop(): Promise<void>;
}

export const SIMULATOR_CONTROLLER = 'virtflow-simulator';
export const SIMULATOR_CLUSTER_CONTROLLER = 'virtflow-simulator-k8s';

export async function startUp(opts: UpOptions): Promise<Up> {
  const standalone = await startStandalone(opts);
  let simulator: SimulatorHandle | undefined;
  let controllers: RunningControllers | undefined;
  try {
    if (opts.simulatorPort !== false) {
      simulator = await startSimulator({
        port: opts.simulatorPort ?? 7480,
        callback: { apiServer: standalone.url, caCert: standalone.caCert, token: standalone.statusToken },
      });
      await registerSimulator(standalone, simulator.url);
    }
    if (opts.controllers !== false) {
      controllers = startControllers({
        kubeConfig: loadKubeConfig(standalone.kubeconfig),
        resyncMs: opts.vmResyncMs,
        // One /metrics for the whole process: the API server's and the controllers'.
        registry: standalone.server.metrics.registry,
      });
      controllers.done.catch((err) => {
        process.stderr.write(`virtflow: the controllers stopped: ${(err as Error).message}\n`);
      });
    }
  } catch (err) {
    await simulator?.stop().catch(() => {});
    await standalone.stop();
    throw err;
  }
  return {
    standalone,
    simulator,
    controllers,
    async stop() {
      await controllers?.stop();
      await simulator?.stop().catch(() => {});
      await standalone.stop();
    },
  };
}

async function registerSimulator(standalone: Standalone, url: string): Promise<void> {
  // The simulator plays the VM service and the K8s Cluster Service on one endpoint.
  await registerController(standalone, SIMULATOR_CONTROLLER, 'VirtualMachine', url);
  await registerController(standalone, SIMULATOR_CLUSTER_CONTROLLER, 'K8sCluster', url);
}

async function registerController(standalone: Standalone, name: string, serviceKind: string, url: string): Promise<void> {
  const service = standalone.server.service;
  const info = service.registry.lookup('virtflow.io', 'v1alpha1', 'externalcontrollers');
  if (!info) return;
  const body = {
    apiVersion: 'virtflow.io/v1alpha1',
    kind: 'ExternalController',
    metadata: { name, labels: { 'virtflow.io/simulator': 'true' } },
    spec: { service: serviceKind, regions: [], endpoint: url },
  };
  const opts = {
    dryRun: false,
    fieldValidation: 'Strict' as const,
    user: { username: 'system:virtflow-up', groups: ['system:masters'] },
    userAgent: 'virtflow-up',
  };
  try {
    await service.create(info, undefined, body, opts);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 409)) throw err;
    await service.patch(info, undefined, name, (current) => ({ ...current, spec: body.spec }), opts);
  }
}

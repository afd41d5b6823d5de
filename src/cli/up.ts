// `virtflow up`: the API server (with its database), the controllers in the same process,
// and a simulated external controller registered for every region, so documents applied
// with kubectl converge out of the box.
import path from 'node:path';
import { CONTROLLER_LEASE } from '../controllers/setup.js';
import { ApiError } from '../machinery/errors.js';
import { settlesWithin } from '../runtime/deadline.js';
import { startSimulator, type SimulatorHandle } from '../providers/simulator/index.js';
import { homeIdentity, type HomeIdentity } from './controller-identity.js';
import { loadKubeConfig, startControllers, type RunningControllers } from './controllers.js';
import { superviseControllers } from './supervised-controllers.js';
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

/**
 * How long stopping waits for the controllers' reconciles in flight. They finish at once
 * unless the database is away (frozen), and then the process must stop all the same.
 */
const CONTROLLERS_STOP_MS = 5_000;

export async function startUp(opts: UpOptions): Promise<Up> {
  const standalone = await startStandalone(opts);
  let simulator: SimulatorHandle | undefined;
  let controllers: RunningControllers | undefined;
  let identity: HomeIdentity | undefined;
  try {
    if (opts.simulatorPort !== false) {
      simulator = await startSimulator({
        port: opts.simulatorPort ?? 7480,
        callback: { apiServer: standalone.url, caCert: standalone.caCert, token: standalone.statusToken },
      });
      await registerSimulator(standalone, simulator.url);
    }
    if (opts.controllers !== false) {
      identity = await homeIdentity(path.resolve(opts.home));
      const leaseIdentity = identity.identity;
      controllers = superviseControllers(() =>
        startControllers({
          kubeConfig: loadKubeConfig(standalone.kubeconfig),
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
  } catch (err) {
    await identity?.release();
    await simulator?.stop().catch(() => {});
    await standalone.stop();
    throw err;
  }
  return {
    standalone,
    simulator,
    controllers,
    async stop() {
      if (controllers) await settlesWithin(controllers.stop(), CONTROLLERS_STOP_MS);
      await identity?.release();
      await simulator?.stop().catch(() => {});
      await standalone.stop();
    },
  };
}

async function registerSimulator(standalone: Standalone, url: string): Promise<void> {
  const service = standalone.server.service;
  const info = service.registry.lookup('virtflow.io', 'v1alpha1', 'externalcontrollers');
  if (!info) return;
  const body = {
    apiVersion: 'virtflow.io/v1alpha1',
    kind: 'ExternalController',
    metadata: { name: SIMULATOR_CONTROLLER, labels: { 'virtflow.io/simulator': 'true' } },
    spec: { service: 'VirtualMachine', regions: [], endpoint: url },
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
    await service.patch(info, undefined, SIMULATOR_CONTROLLER, (current) => ({ ...current, spec: body.spec }), opts);
  }
}

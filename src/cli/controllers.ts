// Running the controllers in this process, against any Kubernetes API server (VirtFlow's own
// or a real cluster with the CRDs installed), until a signal stops them.
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { setupControllers, type ControllerSetupOptions } from '../controllers/setup.js';
import { MetricsServer } from '../runtime/metrics-server.js';

export interface RunningControllers {
  stop(): Promise<void>;
  /** Resolves when the manager ends (stopped, or failed: then it rejects). */
  done: Promise<void>;
  metricsUrl(): string | undefined;
}

export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}

export function startControllers(
  opts: Omit<ControllerSetupOptions, 'kubeConfig'> & { kubeConfig: KubeConfig; metricsPort?: number; logLevel?: string },
): RunningControllers {
  const log = opts.log ?? pino({ level: opts.logLevel ?? process.env.VIRTFLOW_LOG_LEVEL ?? 'warn' });
  const { manager } = setupControllers({ ...opts, log });
  let metrics: MetricsServer | undefined;
  if (opts.metricsPort !== undefined) {
    metrics = new MetricsServer({ registry: manager.registry, port: opts.metricsPort, ready: () => manager.ready() });
    manager.add(metrics);
  }
  const abort = new AbortController();
  const done = manager.start(abort.signal);
  return {
    done,
    metricsUrl: () => metrics?.url,
    async stop() {
      abort.abort();
      await done.catch(() => {});
    },
  };
}

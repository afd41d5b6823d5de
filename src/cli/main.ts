// The `virtflow` command.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startStandalone } from './standalone.js';
import { startUp } from './up.js';
import { loadKubeConfig, startControllers } from './controllers.js';
import { startSimulator } from '../providers/simulator/index.js';
import { keepEmbeddedPostgres, KEEPER_COMMAND } from '../store/embedded-session.js';
import { callbackTargetFromKubeconfig } from '../providers/simulator/index.js';

const usage = `Usage: virtflow <command> [options]

Commands:
  up          Start VirtFlow on this machine: PostgreSQL (embedded unless DATABASE_URL is set),
              the API server over HTTPS, the controllers, a simulated external controller,
              and a kubeconfig in $VIRTFLOW_HOME/kubeconfig.
  server      Run the API server alone (same options as up).
  controller  Run the controllers against a Kubernetes API server (VirtFlow's or a cluster's).
              --kubeconfig F   (default: $KUBECONFIG or ~/.kube/config)
              --metrics-port N (default: 8080; /metrics, /healthz, /readyz)
  agent simulate
              Run a simulated external controller (the provisioning protocol v1): the VM service
              and the K8s Cluster Service (/v1/k8sclusters), with the same latency and failures.
              --port N (7480) --latency MS (0) --failure-rate R (0) --region R
              --kubeconfig F: where to report VM status (the token should be a status writer's)

Options:
  --home DIR     Where data, certificates and the kubeconfig live (default: $VIRTFLOW_HOME or ./.virtflow)
  --port N       HTTPS port of the API server (default: 6443)
  --host ADDR    Address to listen on (default: 127.0.0.1)
  --simulator-port N
                 up: port of the simulated external controller (default: 7480; 0 = any free port)
  --no-simulator up: run no simulated external controller
  -h, --help     Show this help

Environment:
  DATABASE_URL   Use this PostgreSQL instead of the embedded one.
  VIRTFLOW_SIMULATOR_PORT  Default for --simulator-port.
  VIRTFLOW_HOME  Default for --home.
`;

async function runServer(args: string[], withControllers: boolean): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      home: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'simulator-port': { type: 'string' },
      'no-simulator': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const home = path.resolve(values.home ?? process.env.VIRTFLOW_HOME ?? '.virtflow');
  const port = values.port !== undefined ? Number(values.port) : 6443;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be a port number, got "${values.port}"`);
  }
  const simulatorPort = values['no-simulator']
    ? false
    : number(values['simulator-port'] ?? process.env.VIRTFLOW_SIMULATOR_PORT, 'simulator-port', 7480);
  const up = withControllers
    ? await startUp({ home, port, host: values.host, databaseUrl: process.env.DATABASE_URL, simulatorPort })
    : undefined;
  const vf = up ? up.standalone : await startStandalone({ home, port, host: values.host, databaseUrl: process.env.DATABASE_URL });
  const stopAll = () => (up ? up.stop() : vf.stop());
  process.stdout.write(
    [
      `VirtFlow API server listening on ${vf.url}`,
      `  database:   ${process.env.DATABASE_URL ? 'DATABASE_URL' : `embedded PostgreSQL in ${path.join(home, 'postgres')}`}`,
      `  kubeconfig: ${vf.kubeconfig}`,
      ...(up?.simulator ? [`  simulated external controller: ${up.simulator.url} (ExternalControllers virtflow-simulator and virtflow-simulator-k8s)`] : []),
      ...(up?.controllers ? ['  controllers: running in this process'] : []),
      '',
      'Try:',
      `  export KUBECONFIG=${vf.kubeconfig}`,
      '  kubectl api-resources',
      '  kubectl apply -R -f examples/lab/',
      '  kubectl get virtflow',
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`\n${signal}: stopping VirtFlow...\n`);
      stopAll().then(
        () => {
          process.stdout.write('stopped.\n');
          resolve();
        },
        (err) => {
          process.stderr.write(`error while stopping: ${(err as Error).message}\n`);
          resolve();
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const handler = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`\n${signal}: stopping...\n`);
      stop().finally(resolve);
    };
    process.on('SIGINT', () => handler('SIGINT'));
    process.on('SIGTERM', () => handler('SIGTERM'));
  });
}

function number(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got "${value}"`);
  return n;
}

async function runController(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { kubeconfig: { type: 'string' }, 'metrics-port': { type: 'string' }, 'no-leader-election': { type: 'boolean' } },
    strict: true,
  });
  const running = startControllers({
    kubeConfig: loadKubeConfig(values.kubeconfig),
    metricsPort: number(values['metrics-port'], 'metrics-port', 8080),
    leaderElection: values['no-leader-election'] ? false : undefined,
    logLevel: process.env.VIRTFLOW_LOG_LEVEL ?? 'info',
  });
  process.stdout.write('VirtFlow controllers started; waiting for the leader lease. Ctrl-C stops.\n');
  await Promise.race([untilSignal(() => running.stop()), running.done]);
}

async function runSimulator(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      latency: { type: 'string' },
      'failure-rate': { type: 'string' },
      region: { type: 'string' },
      kubeconfig: { type: 'string' },
    },
    strict: true,
  });
  const failureRate = number(values['failure-rate'], 'failure-rate', 0);
  if (failureRate > 1) throw new Error(`--failure-rate must be between 0 and 1, got ${failureRate}`);
  const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG;
  const sim = await startSimulator({
    port: number(values.port, 'port', 7480),
    latencyMs: number(values.latency, 'latency', 0),
    failureRate,
    region: values.region,
    callback: kubeconfig ? callbackTargetFromKubeconfig(kubeconfig) : undefined,
  });
  process.stdout.write(`VirtFlow simulated external controller listening on ${sim.url} (protocol v1). Ctrl-C stops.\n`);
  await untilSignal(() => sim.stop());
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      await runServer(rest, true);
      return 0;
    case 'server':
      await runServer(rest, false);
      return 0;
    case 'controller':
      await runController(rest);
      return 0;
    case 'agent':
      if (rest[0] !== 'simulate') {
        process.stderr.write(`virtflow: unknown agent "${rest[0] ?? ''}"; try: virtflow agent simulate\n`);
        return 2;
      }
      await runSimulator(rest.slice(1));
      return 0;
    case KEEPER_COMMAND:
      // Internal: the helper that runs the embedded PostgreSQL (see embedded-session.ts).
      await keepEmbeddedPostgres(rest[0]!);
      return 0;
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      process.stdout.write(usage);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`virtflow: unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`virtflow: ${(err as Error).message}\n`);
    process.exit(1);
  },
);

// The `virtflow` command.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startStandalone, storedToken } from './standalone.js';
import { startUp } from './up.js';
import { runDrain, runUncordon } from './drain.js';
import { loadKubeConfig, startControllers } from './controllers.js';
import { startSimulator } from '../providers/simulator/index.js';
import { keepEmbeddedPostgres, KEEPER_COMMAND } from '../store/embedded-session.js';
import { callbackTargetFromKubeconfig } from '../providers/simulator/index.js';

const usage = `Usage: virtflow <command> [options]

Commands:
  up          Start VirtFlow on this machine: PostgreSQL (embedded unless DATABASE_URL is set),
              the API server over HTTPS, the controllers, a simulated external controller,
              the admin kubeconfig in $VIRTFLOW_HOME/kubeconfig and, for external controllers,
              a status-writer kubeconfig in $VIRTFLOW_HOME/status-writer.kubeconfig.
  server      Run the API server alone (same options as up).
  controller  Run the controllers against a Kubernetes API server (VirtFlow's or a cluster's).
              --kubeconfig F   (default: $KUBECONFIG or ~/.kube/config)
              --metrics-port N (default: 8080; /metrics, /healthz, /readyz)
  drain <host> [--kubeconfig F] [--max-unavailable N] [--wait] [--timeout S]
              Set a Baremetal to Maintenance: its VMs are moved to other hosts (docs/operations.md).
  uncordon <host> [--kubeconfig F]
              Set a Baremetal back to Available.
  agent simulate
              Run a simulated external controller (the provisioning protocol v1): the VM service
              and the K8s Cluster Service (/v1/k8sclusters), with the same latency and failures.
              Each cluster it builds is a simulated workload cluster (see cluster simulate) on a
              database of its own (DATABASE_URL's server, else an embedded one in the home).
              It keeps its machines and clusters in $VIRTFLOW_HOME/simulator/state.json across restarts.
              --port N (7480) --host ADDR (127.0.0.1) --latency MS (0) --failure-rate R (0) --region R
              --kubeconfig F   where to report VM status: give it the status-writer kubeconfig
                               of virtflow up (default $VIRTFLOW_HOME/status-writer.kubeconfig),
                               never the admin one
              --token-file F   the bearer token it requires (default $VIRTFLOW_HOME/simulator-token,
                               made on first use)
              --tls-cert F --tls-key F   serve https (else http: the ExternalController then
                               needs spec.allowInsecureHttp: true)
              --allowed-host NAME        a Host header name it answers to besides loopback
                               and this machine's name (repeatable)
              --no-migrate     serve no live migration: drains re-create VMs

  cluster simulate
              Run a simulated workload cluster: VirtFlow's API server on a database of its own
              serving Nodes, Pods (with logs), Deployments, StatefulSets, DaemonSets, Services,
              Ingresses, volumes and storage classes, with controllers that make them run.
              Its kubeconfig is $VIRTFLOW_HOME/clusters/<name>/kubeconfig.
              --name N (demo) --port N (any free) --nodes N (3) --version V (v1.32.0)

Options:
  --home DIR     Where data, certificates and the kubeconfig live (default: $VIRTFLOW_HOME or ./.virtflow)
  --port N       HTTPS port of the API server (default: 6443)
  --host ADDR    Address to listen on (default: 127.0.0.1)
  --simulator-port N
                 up: port of the simulated external controller (default: 7480; 0 = any free port)
  --no-simulator up: run no simulated external controller
  --no-demo-cluster
                 up: run no simulated workload cluster "demo" (for the operations console)
  --encryption-key-file F
                 Keys that encrypt Secrets at rest (default: $VIRTFLOW_ENCRYPTION_KEY_FILE, else
                 encryption-keys in the home, created on first start). Replicas sharing
                 DATABASE_URL must all be given the same file.
  -h, --help     Show this help

Environment:
  DATABASE_URL   Use this PostgreSQL instead of the embedded one.
  VIRTFLOW_SIMULATOR_PORT  Default for --simulator-port.
  VIRTFLOW_HOME  Default for --home.
  VIRTFLOW_ENCRYPTION_KEY_FILE  Default for --encryption-key-file.
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
      'no-demo-cluster': { type: 'boolean' },
      'encryption-key-file': { type: 'string' },
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
  const encryptionKeyFile = values['encryption-key-file'] ?? (process.env.VIRTFLOW_ENCRYPTION_KEY_FILE || undefined);
  let stopAll = async () => {};
  // A replica that cannot decrypt what another wrote cannot serve a consistent store: it stops.
  const onFatal = () => void stopAll().finally(() => process.exit(1));
  const common = { home, port, host: values.host, databaseUrl: process.env.DATABASE_URL, encryptionKeyFile, onFatal };
  const up = withControllers ? await startUp({ ...common, simulatorPort, demoCluster: !values['no-demo-cluster'] }) : undefined;
  const vf = up ? up.standalone : await startStandalone(common);
  stopAll = () => (up ? up.stop() : vf.stop());
  process.stdout.write(
    [
      `VirtFlow API server listening on ${vf.url}`,
      `  database:   ${process.env.DATABASE_URL ? 'DATABASE_URL' : `embedded PostgreSQL in ${path.join(home, 'postgres')}`}`,
      `  kubeconfig: ${vf.kubeconfig}`,
      `  status-writer kubeconfig (for external controllers): ${vf.statusKubeconfig}`,
      ...(up?.simulator ? [`  simulated external controller: ${up.simulator.url} (ExternalControllers virtflow-simulator and virtflow-simulator-k8s)`] : []),
      ...(up?.controllers ? ['  controllers: running in this process'] : []),
      ...(up?.demo ? [`  demo workload cluster: ${up.demo.url} (kubeconfig ${up.demo.kubeconfig}); import it with the console: docs/console.md`] : []),
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
      home: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      latency: { type: 'string' },
      'failure-rate': { type: 'string' },
      region: { type: 'string' },
      kubeconfig: { type: 'string' },
      'token-file': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'allowed-host': { type: 'string', multiple: true },
      'no-migrate': { type: 'boolean' },
    },
    strict: true,
  });
  const failureRate = number(values['failure-rate'], 'failure-rate', 0);
  if (failureRate > 1) throw new Error(`--failure-rate must be between 0 and 1, got ${failureRate}`);
  const home = path.resolve(values.home ?? process.env.VIRTFLOW_HOME ?? '.virtflow');
  await mkdir(home, { recursive: true, mode: 0o755 });
  // The status writer's kubeconfig by default: never the admin's, whose token could do anything.
  const statusKubeconfig = path.join(home, 'status-writer.kubeconfig');
  const kubeconfig = values.kubeconfig ?? (existsSync(statusKubeconfig) ? statusKubeconfig : undefined);
  const tokenFile = values['token-file'] ? path.resolve(values['token-file']) : path.join(home, 'simulator-token');
  const token = existsSync(tokenFile) ? (await readFile(tokenFile, 'utf8')).trim() : await storedToken(path.dirname(tokenFile), path.basename(tokenFile));
  if (!token) throw new Error(`--token-file ${tokenFile} is empty`);
  if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) throw new Error('--tls-cert and --tls-key go together');
  const tls = values['tls-cert'] && values['tls-key']
    ? { cert: await readFile(values['tls-cert'], 'utf8'), key: await readFile(values['tls-key'], 'utf8') }
    : undefined;
  // The clusters it builds are simulated workload clusters, each a database on DATABASE_URL's
  // server, else on an embedded one in the home, started when the first cluster is.
  let embedded: Promise<{ url: string; stop(): Promise<void> }> | undefined;
  const databaseUrl = process.env.DATABASE_URL ?? (async () => {
    const { startEmbeddedPostgresInOwnSession } = await import('../store/embedded-session.js');
    embedded ??= startEmbeddedPostgresInOwnSession(path.join(home, 'clusters', 'postgres'));
    return (await embedded).url;
  });
  const sim = await startSimulator({
    workloadClusters: { databaseUrl, home, host: values.host, log: (message) => process.stderr.write(`virtflow: ${message}\n`) },
    port: number(values.port, 'port', 7480),
    host: values.host,
    latencyMs: number(values.latency, 'latency', 0),
    failureRate,
    region: values.region,
    token,
    tls,
    allowedHosts: values['allowed-host'],
    migrate: !values['no-migrate'],
    callback: kubeconfig ? callbackTargetFromKubeconfig(kubeconfig) : undefined,
    stateFile: path.join(home, 'simulator', 'state.json'),
  });
  process.stdout.write(
    [
      `VirtFlow simulated external controller listening on ${sim.url} (protocol v1). Ctrl-C stops.`,
      `  token:  ${tokenFile} (put it in the "token" key of the ExternalController's credentialsSecret)`,
      `  status: ${kubeconfig ? `reported with ${kubeconfig}` : 'not reported (no --kubeconfig; give it the status-writer kubeconfig of virtflow up)'}`,
      ...(tls ? [] : ['  http:   not TLS; its ExternalController needs spec.allowInsecureHttp: true (or pass --tls-cert and --tls-key)']),
      '',
    ].join('\n'),
  );
  await untilSignal(async () => {
    await sim.stop();
    await (await embedded?.catch(() => undefined))?.stop();
  });
}

async function runSimulatedCluster(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      home: { type: 'string' },
      name: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      nodes: { type: 'string' },
      version: { type: 'string' },
    },
    strict: true,
  });
  const home = path.resolve(values.home ?? process.env.VIRTFLOW_HOME ?? '.virtflow');
  const version = values.version ?? 'v1.32.0';
  if (!/^v\d+\.\d+\.\d+$/.test(version)) throw new Error(`--version must look like v1.30.2, got "${version}"`);
  // Its own database needs a server: DATABASE_URL's, else an embedded one in its home.
  let databaseUrl = process.env.DATABASE_URL;
  let embedded: { stop(): Promise<void> } | undefined;
  if (!databaseUrl) {
    const { startEmbeddedPostgresInOwnSession } = await import('../store/embedded-session.js');
    const db = await startEmbeddedPostgresInOwnSession(path.join(home, 'clusters', 'postgres'));
    databaseUrl = db.url;
    embedded = db;
  }
  const { startSimulatedCluster } = await import('../workload/cluster.js');
  const cluster = await startSimulatedCluster({
    name: values.name ?? 'demo',
    home,
    databaseUrl,
    port: number(values.port, 'port', 0),
    host: values.host,
    nodes: number(values.nodes, 'nodes', 3),
    version,
  }).catch(async (err) => {
    await embedded?.stop();
    throw err;
  });
  process.stdout.write(`Simulated workload cluster "${cluster.name}" (${version}) listening on ${cluster.url}\n  kubeconfig: ${cluster.kubeconfig}\nCtrl-C stops.\n`);
  await untilSignal(async () => {
    await cluster.stop();
    await embedded?.stop();
  });
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
    case 'cluster':
      if (rest[0] !== 'simulate') {
        process.stderr.write(`virtflow: unknown cluster command "${rest[0] ?? ''}"; try: virtflow cluster simulate\n`);
        return 2;
      }
      await runSimulatedCluster(rest.slice(1));
      return 0;
    case 'drain':
      return runDrain(rest);
    case 'uncordon':
      return runUncordon(rest);
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

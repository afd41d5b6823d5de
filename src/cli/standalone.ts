// Standalone mode: PostgreSQL (embedded unless DATABASE_URL is given), the API server over
// HTTPS with its own CA, an admin token and a kubeconfig — everything `virtflow up` needs.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newToken, registerToken } from '../api/auth.js';
import { STATUS_WRITERS_GROUP } from '../api/authorize.js';
import { ApiServer, type ApiServerOptions } from '../api/server.js';
import { openDatabase, type Database } from '../store/database.js';
import type { EmbeddedDatabase } from '../store/embedded.js';
import { startEmbeddedPostgresInOwnSession } from '../store/embedded-session.js';
import { Store, type StoreOptions } from '../store/store.js';
import { settlesWithin } from '../runtime/deadline.js';
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
}

export interface Standalone {
  server: ApiServer;
  store: Store;
  db: Database;
  url: string;
  kubeconfig: string;
  token: string;
  /** A token that may only read VirtualMachines and write their status. */
  statusToken: string;
  caCert: string;
  stop(): Promise<void>;
}

async function storedToken(home: string, fileName: string): Promise<string> {
  const file = path.join(home, fileName);
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const token = newToken();
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Each shutdown step may wait this long for the database (which may be away) before the next. */
const STOP_STEP_MS = 3_000;

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
    const db = await openDatabase(url);
    cleanup.push(() => db.close());
    const store = await Store.open(db, opts.store);
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
    });
    installVirtflowAdmission(server.service);
    await server.start();
    cleanup.push(() => server.stop());
    await bootstrap(server.service, opts.crdDir ?? defaultCrdDir);
    const kubeconfig = path.join(home, 'kubeconfig');
    await writeKubeconfig(kubeconfig, { server: server.url, caCert: pki.caCert, token });
    let stopped = false;
    return {
      server,
      store,
      db,
      url: server.url,
      kubeconfig,
      token,
      statusToken,
      caCert: pki.caCert,
      async stop() {
        if (stopped) return;
        stopped = true;
        for (const step of cleanup.reverse()) await settlesWithin(step(), STOP_STEP_MS);
        await embedded?.stop();
      },
    };
  } catch (err) {
    for (const step of cleanup.reverse()) await step().catch(() => {});
    await embedded?.stop().catch(() => {});
    throw err;
  }
}

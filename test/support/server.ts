// A real VirtFlow API server over HTTPS for a test file, on its own database of the run's
// shared PostgreSQL.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { startStandalone, type Standalone, type StandaloneOptions } from '../../src/cli/standalone.js';
import { newKeyLine } from '../../src/store/encryption.js';
import { createTestDatabase } from './database.js';

export interface TestServer extends Standalone {
  home: string;
  /** Sends a request with the admin token; answers status, headers and parsed body. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>;
}

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  text: string;
}

/** Per database, the key file every server of it is given, as replicas must be. */
const keyFiles = new Map<string, string>();

async function sharedKeyFile(databaseUrl: string): Promise<string> {
  let file = keyFiles.get(databaseUrl);
  if (!file) {
    file = path.join(await mkdtemp(path.join(os.tmpdir(), 'virtflow-test-keys-')), 'encryption-keys');
    await writeFile(file, `${newKeyLine()}\n`, { mode: 0o600 });
    keyFiles.set(databaseUrl, file);
  }
  return file;
}

export async function startTestServer(opts: Partial<StandaloneOptions> = {}): Promise<TestServer> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'virtflow-test-home-'));
  const databaseUrl = opts.databaseUrl ?? (await createTestDatabase());
  // A test that restarts a server on the same database gets the same key, as replicas do.
  const encryptionKeyFile = opts.encryptionKeyFile ?? (opts.databaseUrl ? await sharedKeyFile(databaseUrl) : undefined);
  const vf = await startStandalone({ home, port: 0, databaseUrl, encryptionKeyFile, ...opts });
  const { call, close } = apiCaller(vf.url, vf.token, vf.caCert);
  return {
    ...vf,
    home,
    call,
    async stop() {
      await vf.stop();
      await close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** Requests to an API server with a bearer token, trusting its CA: what TestServer.call does. */
export function apiCaller(url: string, token: string, caCert: string): { call: TestServer['call']; close(): Promise<void> } {
  const dispatcher = new Agent({ connect: { ca: caCert }, connections: 64 });
  const call = async (method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<TestResponse> => {
    const hasBody = body !== undefined;
    const res = await request(`${url}${urlPath}`, {
      method: method as 'GET',
      dispatcher,
      headers: {
        authorization: `Bearer ${token}`,
        ...(hasBody ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: hasBody ? (typeof body === 'string' ? body : JSON.stringify(body)) : undefined,
    });
    const text = await res.body.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.statusCode, headers: res.headers, body: parsed, text };
  };
  return { call, close: () => dispatcher.close() };
}

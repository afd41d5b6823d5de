// Secrets encrypted at rest: what reaches PostgreSQL through the real API (current rows,
// the change log, the audit table, NOTIFY), rows from before encryption, key rotation with
// kubectl as Kubernetes documents it, and a server given the wrong keys.
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { newKeyLine } from '../../src/store/encryption.js';
import { CHANGES_CHANNEL } from '../../src/store/objects.js';
import { Store } from '../../src/store/store.js';
import { createTestDatabase } from '../support/database.js';
import { runKubectl } from '../support/kubectl.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

const MERGE = { 'content-type': 'application/merge-patch+json' };
const APPLY = { 'content-type': 'application/apply-patch+yaml' };
const secrets = (name = '') => `/api/v1/namespaces/default/secrets${name ? `/${name}` : ''}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

// Distinct values, so that each one found in a row tells where it came from.
const CREATED = 'created-value-Zq81mXw';
const STRING_DATA = 'string-data-value-Hn37cRt';
const PATCHED = 'patched-value-Ke52vBs';
const REPLACED = 'replaced-value-Wd94pLa';
const APPLIED = 'applied-value-Pf63jQy';
const DELETED = 'deleted-value-Tg28nUe';
const ANNOTATED = 'annotation-value-Mb71sVo';
const LEGACY_FIRST = 'legacy-first-value-Yx19aDu';
const LEGACY = 'legacy-value-Rc45hJi';
const plaintexts = [CREATED, STRING_DATA, PATCHED, REPLACED, APPLIED, DELETED, ANNOTATED, LEGACY_FIRST, LEGACY];

let databaseUrl: string;
let dir: string;
let vf: TestServer | undefined;
const keyNames = { a: 'key-a', b: 'key-b', c: 'key-c' };

async function keyFile(name: string, ...keys: (keyof typeof keyNames)[]): Promise<string> {
  const file = path.join(dir, name);
  const lines = keys.map((k) => `${keyNames[k]} ${newKeyLine().split(' ')[1]}`);
  await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return file;
}

// The same key material across files: key-a is one key wherever it is listed.
const material = new Map<string, string>();
async function keyFileStable(name: string, ...keys: (keyof typeof keyNames)[]): Promise<string> {
  const file = path.join(dir, name);
  const lines = keys.map((k) => {
    if (!material.has(k)) material.set(k, newKeyLine().split(' ')[1]!);
    return `${keyNames[k]} ${material.get(k)}`;
  });
  await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return file;
}

async function start(file: string): Promise<TestServer> {
  vf = await startTestServer({ databaseUrl, encryptionKeyFile: file });
  return vf;
}

async function stop(): Promise<void> {
  await vf?.stop();
  vf = undefined;
}

/** Every row of every table, as PostgreSQL prints it. */
async function everyRow(server: TestServer): Promise<string[]> {
  const tables = await server.db.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  const out: string[] = [];
  for (const { tablename } of tables) {
    const rows = await server.db.query<{ row: string }>(`SELECT t::text AS row FROM "${tablename}" t`);
    out.push(...rows.map((r) => `${tablename}: ${r.row}`));
  }
  return out;
}

/** The values of a Secret's rows: its current row and every change of it in the log. */
async function storedValues(server: TestServer, name: string): Promise<string[]> {
  const key = `/secrets/default/${name}`;
  const rows = await server.db.query<{ value: string }>(
    'SELECT value FROM objects WHERE key = ? UNION ALL SELECT value FROM changes WHERE key = ?',
    [key, key],
  );
  return rows.map((r) => r.value);
}

function kubectl(server: TestServer, args: string[], input?: string) {
  const env = { ...process.env, KUBECONFIG: server.kubeconfig, KUBECACHEDIR: path.join(server.home, 'kube-cache') } as Record<string, string>;
  return runKubectl(args, { env, input });
}

/** `kubectl get secrets -A -o json | kubectl replace -f -`, as Kubernetes documents for rewriting Secrets. */
async function rewriteAllSecrets(server: TestServer): Promise<void> {
  const got = await kubectl(server, ['get', 'secrets', '-A', '-o', 'json']);
  expect(got.code, got.stderr).toBe(0);
  const replaced = await kubectl(server, ['replace', '-f', '-'], got.stdout);
  expect(replaced.code, replaced.stderr).toBe(0);
}

/** What a VirtFlow without encryption wrote: the same store, given no keys. */
async function writeBeforeEncryption(): Promise<void> {
  const db = await openDatabase(databaseUrl);
  const plainStore = await Store.open(db);
  try {
    const key = { resource: '/secrets', namespace: 'default', name: 'legacy' };
    const created = await plainStore.objects.create(key, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'legacy', namespace: 'default', uid: randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
      type: 'Opaque',
      data: { v: b64(LEGACY_FIRST) },
    });
    expect(created).toBeDefined();
    const updated = await plainStore.objects.update(key, (current) => ({ action: 'write', object: { ...current.object, data: { v: b64(LEGACY) } } }));
    expect(updated?.after).toBeDefined();
    const rows = await db.query<{ value: string }>("SELECT value FROM changes WHERE key = '/secrets/default/legacy'");
    expect(rows.map((r) => r.value.includes(b64(LEGACY_FIRST)) || r.value.includes(b64(LEGACY)))).toEqual([true, true]);
  } finally {
    await plainStore.close();
    await db.close();
  }
}

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'virtflow-at-rest-'));
  await writeBeforeEncryption();
  await start(await keyFileStable('keys-a', 'a'));
});

afterAll(async () => {
  await stop();
});

describe('Secrets at rest', () => {
  it('keeps every value of a Secret out of every row and every NOTIFY, and still serves it', async () => {
    const server = vf!;
    const listener = new pg.Client({ connectionString: databaseUrl });
    const payloads: string[] = [];
    await listener.connect();
    listener.on('notification', (m) => payloads.push(m.payload ?? ''));
    await listener.query(`LISTEN ${CHANGES_CHANNEL}`);
    try {
      const created = await server.call('POST', secrets(), {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'creds', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': ANNOTATED } },
        data: { password: b64(CREATED) },
        stringData: { token: STRING_DATA },
      });
      expect(created.status, created.text).toBe(201);
      const patched = await server.call('PATCH', secrets('creds'), { data: { password: b64(PATCHED) } }, MERGE);
      expect(patched.status, patched.text).toBe(200);
      const replaced = await server.call('PUT', secrets('creds'), { ...patched.body, data: { ...patched.body.data, extra: b64(REPLACED) } });
      expect(replaced.status, replaced.text).toBe(200);
      const applied = await server.call(
        'PATCH',
        `${secrets('creds')}?fieldManager=tester&force=true`,
        JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, data: { applied: b64(APPLIED) } }),
        APPLY,
      );
      expect(applied.status, applied.text).toBe(200);
      const gone = await server.call('POST', secrets(), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gone' }, data: { v: b64(DELETED) } });
      expect(gone.status, gone.text).toBe(201);
      expect((await server.call('DELETE', secrets('gone'))).status).toBe(200);

      // The API serves the values, from the database and from the cache.
      const got = await server.call('GET', secrets('creds'));
      expect(got.status).toBe(200);
      expect(got.body.data).toEqual({ password: b64(PATCHED), token: b64(STRING_DATA), extra: b64(REPLACED), applied: b64(APPLIED) });
      expect(got.body.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toBe(ANNOTATED);
      const listed = await server.call('GET', secrets());
      expect(listed.body.items.find((s: { metadata: { name: string } }) => s.metadata.name === 'creds').data).toEqual(got.body.data);

      // Every row of both Secrets, current and in the log, is sealed with the first key.
      const values = [...(await storedValues(server, 'creds')), ...(await storedValues(server, 'gone'))];
      expect(values.length).toBe(1 + 4 + 2);
      for (const value of values) expect(value.startsWith('k8s:enc:aesgcm:v1:key-a:')).toBe(true);

      // Not one value, plain or in base64, anywhere in the database.
      const rows = await everyRow(server);
      expect(rows.some((r) => r.startsWith('audit_events:') && r.includes('secrets') && r.includes('creds'))).toBe(true);
      for (const plain of plaintexts) {
        for (const form of [plain, b64(plain)]) {
          const found = rows.filter((r) => r.includes(form));
          expect(found, `${plain} stored as ${form}`).toEqual([]);
        }
      }
      await waitUntil(() => payloads.length > 0, 'a NOTIFY of the writes');
      for (const payload of payloads) expect(payload).toMatch(/^\d+:[0-9a-f]+$/);
    } finally {
      await listener.end();
    }
  });

  it('seals and serves a Secret of about a megabyte and one with thousands of keys', async () => {
    const server = vf!;
    // Under the 1.5 MiB a stored object may have.
    const big = 'B'.repeat(700 * 1024);
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, b64(`many-${i}`)]));
    for (const [name, data] of [['big', { v: b64(big) }], ['many', many]] as const) {
      const res = await server.call('POST', secrets(), { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data });
      expect(res.status, res.text.slice(0, 300)).toBe(201);
      const got = await server.call('GET', secrets(name));
      expect(got.status).toBe(200);
      expect(got.body.data).toEqual(data);
      const values = await storedValues(server, name);
      for (const value of values) {
        expect(value.startsWith('k8s:enc:aesgcm:v1:key-a:')).toBe(true);
        expect(value).not.toContain('many-');
      }
      expect((await server.call('DELETE', secrets(name))).status).toBe(200);
    }
  });

  it('seals the rows written before encryption at start, history included, and still serves them', async () => {
    const server = vf!;
    const got = await server.call('GET', secrets('legacy'));
    expect(got.status, got.text).toBe(200);
    expect(got.body.data).toEqual({ v: b64(LEGACY) });
    const values = await storedValues(server, 'legacy');
    expect(values.length).toBe(1 + 2);
    for (const value of values) expect(value.startsWith('k8s:enc:aesgcm:v1:key-a:')).toBe(true);
  });

  it('rewrites a row left plain when kubectl replaces every Secret unchanged', async () => {
    const server = vf!;
    // A row as a replica without keys would have written it.
    const current = await server.store.objects.get({ resource: '/secrets', namespace: 'default', name: 'legacy' });
    await server.db.query("UPDATE objects SET value = ? WHERE key = '/secrets/default/legacy'", [current!.text]);
    const got = await server.call('GET', secrets('legacy'));
    expect(got.body.data).toEqual({ v: b64(LEGACY) });

    await rewriteAllSecrets(server);
    const [row] = await server.db.query<{ value: string; revision: string }>("SELECT value, revision FROM objects WHERE key = '/secrets/default/legacy'");
    expect(row!.value.startsWith('k8s:enc:aesgcm:v1:key-a:')).toBe(true);
    expect(Number(row!.revision)).toBeGreaterThan(current!.revision);
    const after = await server.call('GET', secrets('legacy'));
    expect(after.body.data).toEqual({ v: b64(LEGACY) });
    expect(after.body.metadata.resourceVersion).toBe(row!.revision);
  });

  it('rotates keys: a restart with a new first key re-seals every row, after which the old key can go', async () => {
    await stop();
    // Step 1: the new key is listed first, the old one after it.
    let server = await start(await keyFileStable('keys-b-a', 'b', 'a'));
    const before = await server.call('GET', secrets('creds'));
    expect(before.status, before.text).toBe(200);
    expect(before.body.data.password).toBe(b64(PATCHED));
    // The start re-sealed every row, current and history, under the new key.
    const rows = await server.db.query<{ key: string; value: string }>(
      "SELECT key, value FROM objects WHERE resource = '/secrets' UNION ALL SELECT key, value FROM changes WHERE resource = '/secrets'",
    );
    expect(rows.length).toBeGreaterThanOrEqual(10);
    for (const row of rows) expect(row.value.startsWith('k8s:enc:aesgcm:v1:key-b:'), row.key).toBe(true);
    const written = await server.call('PATCH', secrets('creds'), { data: { rotated: b64('x') } }, MERGE);
    expect(written.status, written.text).toBe(200);
    const [latest] = await server.db.query<{ value: string }>("SELECT value FROM objects WHERE key = '/secrets/default/creds'");
    expect(latest!.value.startsWith('k8s:enc:aesgcm:v1:key-b:')).toBe(true);
    await stop();

    // Step 2: the old key is dropped; every Secret still reads.
    server = await start(await keyFileStable('keys-b', 'b'));
    const after = await server.call('GET', secrets('creds'));
    expect(after.status, after.text).toBe(200);
    expect(after.body.data).toEqual({ ...before.body.data, rotated: b64('x') });
    expect((await server.call('GET', secrets('legacy'))).body.data).toEqual({ v: b64(LEGACY) });
  });

  it('refuses to start with keys that cannot open the stored Secrets, saying which key is missing', async () => {
    await stop();
    const wrong = await keyFile('keys-c', 'c');
    await expect(startTestServer({ databaseUrl, encryptionKeyFile: wrong })).rejects.toThrow(
      /stored row\(s\) cannot be decrypted \(encrypted with "key-b"\); the first: cannot decrypt \/secrets\/default\/\S+: it was encrypted with the key "key-b", which .*keys-c does not list/,
    );
    // Same name, other key material: refused as well.
    const impostor = await keyFile('keys-b-impostor', 'b');
    await expect(startTestServer({ databaseUrl, encryptionKeyFile: impostor })).rejects.toThrow(/the key "key-b" in .*keys-b-impostor does not open it/);
    await expect(startTestServer({ databaseUrl, encryptionKeyFile: path.join(dir, 'missing') })).rejects.toThrow(
      /cannot read the encryption key file .*missing/,
    );
    // The right keys still start it.
    await start(await keyFileStable('keys-b', 'b'));
    expect((await vf!.call('GET', secrets('creds'))).status).toBe(200);
  });

  it('answers a row sealed for another Secret with a clear error, and keeps serving', async () => {
    const server = vf!;
    await server.db.query(
      "UPDATE objects SET value = (SELECT value FROM objects WHERE key = '/secrets/default/creds') WHERE key = '/secrets/default/legacy'",
    );
    const res = await server.call('GET', secrets('legacy'));
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ kind: 'Status', reason: 'InternalError', code: 500 });
    expect(res.body.message).toMatch(/cannot decrypt \/secrets\/default\/legacy: the key "key-b" .* does not open it/);
    expect((await server.call('GET', secrets('creds'))).status).toBe(200);
    expect((await server.call('GET', '/readyz', undefined, { authorization: '' })).status).toBe(200);
  });

  it('stops a replica that meets a Secret sealed with a key it was not given, naming the key', async () => {
    const shared = await createTestDatabase();
    const fatal: Error[] = [];
    const logged: string[] = [];
    const a = await startTestServer({
      databaseUrl: shared,
      encryptionKeyFile: await keyFileStable('replica-a', 'a'),
      onFatal: (err) => fatal.push(err),
      log: (line) => logged.push(line),
    });
    const b = await startTestServer({ databaseUrl: shared, encryptionKeyFile: await keyFileStable('replica-b', 'c', 'a') });
    try {
      const res = await b.call('POST', secrets(), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'from-b' }, data: { v: b64('x') } });
      expect(res.status, res.text).toBe(201);
      await waitUntil(() => fatal.length > 0, 'replica a to report the Secret it cannot decrypt');
      expect(fatal[0]!.message).toMatch(/cannot decrypt \/secrets\/default\/from-b: it was encrypted with the key "key-c", which .*replica-a does not list/);
      expect(logged.some((line) => line.includes('key-c'))).toBe(true);
      // What it does serve is a clear Status, not a crash.
      const got = await a.call('GET', secrets('from-b'));
      expect(got.status).toBe(500);
      expect(got.body.message).toContain('"key-c"');
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});

// Who may do what, proven against the real `virtflow up` over HTTPS: every default role x
// every verb x its own tenant, another tenant and cluster-scoped objects, with the expected
// allow or deny (every cross-tenant read and write denied); and the real kubectl's
// `auth can-i` (also --list, as a tenant admin), `auth whoami` and `create token`.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import YAML from 'yaml';
import { openDatabase, type Database } from '../../src/store/database.js';
import { startVirtflow, yamlDocuments, type VirtflowProcess } from '../support/kubectl.js';
import { waitUntil } from '../support/wait.js';
import { expectOk } from './support.js';

let vf: VirtflowProcess;
let dispatcher: Agent;
let db: Database;
const tokens: Record<string, string> = {};

const api = 'virtflow.io/v1alpha1';
const subject = (name: string) => ({ kind: 'ServiceAccount', name, namespace: 'people' });

beforeAll(async () => {
  vf = await startVirtflow();
  const kubeconfig = YAML.parse(await readFile(vf.kubeconfig, 'utf8'));
  dispatcher = new Agent({ connect: { ca: Buffer.from(kubeconfig.clusters[0].cluster['certificate-authority-data'], 'base64').toString() } });
  db = await openDatabase(vf.databaseUrl);
  expectOk(await vf.kubectl(['create', 'namespace', 'people']));
  for (const sa of ['platform-admin', 'operator', 'acme-admin', 'acme-viewer', 'globex-admin']) {
    expectOk(await vf.kubectl(['create', 'serviceaccount', sa, '-n', 'people']));
  }
  expectOk(await vf.kubectl(['create', 'clusterrolebinding', 'people-platform-admin', '--clusterrole=virtflow:platform-admin', '--serviceaccount=people:platform-admin']));
  expectOk(await vf.kubectl(['create', 'clusterrolebinding', 'people-operator', '--clusterrole=virtflow:operator', '--serviceaccount=people:operator']));
  const objects = [
    { apiVersion: api, kind: 'Tenant', metadata: { name: 'acme' }, spec: { admins: [subject('acme-admin')], viewers: [subject('acme-viewer')] } },
    { apiVersion: api, kind: 'Tenant', metadata: { name: 'globex' }, spec: { admins: [subject('globex-admin')] } },
    { apiVersion: api, kind: 'TenantQuota', metadata: { name: 'acme-general' }, spec: { tenant: 'acme', group: 'general', limits: { cpu: 8, memory: '8Gi', storage: '1Ti' } } },
    { apiVersion: api, kind: 'TenantQuota', metadata: { name: 'globex-general' }, spec: { tenant: 'globex', group: 'general', limits: { cpu: 8, memory: '8Gi', storage: '1Ti' } } },
    { apiVersion: api, kind: 'VirtualMachineSpecification', metadata: { name: 'small' }, spec: { cpu: 1, memory: '1Gi', storage: '10Gi' } },
  ];
  expectOk(await vf.kubectl(['apply', '-f', '-'], { input: yamlDocuments(objects) }));
  for (const ns of ['acme', 'globex']) {
    await waitUntil(async () => (await vf.kubectl(['get', 'namespace', ns])).code === 0, `namespace ${ns}`, 30_000);
    const inNs = [
      { apiVersion: api, kind: 'VirtualMachine', metadata: { name: 'vm-1', namespace: ns }, spec: { specification: 'small', image: 'none', group: 'none' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'secret-1', namespace: ns }, stringData: { k: 'v' } },
    ];
    expectOk(await vf.kubectl(['apply', '-f', '-'], { input: yamlDocuments(inNs) }));
  }
  for (const sa of ['platform-admin', 'operator', 'acme-admin', 'acme-viewer', 'globex-admin']) {
    tokens[sa] = expectOk(await vf.kubectl(['create', 'token', sa, '-n', 'people'])).stdout.trim();
  }
  // The simulator's ExternalController identity, made by the controllers.
  await waitUntil(async () => (await vf.kubectl(['get', 'sa', 'externalcontroller-virtflow-simulator', '-n', 'virtflow-system'])).code === 0, 'the simulator identity', 30_000);
  tokens['external-controller'] = expectOk(await vf.kubectl(['create', 'token', 'externalcontroller-virtflow-simulator', '-n', 'virtflow-system'])).stdout.trim();
  // The Tenant controller has bound the tenants' subjects.
  await waitUntil(async () => (await vf.kubectl(['auth', 'can-i', 'create', 'vm', '-n', 'acme', '--token', tokens['acme-viewer']!])).stdout.trim() === 'no'
    && (await vf.kubectl(['auth', 'can-i', 'get', 'vm', '-n', 'acme', '--token', tokens['acme-viewer']!])).stdout.trim() === 'yes'
    && (await vf.kubectl(['auth', 'can-i', 'get', 'tq/acme-general', '--token', tokens['acme-admin']!])).stdout.trim() === 'yes', 'tenant bindings', 30_000);
}, 180_000);

afterAll(async () => {
  await dispatcher?.close();
  await db?.close();
  await vf?.stop();
});

async function call(token: string, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<number> {
  const res = await request(`${vf.url}${path}`, {
    method: method as 'GET',
    dispatcher,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // A watch streams: its status is all that is needed.
  await res.body.dump({ limit: 1 << 20 }).catch(() => {});
  return res.statusCode;
}

type Scope = 'own' | 'other' | 'cluster';
interface Target {
  what: string;
  scope: Scope;
  collection: string;
  name: string;
  body: (name: string) => Record<string, unknown>;
}

const vmTarget = (ns: string, scope: Scope): Target => ({
  what: `virtualmachines in ${ns}`,
  scope,
  collection: `/apis/virtflow.io/v1alpha1/namespaces/${ns}/virtualmachines`,
  name: 'vm-1',
  body: (name) => ({ apiVersion: api, kind: 'VirtualMachine', metadata: { name }, spec: { specification: 'small', image: 'none', group: 'none' } }),
});
const secretTarget = (ns: string, scope: Scope): Target => ({
  what: `secrets in ${ns}`,
  scope,
  collection: `/api/v1/namespaces/${ns}/secrets`,
  name: 'secret-1',
  body: (name) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name } }),
});
const clusterTarget = (plural: string, group: string, name: string, kind: string, spec?: Record<string, unknown>): Target => ({
  what: `${plural}/${name}`,
  scope: 'cluster',
  collection: group ? `/apis/${group}/${plural}` : `/api/v1/${plural}`,
  name,
  body: (n) => ({ apiVersion: group ? group.replace(/^(.*)$/, '$1') : 'v1', kind, metadata: { name: n }, ...(spec ? { spec } : {}) }),
});

const targets: Target[] = [
  vmTarget('acme', 'own'),
  secretTarget('acme', 'own'),
  vmTarget('globex', 'other'),
  secretTarget('globex', 'other'),
  clusterTarget('tenants', 'virtflow.io/v1alpha1', 'acme', 'Tenant', {}),
  clusterTarget('tenants', 'virtflow.io/v1alpha1', 'globex', 'Tenant', {}),
  clusterTarget('tenantquotas', 'virtflow.io/v1alpha1', 'acme-general', 'TenantQuota', { tenant: 'acme', group: 'general', limits: { cpu: 1, memory: '1Gi', storage: '1Gi' } }),
  clusterTarget('tenantquotas', 'virtflow.io/v1alpha1', 'globex-general', 'TenantQuota', { tenant: 'globex', group: 'general', limits: { cpu: 1, memory: '1Gi', storage: '1Gi' } }),
  clusterTarget('virtualmachinespecifications', 'virtflow.io/v1alpha1', 'small', 'VirtualMachineSpecification', { cpu: 1, memory: '1Gi', storage: '1Gi' }),
  clusterTarget('clusterroles', 'rbac.authorization.k8s.io/v1', 'virtflow:operator', 'ClusterRole'),
  clusterTarget('namespaces', '', 'acme', 'Namespace'),
];
// globex's tenant and quota are another tenant's, seen from acme.
const otherTenants = new Set(['tenants/globex', 'tenantquotas/globex-general']);
const scopeOf = (t: Target): Scope => (otherTenants.has(t.what) ? 'other' : t.scope);

const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] as const;
type Verb = (typeof verbs)[number];
const reads = new Set<Verb>(['get', 'list', 'watch']);

/** The expected decision, stated per role in words a reader can check against docs/security.md. */
function expected(role: string, t: Target, verb: Verb): boolean {
  const read = reads.has(verb);
  const kind = t.what.split(/[ /]/)[0]!;
  switch (role) {
    case 'platform-admin':
      return true;
    case 'operator':
      // Every VirtFlow kind; reads namespaces; no Secrets, no RBAC.
      if (['virtualmachines', 'tenants', 'tenantquotas', 'virtualmachinespecifications'].includes(kind)) return true;
      if (kind === 'namespaces') return read;
      return false;
    case 'acme-admin':
    case 'acme-viewer': {
      const write = role === 'acme-admin';
      if (t.what === 'virtualmachines in acme') return read || write;
      // Its own tenant and quota by name (get, and list/watch only of that one name).
      if (t.what === 'tenants/acme' || t.what === 'tenantquotas/acme-general') return verb === 'get';
      // The catalogue VMs are made from.
      if (kind === 'virtualmachinespecifications') return read;
      return false;
    }
    case 'external-controller':
      // Reads the VMs routed to it (the simulator serves every region), writes none.
      return kind === 'virtualmachines' && read;
    default:
      return false;
  }
}

async function attempt(role: string, t: Target, verb: Verb): Promise<number> {
  const token = tokens[role]!;
  const one = `${t.collection}/${encodeURIComponent(t.name)}`;
  const dry = '?dryRun=All';
  switch (verb) {
    case 'get':
      return call(token, 'GET', one);
    case 'list':
      return call(token, 'GET', t.collection);
    case 'watch':
      return call(token, 'GET', `${t.collection}?watch=1&timeoutSeconds=1`);
    case 'create':
      return call(token, 'POST', `${t.collection}${dry}`, t.body(`matrix-${role}`));
    case 'update': {
      const current = await request(`${vf.url}${one}`, { dispatcher, headers: { authorization: `Bearer ${tokens['platform-admin']}` } });
      return call(token, 'PUT', `${one}${dry}`, await current.body.json());
    }
    case 'patch':
      return call(token, 'PATCH', `${one}${dry}`, { metadata: { labels: { matrix: role } } }, 'application/merge-patch+json');
    case 'delete':
      return call(token, 'DELETE', `${one}${dry}`);
    case 'deletecollection':
      return call(token, 'DELETE', `${t.collection}${dry}&labelSelector=matrix%3Dnone`);
  }
}

const roles = ['platform-admin', 'operator', 'acme-admin', 'acme-viewer', 'external-controller'];

describe('the permission matrix', () => {
  it('allows and denies every default role x verb x own tenant / other tenant / cluster-scoped object as documented', async () => {
    const mismatches: string[] = [];
    let crossTenant = 0;
    let crossTenantDenied = 0;
    for (const role of roles) {
      for (const t of targets) {
        for (const verb of verbs) {
          const code = await attempt(role, t, verb);
          const allowed = code !== 403;
          if (code >= 500 || code === 401) mismatches.push(`${role} ${verb} ${t.what}: HTTP ${code}`);
          if (allowed !== expected(role, t, verb)) mismatches.push(`${role} ${verb} ${t.what}: HTTP ${code}, expected ${expected(role, t, verb) ? 'allowed' : 'denied'}`);
          if (role.startsWith('acme-') && scopeOf(t) === 'other') {
            crossTenant++;
            if (!allowed) crossTenantDenied++;
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
    // 100% of a tenant's reads and writes of another tenant's objects are denied.
    expect(crossTenant).toBe(2 * 4 * verbs.length);
    expect(crossTenantDenied).toBe(crossTenant);
  }, 120_000);

  it('lets a tenant list exactly its own quota by name, never the others', async () => {
    const own = await call(tokens['acme-admin']!, 'GET', '/apis/virtflow.io/v1alpha1/tenantquotas?fieldSelector=metadata.name%3Dacme-general');
    const other = await call(tokens['acme-admin']!, 'GET', '/apis/virtflow.io/v1alpha1/tenantquotas?fieldSelector=metadata.name%3Dglobex-general');
    expect([own, other]).toEqual([200, 403]);
  });
});

describe('kubectl auth and tokens', () => {
  it('kubectl auth whoami names the ServiceAccount of a token from kubectl create token', async () => {
    const out = expectOk(await vf.kubectl(['auth', 'whoami', '--token', tokens['acme-admin']!])).stdout;
    expect(out).toMatch(/Username\s+system:serviceaccount:people:acme-admin/);
    expect(out).toMatch(/Groups\s+\[system:serviceaccounts system:serviceaccounts:people system:authenticated\]/);
    const admin = expectOk(await vf.kubectl(['auth', 'whoami'])).stdout;
    expect(admin).toMatch(/Username\s+admin/);
  });

  it('kubectl auth can-i answers yes and no for a tenant admin', async () => {
    const can = (args: string[]) => vf.kubectl(['auth', 'can-i', ...args, '--token', tokens['acme-admin']!]);
    const yes = await can(['create', 'virtualmachines', '-n', 'acme']);
    expect([yes.code, yes.stdout.trim()]).toEqual([0, 'yes']);
    const no = await can(['create', 'virtualmachines', '-n', 'globex']);
    expect([no.code, no.stdout.trim()]).toEqual([1, 'no']);
    expect((await can(['get', 'secrets', '-n', 'acme'])).stdout.trim()).toBe('no');
    expect((await can(['patch', 'virtualmachines', '--subresource=status', '-n', 'acme'])).stdout.trim()).toBe('no');
  });

  it('kubectl auth can-i --list shows a tenant admin its rules in its namespace', async () => {
    const out = expectOk(await vf.kubectl(['auth', 'can-i', '--list', '-n', 'acme', '--token', tokens['acme-admin']!])).stdout;
    expect(out).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/m);
    expect(out).toMatch(/^virtualmachines\.virtflow\.io\s+\[\]\s+\[\]\s+\[get list watch create update patch delete deletecollection\]$/m);
    expect(out).toMatch(/^tenantquotas\.virtflow\.io\s+\[\]\s+\[acme-general\]\s+\[get list watch\]$/m);
    expect(out).not.toMatch(/secrets/);
    expect(out).not.toMatch(/globex/);
  });

  it('kubectl create token tokens expire: a short one carries its duration', async () => {
    const token = expectOk(await vf.kubectl(['create', 'token', 'acme-viewer', '-n', 'people', '--duration', '10m'])).stdout.trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(claims.exp - claims.iat).toBe(600);
  });

  it('refuses a denied kubectl request with kube-apiserver wording', async () => {
    const res = await vf.kubectl(['get', 'secrets', '-n', 'globex', '--token', tokens['acme-admin']!]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      'Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:people:acme-admin" cannot list resource "secrets" in API group "" in the namespace "globex"',
    );
  });

  it('kubectl creates and lists the RBAC kinds through discovery', async () => {
    expectOk(await vf.kubectl(['create', 'role', 'cm-reader', '--verb=get,list', '--resource=configmaps', '-n', 'globex']));
    expectOk(await vf.kubectl(['create', 'rolebinding', 'cm-reader', '--role=cm-reader', '--serviceaccount=people:globex-admin', '-n', 'globex']));
    expect(expectOk(await vf.kubectl(['get', 'roles', '-n', 'globex'])).stdout).toMatch(/^cm-reader\s/m);
    expect(expectOk(await vf.kubectl(['get', 'rolebindings', '-n', 'globex'])).stdout).toMatch(/^cm-reader\s+Role\/cm-reader\s/m);
    expect(expectOk(await vf.kubectl(['get', 'clusterroles'])).stdout).toMatch(/^virtflow:tenant-admin\s/m);
    expect(expectOk(await vf.kubectl(['api-resources', '--api-group=rbac.authorization.k8s.io'])).stdout).toMatch(/^clusterrolebindings\s/m);
    await waitUntil(async () => (await vf.kubectl(['auth', 'can-i', 'list', 'configmaps', '-n', 'globex', '--token', tokens['globex-admin']!])).stdout.trim() === 'yes', 'the new binding counts');
  });

  it('the controllers of virtflow up write as their own ServiceAccount, never as admin', async () => {
    const rows = await db.query<{ username: string }>(
      "SELECT DISTINCT username FROM audit_events WHERE resource = 'tenants' AND subresource = 'status'",
    );
    expect(rows.map((r) => r.username)).toEqual(['system:serviceaccount:virtflow-system:virtflow-controllers']);
    // Least privilege: what they need, not what an administrator has.
    const token = expectOk(await vf.kubectl(['create', 'token', 'virtflow-controllers', '-n', 'virtflow-system'])).stdout.trim();
    const can = async (...args: string[]) => (await vf.kubectl(['auth', 'can-i', ...args, '--token', token])).stdout.trim();
    expect(await can('patch', 'virtualmachines', '--subresource=status', '-n', 'acme')).toBe('yes');
    expect(await can('create', 'leases', '-n', 'virtflow-system')).toBe('yes');
    expect(await can('list', 'secrets', '-A')).toBe('no');
    // A cluster's nodes are VMs the K8sCluster controller creates; tenants it never does.
    expect(await can('create', 'virtualmachines', '-n', 'acme')).toBe('yes');
    expect(await can('create', 'tenants')).toBe('no');
    expect(await can('bind', 'clusterroles/virtflow:platform-admin')).toBe('no');
    expect(await can('create', 'leases', '-n', 'acme')).toBe('no');
  });
});

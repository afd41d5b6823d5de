// What an ExternalController may ask VirtFlow to do with its transport and credentials,
// through the real API: an http endpoint only when spec.allowInsecureHttp says so, a caBundle
// that holds certificates, and a credentialsSecret in virtflow-system or labelled for it.
// And the credentials reader, as the controllers use it, never reads any other Secret, even
// for a registration that did not pass VirtFlow's admission (in a Kubernetes cluster).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../src/cli/controllers.js';
import type { ExternalController } from '../../src/kinds/externalcontroller.js';
import { ProviderCredentials } from '../../src/providers/credentials.js';
import { ProviderCredentialsUnavailable } from '../../src/providers/external-client.js';
import { ObjectClient } from '../../src/runtime/client.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

let vf: TestServer;
const xcs = '/apis/virtflow.io/v1alpha1/externalcontrollers';
const LABEL = 'virtflow.io/external-controller-credentials';

function secret(namespace: string, name: string, token: string, labels?: Record<string, string>) {
  return vf.call('POST', `/api/v1/namespaces/${namespace}/secrets`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, ...(labels ? { labels } : {}) },
    stringData: { token },
  });
}

beforeAll(async () => {
  vf = await startTestServer();
  await vf.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'acme' } });
  expect((await secret('acme', 'acme-db-password', 'tenant-secret-value')).status).toBe(201);
  expect((await secret('acme', 'vm-service-token', 'labelled-token', { [LABEL]: 'true' })).status).toBe(201);
  expect((await secret('virtflow-system', 'vm-service-tw-token', 'system-token')).status).toBe(201);
  await waitUntil(() => vf.store.cache.list('/secrets', 'acme').length === 2, 'the Secrets in the cache');
});
afterAll(async () => {
  await vf?.stop();
});

const xc = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'virtflow.io/v1alpha1',
  kind: 'ExternalController',
  metadata: { name },
  spec: { service: 'VirtualMachine', endpoint: 'https://vm-service.tw.example', ...spec },
});

function causeOf(body: any, field: string): any {
  return body?.details?.causes?.find((c: any) => c.field === field);
}

describe('ExternalController admission', () => {
  it('refuses an http endpoint unless spec.allowInsecureHttp is true, naming the field', async () => {
    const refused = await vf.call('POST', xcs, xc('plain', { endpoint: 'http://vm-service.tw.example' }));
    expect(refused.status).toBe(422);
    expect(refused.body.reason).toBe('Invalid');
    expect(causeOf(refused.body, 'spec.endpoint')?.message).toMatch(/must be an https:\/\/ URL.*allowInsecureHttp/);
    expect((await vf.call('POST', xcs, xc('plain', { endpoint: 'http://vm-service.tw.example', allowInsecureHttp: true }))).status).toBe(201);
    expect((await vf.call('POST', xcs, xc('secure', {}))).status).toBe(201);
    // Turning the flag off later is refused the same way.
    const off = await vf.call('PATCH', `${xcs}/plain`, { spec: { allowInsecureHttp: false } }, { 'content-type': 'application/merge-patch+json' });
    expect(off.status).toBe(422);
    expect(causeOf(off.body, 'spec.endpoint')).toBeDefined();
  });

  it('refuses a caBundle that holds no certificate', async () => {
    const res = await vf.call('POST', xcs, xc('bad-ca', { caBundle: Buffer.from('not a certificate').toString('base64') }));
    expect(res.status).toBe(422);
    expect(causeOf(res.body, 'spec.caBundle')?.message).toContain('PEM bundle of certificates');
    const good = await vf.call('POST', xcs, xc('good-ca', { caBundle: Buffer.from(vf.caCert).toString('base64') }));
    expect(good.status).toBe(201);
  });

  it('accepts a credentialsSecret in virtflow-system (existing or not yet) or labelled for it, and refuses any other', async () => {
    expect((await vf.call('POST', xcs, xc('system', { credentialsSecret: { namespace: 'virtflow-system', name: 'vm-service-tw-token' } }))).status).toBe(201);
    expect((await vf.call('POST', xcs, xc('system-later', { credentialsSecret: { namespace: 'virtflow-system', name: 'created-later' } }))).status).toBe(201);
    expect((await vf.call('POST', xcs, xc('labelled', { credentialsSecret: { namespace: 'acme', name: 'vm-service-token' } }))).status).toBe(201);

    // A tenant's Secret, unlabelled: the token would be sent to an endpoint of the registrant's choosing.
    const stolen = await vf.call('POST', xcs, xc('exfiltrate', { credentialsSecret: { namespace: 'acme', name: 'acme-db-password' } }));
    expect(stolen.status).toBe(422);
    const cause = causeOf(stolen.body, 'spec.credentialsSecret');
    expect(cause?.reason).toBe('FieldValueForbidden');
    expect(cause?.message).toContain(`virtflow-system, or a Secret labelled ${LABEL}=true`);
    // A missing Secret outside virtflow-system reads the same as an unlabelled one.
    const missing = await vf.call('POST', xcs, xc('nowhere', { credentialsSecret: { namespace: 'acme', name: 'no-such-secret' } }));
    expect(missing.status).toBe(422);
    expect(causeOf(missing.body, 'spec.credentialsSecret')?.message).toBe(cause?.message.replace('acme/acme-db-password', 'acme/no-such-secret'));
  });
});

describe('the credentials reader', () => {
  const client = () => new ObjectClient(loadKubeConfig(vf.kubeconfig));
  const registered = (namespace: string, name: string): ExternalController => ({
    apiVersion: 'virtflow.io/v1alpha1',
    kind: 'ExternalController',
    metadata: { name: 'in-cluster' },
    spec: { service: 'VirtualMachine', endpoint: 'https://vm-service.tw.example', credentialsSecret: { namespace, name } },
  });

  it('reads a Secret of virtflow-system and one labelled for it, and never an unlabelled one elsewhere', async () => {
    const credentials = new ProviderCredentials(client());
    await expect(credentials.readerFor(registered('virtflow-system', 'vm-service-tw-token'))!('create')).resolves.toBe('system-token');
    await expect(credentials.readerFor(registered('acme', 'vm-service-token'))!('create')).resolves.toBe('labelled-token');
    const read = credentials.readerFor(registered('acme', 'acme-db-password'))!('create');
    await expect(read).rejects.toBeInstanceOf(ProviderCredentialsUnavailable);
    await expect(read).rejects.toThrow(/acme\/acme-db-password is not usable: spec.credentialsSecret must name a Secret in namespace virtflow-system/);
    await expect(read).rejects.not.toThrow(/tenant-secret-value/);
  });

  it('reads a Secret once per TTL, sees a rotated token after it, and never keeps a problem', async () => {
    let now = 1_000_000;
    const credentials = new ProviderCredentials(client(), { ttlMs: 5_000, now: () => now });
    expect((await secret('virtflow-system', 'rotating-token', 'first')).status).toBe(201);
    const read = credentials.readerFor(registered('virtflow-system', 'rotating-token'))!;
    expect(await read('create')).toBe('first');
    expect((await vf.call('PUT', '/api/v1/namespaces/virtflow-system/secrets/rotating-token', {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'rotating-token', namespace: 'virtflow-system' }, stringData: { token: 'second' },
    })).status).toBe(200);
    now += 4_999;
    expect(await read('observe')).toBe('first');
    now += 1;
    expect(await read('observe')).toBe('second');

    const missing = credentials.readerFor(registered('virtflow-system', 'not-yet-there'))!;
    await expect(missing('create')).rejects.toBeInstanceOf(ProviderCredentialsUnavailable);
    expect((await secret('virtflow-system', 'not-yet-there', 'arrived')).status).toBe(201);
    expect(await missing('create')).toBe('arrived');
  });
});

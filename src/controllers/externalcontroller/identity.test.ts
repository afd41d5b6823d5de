import { describe, expect, it } from 'vitest';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import type { OperationRef, VirtualMachineProvider } from '../../providers/external-client.js';
import { ExternalControllerIdentities, IDENTITY_CHECK_MS, withCallbackIdentity } from './identity.js';

const vm = { metadata: { name: 'a', namespace: 'acme', uid: 'u-1' } } as VirtualMachine;
const op: OperationRef = { operationId: 'op-1', type: 'Create', state: 'Pending' };

/** A provider that records, per call, the callback token it was built with. */
function recording(withMigrate: boolean) {
  const calls: { call: string; token?: string }[] = [];
  const make = (token?: string): VirtualMachineProvider => ({
    observe: async () => ({ exists: false }) as never,
    create: async () => (calls.push({ call: 'create', token }), op),
    update: async () => (calls.push({ call: 'update', token }), op),
    power: async () => op,
    delete: async () => op,
    ...(withMigrate ? { migrate: async () => (calls.push({ call: 'migrate', token }), op) } : {}),
  });
  return { calls, make };
}

describe('withCallbackIdentity', () => {
  it('keeps the optional migrate of a provider that has it, without asking for a token (it sends no callback)', async () => {
    const { calls, make } = recording(true);
    let tokensAsked = 0;
    const provider = withCallbackIdentity(make, async () => (tokensAsked++, 'sa-token'));
    expect(provider.migrate).toBeTypeOf('function');
    expect(await provider.migrate!(vm, { baremetal: 'h2' } as never, { requestId: 'migrate:1' })).toEqual(op);
    await provider.create(vm, { baremetal: 'h1' } as never, {} as never);
    expect(calls).toEqual([{ call: 'migrate', token: undefined }, { call: 'create', token: 'sa-token' }]);
    expect(tokensAsked).toBe(1);
  });

  it('leaves migrate out for a provider without it, so a drain re-creates instead', () => {
    const { make } = recording(false);
    expect(withCallbackIdentity(make, async () => 'sa-token').migrate).toBeUndefined();
  });
});

describe('ExternalControllerIdentities', () => {
  /** A client that answers the ServiceAccount, the binding and tokens, counting each request. */
  function identityClient() {
    const requests: string[] = [];
    let issued = 0;
    const client = {
      find: async (resource: { plural: string }) => (requests.push(`find ${resource.plural}`), { metadata: { name: 'sa', uid: 'sa-uid' } }),
      createSubresource: async () => (requests.push('token'), { status: { token: `token-${++issued}` } }),
    };
    return { client: client as never, requests };
  }
  const xc = (uid: string) => ({ metadata: { name: 'vm-service', uid } }) as never;

  it('makes sure of the ServiceAccount once per check interval, not for every create', async () => {
    const { client, requests } = identityClient();
    let now = 0;
    const identities = new ExternalControllerIdentities(client, () => now);
    expect(await identities.token(xc('xc-1'))).toBe('token-1');
    expect(requests).toEqual(['find serviceaccounts', 'find clusterrolebindings', 'token']);
    requests.length = 0;
    for (let i = 0; i < 5; i++) expect(await identities.token(xc('xc-1'))).toBe('token-1');
    expect(requests).toEqual([]);
    now += IDENTITY_CHECK_MS;
    expect(await identities.token(xc('xc-1'))).toBe('token-1');
    expect(requests).toEqual(['find serviceaccounts', 'find clusterrolebindings']);
  });

  it('issues a new token for a new ExternalController of the same name at once', async () => {
    const { client, requests } = identityClient();
    const identities = new ExternalControllerIdentities(client, () => 0);
    expect(await identities.token(xc('xc-1'))).toBe('token-1');
    expect(await identities.token(xc('xc-2'))).toBe('token-2');
    expect(requests.filter((r) => r === 'token')).toHaveLength(2);
  });
});

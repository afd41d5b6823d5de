import { describe, expect, it } from 'vitest';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import type { OperationRef, VirtualMachineProvider } from '../../providers/external-client.js';
import { withCallbackIdentity } from './identity.js';

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

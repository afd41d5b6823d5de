// An external controller that requires a token: VirtFlow presents the `token` key of the
// Secret its ExternalController names in spec.credentialsSecret, read on each attempt,
// and says on the VM what is wrong while the Secret is missing or holds the wrong token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { condition, credentialsSecret, ok, startWorld, type World } from './lifecycle-harness.js';

const TOKEN = 'lab-token-1';
let w: World;

beforeAll(async () => {
  w = await startWorld({ token: TOKEN });
});

afterAll(async () => {
  await w?.stop();
});

const secretPath = `/api/v1/namespaces/${credentialsSecret.namespace}/secrets`;
const secret = (token: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: credentialsSecret.name },
  stringData: { token },
});
const readyReason = (reason: string) => (vm: any) => condition(vm, 'Ready')?.reason === reason;

describe('ExternalController credentials', () => {
  it('waits for the Secret, is refused with a wrong token, and provisions once the token is right', async () => {
    await w.createVm('locked-1');
    const missing = await w.waitVm('locked-1', 'credentials unavailable', readyReason('ProviderCredentialsUnavailable'));
    expect(condition(missing, 'Ready').message).toContain(`its credentialsSecret ${credentialsSecret.namespace}/${credentialsSecret.name} does not exist`);
    expect(w.sim.simulation.machines.size).toBe(0);

    ok(await w.vf.call('POST', secretPath, secret('not-it')), 201);
    const refused = await w.waitVm('locked-1', 'refused by the controller', readyReason('ProviderRejected'));
    expect(condition(refused, 'Ready').message).toMatch(/401|bearer token/);
    expect(w.sim.simulation.machines.size).toBe(0);

    // A rotated Secret counts from the next attempt: nothing restarts.
    ok(await w.vf.call('PUT', `${secretPath}/${credentialsSecret.name}`, secret(TOKEN)), 200);
    const running = await w.waitVm('locked-1', 'Running', (vm) => vm.status?.phase === 'Running' && condition(vm, 'Ready')?.status === 'True');
    expect(running.status.externalController).toBe('vm-service-tw');
    expect(w.sim.simulation.machines.size).toBe(1);
  });
});

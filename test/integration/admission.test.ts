// VirtFlow's admission rules through the real API: suspended tenants, flavors in use, and VM
// names from the tenant's template.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';
import { ApiError } from '../../src/machinery/errors.js';

let vf: TestServer;
beforeAll(async () => {
  vf = await startTestServer();
  await vf.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'acme' } });
  await vf.call('POST', '/apis/virtflow.io/v1alpha1/tenants', {
    apiVersion: 'virtflow.io/v1alpha1',
    kind: 'Tenant',
    metadata: { name: 'acme' },
    spec: { vmNameTemplate: '{tenant}-{role}-{index}' },
  });
  await vf.call('POST', '/apis/virtflow.io/v1alpha1/virtualmachinespecifications', {
    apiVersion: 'virtflow.io/v1alpha1',
    kind: 'VirtualMachineSpecification',
    metadata: { name: 'small' },
    spec: { cpu: 2, memory: '4Gi', storage: '40Gi' },
  });
  await waitUntil(() => vf.store.cache.count('virtflow.io/tenants') === 1, 'tenant in cache');
});
afterAll(async () => {
  await vf?.stop();
});

const vmsPath = '/apis/virtflow.io/v1alpha1/namespaces/acme/virtualmachines';
function vm(extra: Record<string, unknown> = {}, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'virtflow.io/v1alpha1',
    kind: 'VirtualMachine',
    metadata: { ...extra },
    spec: { specification: 'small', image: 'ubuntu', group: 'general', ...spec },
  };
}

async function setSuspended(suspended: boolean) {
  const res = await vf.call('PATCH', '/apis/virtflow.io/v1alpha1/tenants/acme', { spec: { suspended } }, {
    'content-type': 'application/merge-patch+json',
  });
  expect(res.status).toBe(200);
  await vf.store.syncCache();
}

describe('VirtFlow admission', () => {
  it('names a VM created with generateName from the tenant template, counting up', async () => {
    const first = await vf.call('POST', vmsPath, vm({ generateName: 'x-' }, { role: 'Worker' }));
    expect(first.status).toBe(201);
    const second = await vf.call('POST', vmsPath, vm({ generateName: 'x-' }, { role: 'Worker' }));
    expect([first.body.metadata.name, second.body.metadata.name]).toEqual(['acme-worker-1', 'acme-worker-2']);
  });

  it('gives distinct template names to VMs created concurrently', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => vf.call('POST', vmsPath, vm({ generateName: 'x-' }, { role: 'Bastion' }))),
    );
    const names = results.map((r) => r.body.metadata.name as string);
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(new Set(names).size).toBe(20);
    expect(names.every((n) => /^acme-bastion-\d+$/.test(n))).toBe(true);
  });

  it('refuses creating a VM for a suspended tenant, saying so, and allows it again after resuming', async () => {
    await setSuspended(true);
    const refused = await vf.call('POST', vmsPath, vm({ name: 'while-suspended' }));
    expect(refused.status).toBe(403);
    expect(refused.body.reason).toBe('Forbidden');
    expect(refused.body.message).toContain('tenant "acme" is suspended');
    await setSuspended(false);
    const allowed = await vf.call('POST', vmsPath, vm({ name: 'after-resume' }));
    expect(allowed.status).toBe(201);
  });

  it('refuses powering on a halted VM of a suspended tenant but lets it be stopped', async () => {
    expect((await vf.call('POST', vmsPath, vm({ name: 'power' }))).status).toBe(201);
    await setSuspended(true);
    const merge = { 'content-type': 'application/merge-patch+json' };
    const stop = await vf.call('PATCH', `${vmsPath}/power`, { spec: { runStrategy: 'Halted' } }, merge);
    expect(stop.status).toBe(200);
    const start = await vf.call('PATCH', `${vmsPath}/power`, { spec: { runStrategy: 'Always' } }, merge);
    expect(start.status).toBe(403);
    expect(start.body.message).toContain('powering on');
    await setSuspended(false);
  });

  it('refuses resizing a specification while a VM uses it, naming the field', async () => {
    const res = await vf.call('PATCH', '/apis/virtflow.io/v1alpha1/virtualmachinespecifications/small', { spec: { cpu: 4 } }, {
      'content-type': 'application/merge-patch+json',
    });
    expect(res.status).toBe(422);
    expect(res.body.details.causes[0].field).toBe('spec.cpu');
    expect(res.body.message).toContain('publish a new specification');
    const description = await vf.call('PATCH', '/apis/virtflow.io/v1alpha1/virtualmachinespecifications/small', { spec: { description: 'still fine' } }, {
      'content-type': 'application/merge-patch+json',
    });
    expect(description.status).toBe(200);
  });

  it('accepts a VM whose specification and image do not exist yet', async () => {
    const res = await vf.call('POST', vmsPath, vm({ name: 'early' }, { specification: 'not-yet', image: 'not-yet-either' }));
    expect(res.status).toBe(201);
  });

  it('waits for an admitter that answers later, runs the rest after it, and refuses with what it throws', async () => {
    const seen: string[] = [];
    const admitters = vf.server.service.admitters;
    const added = [
      {
        async admit({ object }: { object: { metadata: { name?: string } } }) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          seen.push(`async ${object.metadata.name}`);
          if (object.metadata.name === 'refused-later') throw new ApiError(403, 'Forbidden', 'refused by a slow admitter');
        },
      },
      {
        admit({ object }: { object: { metadata: { name?: string } } }) {
          seen.push(`after ${object.metadata.name}`);
        },
      },
    ];
    admitters.push(...(added as never[]));
    try {
      const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
      expect((await vf.call('POST', '/api/v1/namespaces/acme/configmaps', cm('admitted-later'))).status).toBe(201);
      const refused = await vf.call('POST', '/api/v1/namespaces/acme/configmaps', cm('refused-later'));
      expect([refused.status, refused.body.message]).toEqual([403, 'refused by a slow admitter']);
      expect((await vf.call('GET', '/api/v1/namespaces/acme/configmaps/refused-later')).status).toBe(404);
      expect(seen).toEqual(['async admitted-later', 'after admitted-later', 'async refused-later']);
      // A namespace that is not there is refused before admission runs.
      const nowhere = await vf.call('POST', '/api/v1/namespaces/nowhere/configmaps', cm('x'));
      expect([nowhere.status, nowhere.body.details?.kind]).toEqual([404, 'namespaces']);
      expect(seen).toHaveLength(3);
    } finally {
      admitters.splice(admitters.length - added.length, added.length);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/support/server.js';
import type { KubeObject } from '../machinery/object.js';
import { ApiError } from '../machinery/errors.js';
import type { ObjectClient } from './client.js';
import { updateStatus } from './status.js';
import { clientFor, installWidgets, Widgets } from './test-fixtures.js';

type Widget = KubeObject & { spec: { size: number }; status?: { observedGeneration?: number; phase?: string; notes?: string[] } };

let vf: TestServer;
let client: ObjectClient;
beforeAll(async () => {
  vf = await startTestServer();
  client = clientFor(vf.kubeconfig);
  await installWidgets(client);
});
afterAll(async () => {
  await vf?.stop();
});

async function widget(name: string): Promise<Widget> {
  return client.create<Widget>(Widgets, {
    apiVersion: 'test.virtflow.io/v1',
    kind: 'Widget',
    metadata: { namespace: 'default', name },
    spec: { size: 1 },
  });
}

describe('updateStatus', () => {
  it('writes status through the status subresource, leaving spec alone', async () => {
    const w = await widget('s1');
    const written = await updateStatus(client, Widgets, w, (d) => {
      d.spec.size = 42;
      d.status = { phase: 'Ready' };
    });
    expect(written.status).toEqual({ phase: 'Ready' });
    expect(written.spec.size).toBe(1);
  });

  it('does not write when the status would not change', async () => {
    const w = await updateStatus(client, Widgets, await widget('s2'), (d) => void (d.status = { phase: 'Ready' }));
    const again = await updateStatus(client, Widgets, w, (d) => void (d.status = { phase: 'Ready' }));
    expect(again).toBe(w);
    const stored = await client.get<Widget>(Widgets, { namespace: 'default', name: 's2' });
    expect(stored.metadata.resourceVersion).toBe(w.metadata.resourceVersion);
  });

  it('on a conflict re-reads the object and applies the change again to what it finds', async () => {
    const stale = await widget('s3');
    await client.patch(Widgets, { namespace: 'default', name: 's3' }, 'merge', { spec: { size: 2 } });
    await client.patch(Widgets, { namespace: 'default', name: 's3' }, 'merge', { status: { notes: ['from someone else'] } }, { subresource: 'status' });
    let calls = 0;
    const written = await updateStatus(client, Widgets, stale, (d) => {
      calls++;
      d.status = { ...d.status, observedGeneration: d.metadata.generation, phase: 'Ready' };
    });
    expect(calls).toBe(2);
    expect(written.status).toEqual({ notes: ['from someone else'], observedGeneration: 2, phase: 'Ready' });
  });

  it('gives up after the configured attempts and throws the conflict for a retry', async () => {
    const w = await widget('s4');
    let reads = 0;
    const conflicting = new Proxy(client, {
      get(target, prop, receiver) {
        if (prop === 'replaceStatus') return () => Promise.reject(new ApiError(409, 'Conflict', 'conflict'));
        if (prop === 'get') reads++;
        return Reflect.get(target, prop, receiver);
      },
    });
    await expect(updateStatus(conflicting, Widgets, w, (d) => void (d.status = { phase: 'X' }), { attempts: 3 })).rejects.toMatchObject({ code: 409 });
    expect(reads).toBe(2);
  });
});

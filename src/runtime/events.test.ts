import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/support/server.js';
import type { KubeObject } from '../machinery/object.js';
import pino from 'pino';
import { ApiError } from '../machinery/errors.js';
import type { ObjectClient } from './client.js';
import { EventRecorder } from './events.js';
import { ConfigMaps, Events, Namespaces } from './resource.js';
import { clientFor } from './test-fixtures.js';
import { FakeClock } from './testing.js';

type CoreEvent = KubeObject & {
  involvedObject: Record<string, string>;
  type: string;
  reason: string;
  message: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string; host?: string };
  reportingComponent: string;
};

let vf: TestServer;
let client: ObjectClient;
beforeAll(async () => {
  vf = await startTestServer();
  client = clientFor(vf.kubeconfig);
});
afterAll(async () => {
  await vf?.stop();
});

async function eventsAbout(name: string, namespace = 'default'): Promise<CoreEvent[]> {
  const list = await client.list<CoreEvent>(Events, { namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items;
}

async function configMap(name: string): Promise<KubeObject> {
  return client.create<KubeObject>(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'default', name } });
}

describe('EventRecorder', () => {
  it('writes a core/v1 Event naming the object, its reason, message, type and source', async () => {
    const clock = new FakeClock(Date.parse('2030-05-01T10:00:00Z'));
    const recorder = new EventRecorder({ client, component: 'virtflow-test', instance: 'host-1', clock });
    const cm = await configMap('e1');
    await recorder.normal(cm, 'Placed', 'placed on host-7');
    const [event, ...more] = await eventsAbout('e1');
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', name: 'e1', namespace: 'default', uid: cm.metadata.uid },
      type: 'Normal',
      reason: 'Placed',
      message: 'placed on host-7',
      count: 1,
      firstTimestamp: '2030-05-01T10:00:00Z',
      lastTimestamp: '2030-05-01T10:00:00Z',
      source: { component: 'virtflow-test', host: 'host-1' },
      reportingComponent: 'virtflow-test',
    });
  });

  it('aggregates repeats into one Event with a count and the last time, and keeps different messages apart', async () => {
    const clock = new FakeClock(Date.parse('2030-05-01T10:00:00Z'));
    const recorder = new EventRecorder({ client, component: 'virtflow-test', clock });
    const cm = await configMap('e2');
    await recorder.warning(cm, 'Unschedulable', '0/3 hosts fit');
    clock.advance(30_000);
    await Promise.all([recorder.warning(cm, 'Unschedulable', '0/3 hosts fit'), recorder.warning(cm, 'Unschedulable', '0/3 hosts fit')]);
    await recorder.warning(cm, 'Unschedulable', '0/4 hosts fit');
    const events = (await eventsAbout('e2')).sort((a, b) => a.message.localeCompare(b.message));
    expect(events.map((e) => [e.message, e.count, e.type])).toEqual([
      ['0/3 hosts fit', 3, 'Warning'],
      ['0/4 hosts fit', 1, 'Warning'],
    ]);
    expect(events[0]).toMatchObject({ firstTimestamp: '2030-05-01T10:00:00Z', lastTimestamp: '2030-05-01T10:00:30Z' });
  });

  it('continues the count of an Event a previous process recorded', async () => {
    const cm = await configMap('e3');
    await new EventRecorder({ client, component: 'virtflow-test' }).normal(cm, 'Synced', 'ok');
    await new EventRecorder({ client, component: 'virtflow-test' }).normal(cm, 'Synced', 'ok');
    expect((await eventsAbout('e3')).map((e) => e.count)).toEqual([2]);
  });

  it('starts a new Event when the one it was counting was deleted', async () => {
    const recorder = new EventRecorder({ client, component: 'virtflow-test' });
    const cm = await configMap('e4');
    await recorder.normal(cm, 'Synced', 'ok');
    const [first] = await eventsAbout('e4');
    await client.delete(Events, { namespace: 'default', name: first!.metadata.name! });
    await recorder.normal(cm, 'Synced', 'ok');
    expect((await eventsAbout('e4')).map((e) => e.count)).toEqual([1]);
  });

  it('puts Events about cluster-scoped objects in the default namespace', async () => {
    const recorder = new EventRecorder({ client, component: 'virtflow-test' });
    const ns = await client.create<KubeObject>(Namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'events-ns' } });
    await recorder.normal(ns, 'Created', 'namespace made');
    expect((await eventsAbout('events-ns', 'default')).map((e) => e.involvedObject.kind)).toEqual(['Namespace']);
  });

  it('never rejects when the Event cannot be written, and logs why', async () => {
    const broken = new Proxy(client, {
      get(target, prop, receiver) {
        if (prop === 'create') return () => Promise.reject(new ApiError(500, 'InternalError', 'storage down'));
        return Reflect.get(target, prop, receiver);
      },
    });
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const recorder = new EventRecorder({ client: broken, component: 'virtflow-test', log });
    await expect(recorder.normal(await configMap('e5'), 'Synced', 'ok')).resolves.toBeUndefined();
    expect(lines.join('')).toContain('cannot record event');
    expect(await eventsAbout('e5')).toEqual([]);
  });
});

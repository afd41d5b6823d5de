// Helpers for API integration tests: a test CustomResourceDefinition, and watch streams read
// event by event over real HTTPS.
import { Agent, request } from 'undici';
import type { TestServer } from './server.js';
import { waitUntil } from './wait.js';

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: any;
}

export interface WatchStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Every event received so far, in order. */
  readonly events: WatchEvent[];
  /** The body of a refused watch (status other than 200). */
  readonly body: any;
  /** Resolves once the server has ended the stream. */
  readonly ended: Promise<void>;
  isEnded(): boolean;
  /** Waits until at least `count` events (bookmarks included) have arrived. */
  waitForCount(count: number, timeoutMs?: number): Promise<WatchEvent[]>;
  /** Waits until an event matches; answers it. */
  waitFor(match: (e: WatchEvent) => boolean, what: string, timeoutMs?: number): Promise<WatchEvent>;
  close(): Promise<void>;
}

/** Opens a watch (or any streaming GET) and parses its newline-delimited events as they come. */
export async function openWatch(vf: TestServer, path: string, headers: Record<string, string> = {}): Promise<WatchStream> {
  const dispatcher = new Agent({ connect: { ca: vf.caCert } });
  const abort = new AbortController();
  const res = await request(`${vf.url}${path}`, {
    method: 'GET',
    dispatcher,
    signal: abort.signal,
    headers: { authorization: `Bearer ${vf.token}`, ...headers },
  });
  const events: WatchEvent[] = [];
  let ended = false;
  let body: any;
  let buffer = '';
  const endedPromise = (async () => {
    try {
      if (res.statusCode !== 200) {
        const text = await res.body.text();
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        return;
      }
      for await (const chunk of res.body) {
        buffer += (chunk as Buffer).toString('utf8');
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line) events.push(JSON.parse(line) as WatchEvent);
        }
      }
    } catch {
      // Closed by the client.
    } finally {
      ended = true;
    }
  })();
  // A refused watch is one Status document: read it before handing the stream back.
  if (res.statusCode !== 200) await endedPromise;
  const stream: WatchStream = {
    status: res.statusCode,
    headers: res.headers,
    events,
    get body() {
      return body;
    },
    ended: endedPromise,
    isEnded: () => ended,
    async waitForCount(count, timeoutMs = 15_000) {
      await waitUntil(() => events.length >= count || ended, `${count} watch events on ${path}`, timeoutMs);
      if (events.length < count) {
        throw new Error(`watch ${path} ended after ${events.length} events, wanted ${count}: ${JSON.stringify(events)}`);
      }
      return events;
    },
    async waitFor(match, what, timeoutMs = 15_000) {
      let found: WatchEvent | undefined;
      await waitUntil(() => {
        found = events.find(match);
        return found !== undefined || ended;
      }, what, timeoutMs);
      if (!found) throw new Error(`watch ${path} ended without ${what}: ${JSON.stringify(events)}`);
      return found;
    },
    async close() {
      abort.abort();
      await endedPromise;
      await dispatcher.close().catch(() => {});
    },
  };
  return stream;
}

export const TEST_GROUP = 'test.virtflow.io';

/** A namespaced test kind with status and scale subresources, printer columns and more. */
export function widgetCrd(opts: { plural?: string; kind?: string; group?: string } = {}) {
  const plural = opts.plural ?? 'widgets';
  const kind = opts.kind ?? 'Widget';
  const group = opts.group ?? TEST_GROUP;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List`, shortNames: ['wd'], categories: ['testing'] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: {
            status: {},
            scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
          },
          additionalPrinterColumns: [
            { name: 'Color', type: 'string', jsonPath: '.spec.color', description: 'The color.' },
            { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
            { name: 'Phase', type: 'string', jsonPath: '.status.phase', priority: 1 },
          ],
          selectableFields: [{ jsonPath: '.spec.color' }],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'A widget for tests.',
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: {
                  type: 'object',
                  description: 'What the widget should be.',
                  properties: {
                    color: { type: 'string', default: 'blue', description: 'Paint color.' },
                    size: { type: 'integer', minimum: 0, maximum: 100 },
                    replicas: { type: 'integer', minimum: 0 },
                    note: { type: 'string' },
                    labelsToo: { type: 'object', additionalProperties: { type: 'string' } },
                    ports: {
                      type: 'array',
                      'x-kubernetes-list-type': 'map',
                      'x-kubernetes-list-map-keys': ['name'],
                      items: {
                        type: 'object',
                        required: ['name'],
                        properties: { name: { type: 'string' }, port: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' } },
                      },
                    },
                    tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
                  },
                },
                status: {
                  type: 'object',
                  properties: {
                    phase: { type: 'string' },
                    replicas: { type: 'integer' },
                    selector: { type: 'string' },
                    observedGeneration: { type: 'integer' },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}

/** A cluster-scoped kind without subresources: status is an ordinary field there. */
export function gadgetCrd() {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `gadgets.${TEST_GROUP}` },
    spec: {
      group: TEST_GROUP,
      scope: 'Cluster',
      names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        },
      ],
    },
  };
}

/** Creates a CRD and waits until its resource answers lists. */
export async function installCrd(vf: TestServer, crd: ReturnType<typeof widgetCrd> | ReturnType<typeof gadgetCrd>): Promise<void> {
  const res = await vf.call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  if (res.status !== 201 && res.status !== 409) throw new Error(`cannot create CRD: ${res.status} ${res.text}`);
  const spec = crd.spec as { group: string; scope: string; names: { plural: string }; versions: { name: string }[] };
  const path =
    spec.scope === 'Namespaced'
      ? `/apis/${spec.group}/${spec.versions[0]!.name}/namespaces/default/${spec.names.plural}`
      : `/apis/${spec.group}/${spec.versions[0]!.name}/${spec.names.plural}`;
  await waitUntil(async () => (await vf.call('GET', path)).status === 200, `${spec.names.plural} served`);
}

export const widgets = (ns = 'default', name = '') =>
  `/apis/${TEST_GROUP}/v1/namespaces/${ns}/widgets${name ? `/${name}` : ''}`;

export function widget(name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) {
  return { apiVersion: `${TEST_GROUP}/v1`, kind: 'Widget', metadata: { name, ...metadata }, spec };
}

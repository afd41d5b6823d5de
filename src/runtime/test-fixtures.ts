// Shared by the runtime's tests against a real server: a small CRD with a status
// subresource, so controllers can be exercised end to end without VirtFlow's own kinds.
import net from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { ObjectClient } from './client.js';
import { CustomResourceDefinitions, type ResourceType } from './resource.js';
import { waitFor } from './testing.js';

export const Widgets: ResourceType = {
  group: 'test.virtflow.io',
  version: 'v1',
  plural: 'widgets',
  kind: 'Widget',
  namespaced: true,
};

export const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.test.virtflow.io' },
  spec: {
    group: 'test.virtflow.io',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
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

export function clientFor(kubeconfigPath: string): ObjectClient {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return new ObjectClient(kc, { fieldManager: 'runtime-test' });
}

/** Creates the Widget CRD and waits until the server serves it. */
export async function installWidgets(client: ObjectClient): Promise<void> {
  await client.create(CustomResourceDefinitions, widgetCrd as never);
  await waitFor(
    async () => {
      try {
        await client.list(Widgets, { namespace: 'default', limit: 1 });
        return true;
      } catch {
        return false;
      }
    },
    { what: 'the Widget CRD to be served' },
  );
}

export const silentLog = pino({ level: 'silent' });

/** A client whose requests go to `server` instead of the kubeconfig's (e.g. a TcpProxy). */
export function clientVia(kubeconfigPath: string, server: string, opts: { timeoutMs?: number } = {}): ObjectClient {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const current = kc.getCurrentCluster()!;
  kc.loadFromOptions({
    clusters: kc.clusters.map((c) => (c.name === current.name ? { ...c, server } : c)),
    contexts: kc.contexts,
    users: kc.users,
    currentContext: kc.currentContext,
  });
  return new ObjectClient(kc, { fieldManager: 'runtime-test', ...opts });
}

/**
 * A TCP proxy in front of the API server that can break connections the way networks do:
 * `cut` resets every open connection, `hold` accepts new ones without forwarding them until
 * `release` (TLS passes through untouched).
 */
export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private held: net.Socket[] = [];
  private holding = false;

  private constructor(
    private readonly server: net.Server,
    private readonly target: { host: string; port: number },
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  static async start(targetUrl: string): Promise<TcpProxy> {
    const target = new URL(targetUrl);
    const server = net.createServer();
    const proxy = new TcpProxy(server, { host: target.hostname, port: Number(target.port) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  cut(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  hold(): void {
    this.holding = true;
  }

  release(): void {
    this.holding = false;
    for (const socket of this.held.splice(0)) this.forward(socket);
  }

  async close(): Promise<void> {
    this.release();
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (this.holding) {
      socket.pause();
      this.held.push(socket);
    } else this.forward(socket);
  }

  private forward(client: net.Socket): void {
    if (client.destroyed) return;
    const upstream = net.connect(this.target.port, this.target.host);
    this.sockets.add(upstream);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }
}

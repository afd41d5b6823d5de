// Services get a cluster IP (and node ports, and a load-balancer address), and Endpoints that
// list the ready pods their selector picks; Ingresses get an address. As kube-proxy's and the
// endpoints controller's view of things would be, without any traffic.
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { labelSelectorFromObject } from '../../machinery/labels.js';
import type { KubeObject } from '../../machinery/object.js';
import { isPlainObject } from '../../machinery/object.js';
import { isAlreadyExists, type ObjectClient } from '../../runtime/client.js';
import type { Informer } from '../../runtime/informer.js';
import { keyOf, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import { updateStatus } from '../../runtime/status.js';
import { EndpointsKind, ignoreGone, Ingresses, isPodReady, Services, spec, type Obj } from './common.js';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function clusterIpFor(svc: KubeObject): string {
  const d = digest(`${svc.metadata.namespace}/${svc.metadata.name}`);
  return `10.96.${d[0]!}.${1 + (d[1]! % 254)}`;
}

function ports(svc: KubeObject): Obj[] {
  return Array.isArray(spec(svc).ports) ? (spec(svc).ports as unknown[]).filter(isPlainObject) : [];
}

export class ServiceReconciler implements Reconciler {
  constructor(
    private readonly client: ObjectClient,
    private readonly services: Informer<KubeObject>,
    private readonly pods: Informer<KubeObject>,
    private readonly endpoints: Informer<KubeObject>,
  ) {}

  async reconcile(_ctx: unknown, key: ObjectKey): Promise<Result> {
    const svc = this.services.get(key);
    if (!svc || svc.metadata.deletionTimestamp) return {};
    const type = String(spec(svc).type ?? 'ClusterIP');
    if (type !== 'ExternalName' && !spec(svc).clusterIP) {
      const ip = clusterIpFor(svc);
      const withNodePorts = ports(svc).map((p, i) =>
        (type === 'NodePort' || type === 'LoadBalancer') && !p.nodePort ? { ...p, nodePort: 30000 + ((digest(`${key.namespace}/${key.name}`)[0]! * 10 + i) % 2768) } : p,
      );
      await this.client.patch(Services, keyOf(svc), 'merge', { spec: { clusterIP: ip, clusterIPs: [ip], ports: withNodePorts } }).catch(ignoreGone);
      return {};
    }
    if (type === 'LoadBalancer') {
      await updateStatus(this.client, Services, svc, (draft) => {
        draft.status = { loadBalancer: { ingress: [{ ip: `192.0.2.${1 + (digest(`${key.namespace}/${key.name}`)[2]! % 254)}`, ipMode: 'VIP' }] } };
      });
    }
    await this.syncEndpoints(svc);
    return {};
  }

  private async syncEndpoints(svc: KubeObject): Promise<void> {
    const selector = spec(svc).selector;
    if (!isPlainObject(selector)) return;
    const match = labelSelectorFromObject({ matchLabels: selector as Record<string, string> });
    const pods = this.pods.list(svc.metadata.namespace).filter((p) => match.matches(p.metadata.labels) && typeof (p.status as Obj | undefined)?.podIP === 'string');
    const address = (p: KubeObject) => ({
      ip: (p.status as Obj).podIP,
      nodeName: spec(p).nodeName,
      targetRef: { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid },
    });
    const ready = pods.filter(isPodReady).map(address);
    const notReady = pods.filter((p) => !isPodReady(p)).map(address);
    const endpointPorts = ports(svc).map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      port: typeof p.targetPort === 'number' ? p.targetPort : p.port,
      protocol: p.protocol ?? 'TCP',
    }));
    const subsets = ready.length + notReady.length > 0 ? [{ ...(ready.length ? { addresses: ready } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}), ports: endpointPorts }] : [];
    const existing = this.endpoints.get(keyOf(svc));
    const body = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace, labels: svc.metadata.labels },
      subsets,
    };
    if (!existing) {
      await this.client.create(EndpointsKind, body).catch((err) => {
        if (!isAlreadyExists(err)) throw err;
      });
    } else if (!isDeepStrictEqual(existing.subsets ?? [], subsets)) {
      await this.client.replace(EndpointsKind, { ...existing, subsets });
    }
  }
}

export class IngressReconciler implements Reconciler {
  constructor(
    private readonly client: ObjectClient,
    private readonly ingresses: Informer<KubeObject>,
  ) {}

  async reconcile(_ctx: unknown, key: ObjectKey): Promise<Result> {
    const ingress = this.ingresses.get(key);
    if (!ingress || ingress.metadata.deletionTimestamp) return {};
    await updateStatus(this.client, Ingresses, ingress, (draft) => {
      draft.status = { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } };
    });
    return {};
  }
}

// The K8s Cluster Service behind one narrow interface (cluster-protocol.ts): the K8sCluster
// controller PUTs the desired cluster, reads the observation, and asks for a teardown. The
// HTTP client shares the VM provider's transport (timeouts, bearer token, typed errors).
import type { ExternalController } from '../kinds/externalcontroller.js';
import type { K8sCluster } from '../kinds/k8scluster.js';
import { clusterPath, type ClusterObservation, type ClusterRequest } from './cluster-protocol.js';
import { httpProviderFor, type HttpProviderOptions, type HttpVirtualMachineProvider } from './http-provider.js';

/**
 * Contract: nothing blocks on the work; `apply` is idempotent by revision; `observe` never
 * changes anything and answers `{exists: false}` for an unknown uid; `teardown` of an unknown
 * uid is fine. Failures are ProviderErrors, as for VMs.
 */
export interface K8sClusterService {
  observe(cluster: K8sCluster): Promise<ClusterObservation>;
  apply(cluster: K8sCluster, request: ClusterRequest): Promise<void>;
  teardown(cluster: K8sCluster): Promise<void>;
}

function uidOf(cluster: K8sCluster): string {
  const uid = cluster.metadata.uid;
  if (!uid) throw new Error(`cannot address K8sCluster ${cluster.metadata.namespace}/${cluster.metadata.name} externally: it has no metadata.uid`);
  return uid;
}

export class HttpK8sClusterService implements K8sClusterService {
  constructor(private readonly transport: HttpVirtualMachineProvider) {}

  async observe(cluster: K8sCluster): Promise<ClusterObservation> {
    const answer = await this.transport.send('observe', 'GET', clusterPath(uidOf(cluster)));
    if (answer.status !== 200) throw this.transport.rejected('observe', answer);
    const body = answer.body as ClusterObservation | undefined;
    if (!body || typeof body.exists !== 'boolean') throw this.transport.rejected('observe', answer, 'the answer is not a ClusterObservation');
    return { ...body, nodes: Array.isArray(body.nodes) ? body.nodes : [], plugins: body.plugins ?? [], serviceMeshes: body.serviceMeshes ?? [] };
  }

  async apply(cluster: K8sCluster, request: ClusterRequest): Promise<void> {
    const answer = await this.transport.send('update', 'PUT', clusterPath(uidOf(cluster)), request);
    if (answer.status !== 200 && answer.status !== 202) throw this.transport.rejected('update', answer);
  }

  async teardown(cluster: K8sCluster): Promise<void> {
    const answer = await this.transport.send('delete', 'DELETE', clusterPath(uidOf(cluster)));
    if (answer.status !== 200 && answer.status !== 202 && answer.status !== 404) throw this.transport.rejected('delete', answer);
  }
}

export function httpClusterServiceFor(
  controller: ExternalController,
  opts: Omit<HttpProviderOptions, 'endpoint' | 'timeoutMs'> = {},
): K8sClusterService {
  return new HttpK8sClusterService(httpProviderFor(controller, opts));
}

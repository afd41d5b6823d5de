// An imported cluster (spec.import): VirtFlow builds nothing. It connects to the existing API
// server with the credentials Secret (a real TLS handshake and an authenticated request,
// through @kubernetes/client-node) and reports Active with the version and node count it
// read, or Offline with why not.
import { CoreV1Api, KubeConfig, VersionApi } from '@kubernetes/client-node';
import type { K8sCluster } from '../../kinds/k8scluster.js';
import type { KubeObject } from '../../machinery/object.js';
import type { ObjectClient } from '../../runtime/client.js';
import { Secrets } from '../../runtime/resource.js';

type Secret = KubeObject & { data?: Record<string, string> };

export interface ImportProbe {
  reachable: boolean;
  version?: string;
  /** Undefined when the cluster does not let these credentials list nodes. */
  nodes?: number;
  reason: string;
  message: string;
}

export const importReasons = {
  connected: 'Connected',
  credentialsMissing: 'CredentialsUnavailable',
  unreachable: 'ClusterUnreachable',
} as const;

const decode = (data: Record<string, string> | undefined, ...keys: string[]) => {
  for (const k of keys) if (data?.[k]) return Buffer.from(data[k], 'base64').toString('utf8');
  return undefined;
};

/** The KubeConfig the Secret describes, or why there is none. */
export async function importKubeConfig(client: ObjectClient, cluster: K8sCluster): Promise<KubeConfig | string> {
  const spec = cluster.spec.import!;
  const secret = await client.find<Secret>(Secrets, { namespace: cluster.metadata.namespace!, name: spec.credentialsSecret });
  if (!secret) return `the credentials Secret ${spec.credentialsSecret} does not exist`;
  const kc = new KubeConfig();
  if ((spec.authType ?? 'kubeconfig') === 'kubeconfig') {
    const text = decode(secret.data, 'kubeconfig', 'value');
    if (!text) return `the Secret ${spec.credentialsSecret} has no "kubeconfig" key`;
    try {
      kc.loadFromString(text);
    } catch (err) {
      return `the Secret ${spec.credentialsSecret} holds no valid kubeconfig: ${(err as Error).message}`;
    }
    // The cluster is the one spec.import names, whatever the kubeconfig says.
    const current = kc.getCurrentCluster();
    if (current) kc.clusters = kc.clusters.map((c) => (c.name === current.name ? { ...c, server: spec.apiServer } : c));
    return kc;
  }
  const token = decode(secret.data, 'token')?.trim();
  if (!token) return `the Secret ${spec.credentialsSecret} has no "token" key`;
  const ca = decode(secret.data, 'ca.crt');
  kc.loadFromOptions({
    clusters: [{ name: 'imported', server: spec.apiServer, ...(ca ? { caData: Buffer.from(ca).toString('base64') } : {}), skipTLSVerify: false }],
    users: [{ name: 'imported', token }],
    contexts: [{ name: 'imported', cluster: 'imported', user: 'imported' }],
    currentContext: 'imported',
  });
  return kc;
}

export async function probeImported(client: ObjectClient, cluster: K8sCluster): Promise<ImportProbe> {
  let kc: KubeConfig | string;
  try {
    kc = await importKubeConfig(client, cluster);
  } catch (err) {
    return { reachable: false, reason: importReasons.credentialsMissing, message: `cannot read the credentials Secret: ${(err as Error).message}` };
  }
  if (typeof kc === 'string') return { reachable: false, reason: importReasons.credentialsMissing, message: kc };
  try {
    const info = await kc.makeApiClient(VersionApi).getCode();
    // /version answers anyone; discovery proves the credentials are accepted.
    await kc.makeApiClient(CoreV1Api).getAPIResources();
    let nodes: number | undefined;
    try {
      nodes = (await kc.makeApiClient(CoreV1Api).listNode()).items.length;
    } catch {
      nodes = undefined;
    }
    const counted = nodes === undefined ? 'nodes not readable with these credentials' : `${nodes} nodes`;
    return { reachable: true, version: info.gitVersion, nodes, reason: importReasons.connected, message: `Connected to ${cluster.spec.import!.apiServer}: ${info.gitVersion}, ${counted}.` };
  } catch (err) {
    const e = err as { code?: number; message?: string; cause?: { message?: string } };
    const detail = e.code ? `HTTP ${e.code}` : (e.cause?.message ?? e.message ?? String(err));
    return { reachable: false, reason: importReasons.unreachable, message: `cannot reach ${cluster.spec.import!.apiServer}: ${detail}` };
  }
}

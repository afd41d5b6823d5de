// The controllers of `virtflow up` act as their own ServiceAccount
// (virtflow-system/virtflow-controllers, bound to the least-privilege ClusterRole
// virtflow:controllers), not as the admin: what they do is audited under their name and
// limited to their role. A fresh token is issued on every start.
import { KubeConfig } from '@kubernetes/client-node';
import { CONTROLLERS_NAMESPACE, CONTROLLERS_SERVICE_ACCOUNT } from '../auth/default-roles.js';
import type { Standalone } from './standalone.js';
import { kubeconfigYaml } from './kubeconfig.js';

/** Long enough for a process that runs for months; deleting the ServiceAccount ends it. */
const CONTROLLERS_TOKEN_SECONDS = 365 * 24 * 3600;

export async function serviceAccountToken(standalone: Standalone, namespace: string, name: string, expirationSeconds: number): Promise<string> {
  const service = standalone.server.service;
  const sa = await service.get(service.registry.lookup('', 'v1', 'serviceaccounts')!, namespace, name);
  const issued = await standalone.server.tokens!.issue({ namespace, name, uid: sa.metadata.uid! }, { expirationSeconds });
  return issued.token;
}

export async function controllersKubeConfig(standalone: Standalone): Promise<KubeConfig> {
  const token = await serviceAccountToken(standalone, CONTROLLERS_NAMESPACE, CONTROLLERS_SERVICE_ACCOUNT, CONTROLLERS_TOKEN_SECONDS);
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml({ server: standalone.url, caCert: standalone.caCert, token, name: 'virtflow-controllers' }));
  return kc;
}

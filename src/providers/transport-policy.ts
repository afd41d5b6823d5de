// What VirtFlow agrees to when it talks to an ExternalController: the transport rules
// (https unless the registration says otherwise on purpose) and which Secrets may hold the
// token it sends out. Admission (src/admission/external-controller.ts) refuses registrations
// that break them, and the provider and the credentials reader check them again before
// anything is sent or read, since in a Kubernetes cluster VirtFlow's admission does not run.
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  credentialsLabel,
  virtflowNamespace,
  type ExternalControllerSpec,
} from '../kinds/externalcontroller.js';

export { credentialsLabel, virtflowNamespace };

/** Why the endpoint may not be used as registered, naming the field; undefined when it may. */
export function endpointProblem(spec: Pick<ExternalControllerSpec, 'endpoint' | 'allowInsecureHttp'>): string | undefined {
  let url: URL;
  try {
    url = new URL(spec.endpoint);
  } catch {
    return 'spec.endpoint: must be an absolute URL';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return `spec.endpoint: must be an https:// URL, not ${url.protocol}`;
  if (spec.allowInsecureHttp === true) return undefined;
  return 'spec.endpoint: must be an https:// URL; http:// sends requests and the bearer token unencrypted and is allowed only when spec.allowInsecureHttp is true';
}

/** Does a Secret in this namespace with these labels qualify as a credentialsSecret? */
export function credentialsSecretAllowed(namespace: string, labels: Record<string, string> | undefined): boolean {
  return namespace === virtflowNamespace || labels?.[credentialsLabel] === 'true';
}

/** The rule, for messages. */
export const credentialsSecretRule = `must name a Secret in namespace ${virtflowNamespace}, or a Secret labelled ${credentialsLabel}=true`;

/** Why a caBundle cannot be used, naming the field; undefined when it can (or is absent). */
export function caBundleProblem(caBundle: string | undefined): string | undefined {
  if (caBundle === undefined) return undefined;
  const pem = decodeCaBundle(caBundle);
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return 'spec.caBundle: must be a base64-encoded PEM bundle of certificates';
  return undefined;
}

export function decodeCaBundle(caBundle: string): string {
  return Buffer.from(caBundle, 'base64').toString('utf8');
}

/** The CA (PEM) of a kubeconfig's current cluster, if it names one. */
export function kubeconfigCa(kc: KubeConfig): string | undefined {
  const cluster = kc.getCurrentCluster();
  if (cluster?.caData) return Buffer.from(cluster.caData, 'base64').toString('utf8');
  if (cluster?.caFile) return readFileSync(cluster.caFile, 'utf8');
  return undefined;
}

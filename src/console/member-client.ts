// Talking to a member cluster: a client built from a token or a kubeconfig, every request
// bounded in time, and every failure turned into the console's vocabulary with advice a
// person can act on. Kubeconfigs may only carry inline credentials: an exec plugin or a file
// path would run a command or read a file on VirtFlow's own machine.
import { KubeConfig } from '@kubernetes/client-node';
import YAML from 'yaml';
import { isPlainObject } from '../machinery/object.js';
import { ApiError } from '../machinery/errors.js';
import { ObjectClient } from '../runtime/client.js';
import { ConsoleError, consoleErrors } from './envelope.js';

export const MEMBER_TIMEOUT_MS = 10_000;

export type Credentials =
  | { authType: 'token'; apiServer: string; token: string; caData?: string; insecureSkipTlsVerify?: boolean }
  | { authType: 'kubeconfig'; apiServer?: string; kubeconfig: string };

/** Keys a kubeconfig's user may carry: inline ones only. */
const INLINE_USER_FIELDS = new Set(['token', 'client-certificate-data', 'client-key-data', 'username', 'password']);
const INLINE_CLUSTER_FIELDS = new Set(['server', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name', 'extensions', 'proxy-url']);

/** Refuses kubeconfigs that would run a command or read a file of this machine. */
export function checkKubeconfig(text: string): void {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw consoleErrors.validation('kubeconfig: not valid YAML', (err as Error).message.split('\n')[0]);
  }
  if (!isPlainObject(doc)) throw consoleErrors.validation('kubeconfig: must be a kubeconfig document (kind: Config)');
  const entries = (key: string, inner: string) =>
    (Array.isArray(doc[key]) ? doc[key] : []).filter(isPlainObject).map((e) => (isPlainObject(e[inner]) ? e[inner] : {}));
  for (const user of entries('users', 'user')) {
    for (const field of Object.keys(user)) {
      if (!INLINE_USER_FIELDS.has(field)) {
        throw consoleErrors.validation(`kubeconfig: users[].user.${field} is not allowed`, 'only inline credentials (token, client-certificate-data, client-key-data) are accepted; exec plugins, auth providers and file paths are refused');
      }
    }
  }
  for (const cluster of entries('clusters', 'cluster')) {
    for (const field of Object.keys(cluster)) {
      if (!INLINE_CLUSTER_FIELDS.has(field)) {
        throw consoleErrors.validation(`kubeconfig: clusters[].cluster.${field} is not allowed`, 'only inline cluster settings (server, certificate-authority-data) are accepted');
      }
    }
  }
}

export function kubeConfigFor(creds: Credentials): KubeConfig {
  const kc = new KubeConfig();
  if (creds.authType === 'kubeconfig') {
    checkKubeconfig(creds.kubeconfig);
    try {
      kc.loadFromString(creds.kubeconfig);
    } catch (err) {
      throw consoleErrors.validation('kubeconfig: cannot be read', (err as Error).message);
    }
    if (!kc.getCurrentCluster()) throw consoleErrors.validation('kubeconfig: has no current context with a cluster');
    return kc;
  }
  kc.loadFromOptions({
    clusters: [{ name: 'member', server: creds.apiServer, caData: creds.caData, skipTLSVerify: creds.insecureSkipTlsVerify === true }],
    users: [{ name: 'member', token: creds.token }],
    contexts: [{ name: 'member', cluster: 'member', user: 'member' }],
    currentContext: 'member',
  });
  return kc;
}

export function memberClient(creds: Credentials, timeoutMs = MEMBER_TIMEOUT_MS): ObjectClient {
  return new ObjectClient(kubeConfigFor(creds), { fieldManager: 'virtflow-console', timeoutMs });
}

/** The server a set of credentials points at, for messages. */
export function serverOf(creds: Credentials): string {
  return creds.authType === 'token' ? creds.apiServer : (kubeConfigFor(creds).getCurrentCluster()?.server ?? creds.apiServer ?? '');
}

function isTimeout(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  const message = String((err as Error)?.message ?? '');
  return name === 'TimeoutError' || name === 'AbortError' || /aborted|timed? ?out/i.test(message);
}

/** A member cluster's failure in the console's terms. */
export function memberError(err: unknown, server: string): ConsoleError {
  if (err instanceof ConsoleError) return err;
  if (err instanceof ApiError) {
    const message = err.message;
    switch (err.code) {
      case 401:
        return new ConsoleError('AUTHENTICATION_ERROR', `the cluster at ${server} refused the credentials`, message, [
          'Check the token or kubeconfig saved for this cluster: it may be wrong, expired or revoked.',
          'Update the cluster with new credentials (POST /api/k8s/clusters/update) and test the connection again.',
        ]);
      case 403:
        return new ConsoleError('PERMISSION_DENIED', `the cluster's credentials may not do this`, message, [
          "Grant the cluster's service account the permission named in the details (an RBAC role in that cluster).",
        ]);
      case 404:
        return new ConsoleError('RESOURCE_NOT_FOUND', message, '', ['Check the namespace and name; list the resources to see what exists.']);
      case 409:
        return new ConsoleError('CONFLICT_ERROR', message, '', ['The resource exists already or changed meanwhile: read it again, then retry.']);
      case 400:
      case 422:
        return new ConsoleError('VALIDATION_ERROR', message, '', ['Correct the request as the message says and send it again.']);
      case 504:
        return new ConsoleError('TIMEOUT_ERROR', `the cluster at ${server} timed out`, message, ['Retry later; the cluster is overloaded or the operation is slow.']);
      default:
        return new ConsoleError('CONNECTION_ERROR', `the cluster at ${server} answered HTTP ${err.code}`, message, [
          "Check the cluster's API server health (its /readyz) and retry.",
        ]);
    }
  }
  if (isTimeout(err)) {
    return new ConsoleError('TIMEOUT_ERROR', `the cluster's API server did not answer in ${MEMBER_TIMEOUT_MS / 1000} s`, server, [
      `Check that ${server} is reachable from VirtFlow (network, firewall, VPN) and that the API server is running.`,
      'Retry: a busy API server may answer later.',
    ]);
  }
  const message = String((err as Error)?.message ?? err);
  const tls = /certificate|self[- ]signed|CERT|TLS|SSL/i.test(message);
  return new ConsoleError('CONNECTION_ERROR', `cannot connect to the cluster at ${server}`, message.slice(0, 300), tls
    ? ["The cluster's TLS certificate is not trusted: give its CA (ca_cert), or use a kubeconfig with certificate-authority-data."]
    : [`Check the address ${server}: the host must resolve and its port accept connections from VirtFlow.`, 'Check that the cluster is running, then test the connection again.']);
}

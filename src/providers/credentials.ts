// The token VirtFlow presents to an ExternalController: the `token` key of the Secret its
// spec.credentialsSecret names (docs/external-controller-protocol.md, "Authentication").
// Only a Secret VirtFlow may send out is ever read (transport-policy.ts): one in its own
// namespace, or one labelled for it; the label is asked of the API server in the request, so
// an unlabelled Secret of another namespace is never fetched.
import type { ExternalController } from '../kinds/externalcontroller.js';
import type { KubeObject } from '../machinery/object.js';
import type { ObjectClient } from '../runtime/client.js';
import { Secrets } from '../runtime/resource.js';
import { ProviderCredentialsUnavailable, type ProviderOperation } from './external-client.js';
import { credentialsLabel, credentialsSecretRule, virtflowNamespace } from './transport-policy.js';

type Secret = KubeObject & { data?: Record<string, string> };

/**
 * How to read the controller's token, or undefined when it names no Secret. A provider is
 * made for each reconcile, so the Secret is read once per reconcile, however many requests
 * that makes: a rotated token counts from the next one.
 */
export function credentialsReader(client: ObjectClient, controller: ExternalController): ((op: ProviderOperation) => Promise<string>) | undefined {
  const ref = controller.spec.credentialsSecret;
  if (!ref) return undefined;
  let read: Promise<{ token: string } | { problem: string }> | undefined;
  const readToken = async () => {
    const where = `its credentialsSecret ${ref.namespace}/${ref.name}`;
    let secret: Secret | undefined;
    if (ref.namespace === virtflowNamespace) {
      secret = await client.find<Secret>(Secrets, { namespace: ref.namespace, name: ref.name });
    } else {
      const list = await client.list<Secret>(Secrets, {
        namespace: ref.namespace,
        fieldSelector: `metadata.name=${ref.name}`,
        labelSelector: `${credentialsLabel}=true`,
      });
      secret = list.items.find((s) => s.metadata.name === ref.name);
      if (!secret) return { problem: `${where} is not usable: spec.credentialsSecret ${credentialsSecretRule} (absent or unlabelled Secrets are not read)` };
    }
    if (!secret) return { problem: `${where} does not exist` };
    const encoded = secret.data?.token;
    if (!encoded) return { problem: `${where} has no "token" key` };
    return { token: Buffer.from(encoded, 'base64').toString('utf8').trim() };
  };
  return async (op) => {
    read ??= readToken();
    const outcome = await read;
    if ('problem' in outcome) throw new ProviderCredentialsUnavailable(op, controller.spec.endpoint, outcome.problem);
    return outcome.token;
  };
}

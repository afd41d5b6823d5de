// The token VirtFlow presents to an ExternalController: the `token` key of the Secret its
// spec.credentialsSecret names (docs/external-controller-protocol.md, "Authentication").
import type { ExternalController } from '../kinds/externalcontroller.js';
import type { KubeObject } from '../machinery/object.js';
import type { ObjectClient } from '../runtime/client.js';
import { Secrets } from '../runtime/resource.js';
import { ProviderCredentialsUnavailable, type ProviderOperation } from './external-client.js';

type Secret = KubeObject & { data?: Record<string, string> };

/**
 * How to read the controller's token before each request, or undefined when it names no
 * Secret. Read every time rather than kept, so that a rotated token is used at once; a
 * request to an external controller is far rarer than one to the API server.
 */
export function credentialsReader(client: ObjectClient, controller: ExternalController): ((op: ProviderOperation) => Promise<string>) | undefined {
  const ref = controller.spec.credentialsSecret;
  if (!ref) return undefined;
  return async (op) => {
    const where = `its credentialsSecret ${ref.namespace}/${ref.name}`;
    const secret = await client.find<Secret>(Secrets, { namespace: ref.namespace, name: ref.name });
    if (!secret) throw new ProviderCredentialsUnavailable(op, controller.spec.endpoint, `${where} does not exist`);
    const encoded = secret.data?.token;
    if (!encoded) throw new ProviderCredentialsUnavailable(op, controller.spec.endpoint, `${where} has no "token" key`);
    return Buffer.from(encoded, 'base64').toString('utf8').trim();
  };
}

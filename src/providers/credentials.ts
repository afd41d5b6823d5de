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

type Outcome = { token: string } | { problem: string };

/** How long a token read from its Secret is used before the Secret is read again. */
export const CREDENTIALS_TTL_MS = 5_000;

/**
 * The tokens VirtFlow presents to ExternalControllers, each read from its Secret at most once
 * per CREDENTIALS_TTL_MS: a provider is made for each reconcile, and reading the Secret for
 * each one cost an API request per VM reconcile. A rotated token counts within that time; a
 * Secret that is missing or unusable is read again on the next attempt.
 */
export class ProviderCredentials {
  private readonly reads = new Map<string, { at: number; outcome: Promise<Outcome> }>();

  constructor(
    private readonly client: ObjectClient,
    private readonly opts: { ttlMs?: number; now?: () => number } = {},
  ) {}

  /** How to read the controller's token, or undefined when it names no Secret. */
  readerFor(controller: ExternalController): ((op: ProviderOperation) => Promise<string>) | undefined {
    const ref = controller.spec.credentialsSecret;
    if (!ref) return undefined;
    return async (op) => {
      const outcome = await this.read(ref);
      if ('problem' in outcome) throw new ProviderCredentialsUnavailable(op, controller.spec.endpoint, outcome.problem);
      return outcome.token;
    };
  }

  private async read(ref: { namespace: string; name: string }): Promise<Outcome> {
    const key = `${ref.namespace}/${ref.name}`;
    const now = (this.opts.now ?? Date.now)();
    const cached = this.reads.get(key);
    if (cached && now - cached.at < (this.opts.ttlMs ?? CREDENTIALS_TTL_MS)) return cached.outcome;
    const outcome = readToken(this.client, ref);
    this.reads.set(key, { at: now, outcome });
    const settled = await outcome.catch((err: unknown) => {
      this.reads.delete(key);
      throw err;
    });
    if ('problem' in settled && this.reads.get(key)?.outcome === outcome) this.reads.delete(key);
    return settled;
  }
}

async function readToken(client: ObjectClient, ref: { namespace: string; name: string }): Promise<Outcome> {
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
}

// Each ExternalController's own identity: a ServiceAccount in virtflow-system, annotated
// with the controller's name and owned by it (deleting the ExternalController deletes the
// ServiceAccount, which ends its tokens), bound to the ClusterRole
// virtflow:external-controller. VirtFlow hands that ServiceAccount's token to the external
// controller in each create and update request's callback, instead of a shared token; the
// API server narrows it to the objects routed to that controller and the protocol's
// status fields (src/auth/external-controller-scope.ts).
import { binding, ROLES } from '../../auth/default-roles.js';
import {
  EXTERNAL_CONTROLLER_ANNOTATION,
  externalControllerServiceAccount,
  IDENTITY_NAMESPACE,
} from '../../auth/external-controller-scope.js';
import type { ExternalController } from '../../kinds/externalcontroller.js';
import type { KubeObject } from '../../machinery/object.js';
import { isAlreadyExists, type ObjectClient } from '../../runtime/client.js';
import { ClusterRoleBindings, ServiceAccounts } from '../../runtime/resource.js';
import type { VirtualMachineProvider } from '../../providers/external-client.js';

/** Long-lived, since an external controller keeps the callback of a machine for its life. */
export const EXTERNAL_CONTROLLER_TOKEN_SECONDS = 365 * 24 * 3600;

/**
 * How long the ServiceAccount and its binding, once made sure of, are taken to exist: each
 * create used to read both first, two API requests per VM. One deleted by hand is made
 * again within this time; until then the external controller's reports are refused and
 * VirtFlow's observe still sees the machine.
 */
export const IDENTITY_CHECK_MS = 30_000;

interface CachedToken {
  token: string;
  saUid: string;
  /** The ExternalController the token was issued for: a new one with the name gets its own. */
  controllerUid: string;
  refreshAt: number;
  checkAt: number;
}

export class ExternalControllerIdentities {
  private readonly tokens = new Map<string, CachedToken>();

  constructor(
    private readonly client: ObjectClient,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Creates the ServiceAccount and its binding when missing; answers the ServiceAccount. */
  async ensure(controller: ExternalController): Promise<KubeObject> {
    const name = externalControllerServiceAccount(controller.metadata.name!);
    const owner = [{ apiVersion: 'virtflow.io/v1alpha1', kind: 'ExternalController', name: controller.metadata.name!, uid: controller.metadata.uid!, controller: true }];
    let sa = await this.client.find<KubeObject>(ServiceAccounts, { namespace: IDENTITY_NAMESPACE, name });
    if (!sa) {
      try {
        sa = await this.client.create<KubeObject>(ServiceAccounts, {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name, namespace: IDENTITY_NAMESPACE, annotations: { [EXTERNAL_CONTROLLER_ANNOTATION]: controller.metadata.name! }, ownerReferences: owner },
        });
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        sa = await this.client.get<KubeObject>(ServiceAccounts, { namespace: IDENTITY_NAMESPACE, name });
      }
    }
    const bindingName = `${ROLES.externalController}:${controller.metadata.name}`;
    if (!(await this.client.find(ClusterRoleBindings, { name: bindingName }))) {
      await this.client
        .create(ClusterRoleBindings, binding('ClusterRoleBinding', bindingName, { kind: 'ClusterRole', name: ROLES.externalController }, [{ kind: 'ServiceAccount', name, namespace: IDENTITY_NAMESPACE }], undefined, { ownerReferences: owner }))
        .catch((err) => {
          if (!isAlreadyExists(err)) throw err;
        });
    }
    return sa;
  }

  /** A token of the controller's ServiceAccount, issued again well before it expires. */
  async token(controller: ExternalController): Promise<string> {
    const name = controller.metadata.name!;
    const now = this.clock();
    const usable = (t: CachedToken | undefined): t is CachedToken => t !== undefined && t.controllerUid === controller.metadata.uid && t.refreshAt > now;
    const known = this.tokens.get(name);
    if (usable(known) && known.checkAt > now) return known.token;
    const sa = await this.ensure(controller);
    // Read again: a concurrent call may have issued one while this one made sure of the account.
    const cached = this.tokens.get(name);
    if (usable(cached) && cached.saUid === sa.metadata.uid) {
      cached.checkAt = now + IDENTITY_CHECK_MS;
      return cached.token;
    }
    const answer = await this.client.createSubresource<{ status: { token: string } }>(
      ServiceAccounts,
      { namespace: IDENTITY_NAMESPACE, name: sa.metadata.name! },
      'token',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: EXTERNAL_CONTROLLER_TOKEN_SECONDS } },
    );
    const token = answer.status.token;
    this.tokens.set(name, {
      token,
      saUid: sa.metadata.uid!,
      controllerUid: controller.metadata.uid!,
      refreshAt: now + (EXTERNAL_CONTROLLER_TOKEN_SECONDS * 1000) / 2,
      checkAt: now + IDENTITY_CHECK_MS,
    });
    return token;
  }
}

/**
 * A provider whose create and update carry the controller's own callback token: `make`
 * builds the real provider for a token (undefined for the calls that send no callback,
 * migrate among them: the machine keeps the callback it was created with).
 */
export function withCallbackIdentity(make: (callbackToken?: string) => VirtualMachineProvider, token: () => Promise<string>): VirtualMachineProvider {
  let plain: VirtualMachineProvider | undefined;
  const withoutToken = () => (plain ??= make());
  return {
    observe: (vm) => withoutToken().observe(vm),
    create: async (vm, placement, ctx) => make(await token()).create(vm, placement, ctx),
    update: async (vm, ctx) => make(await token()).update(vm, ctx),
    power: (vm, action, opts) => withoutToken().power(vm, action, opts),
    delete: (vm, opts) => withoutToken().delete(vm, opts),
    // Optional in the protocol: kept optional, so a drain re-creates where the provider cannot migrate.
    ...(withoutToken().migrate ? { migrate: (vm, target, opts) => withoutToken().migrate!(vm, target, opts) } : {}),
  };
}

// What an external controller's identity may touch beyond what RBAC says. RBAC grants the
// kind (ClusterRole virtflow:external-controller); this narrows it to the objects routed to
// that ExternalController (its service and regions) and, in admission, to the status fields
// the protocol gives it. Placement, resources and conditions stay VirtFlow's.
import type { Admitter, UserInfo } from '../api/object-service.js';
import type { ExternalController } from '../kinds/externalcontroller.js';
import type { VirtualMachine } from '../kinds/virtualmachine.js';
import { ApiError } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import { canonicalJson, isPlainObject } from '../machinery/object.js';
import { routeExternalController, type ExternalService } from '../providers/routing.js';
import type { WatchCache } from '../store/watch-cache.js';
import { SERVICE_ACCOUNT_RESOURCE } from './service-account-tokens.js';

/** The annotation on a ServiceAccount that makes it the identity of an ExternalController. */
export const EXTERNAL_CONTROLLER_ANNOTATION = 'virtflow.io/external-controller';
/** The shared status-writer token of `virtflow up` (one identity for every external controller). */
export const STATUS_WRITERS_GROUP = 'virtflow:status-writers';
export const IDENTITY_NAMESPACE = 'virtflow-system';
const EXTERNAL_CONTROLLERS = 'virtflow.io/externalcontrollers';

/** The status fields each service's controller reports (docs/external-controller-protocol.md). */
export const PROTOCOL_STATUS_FIELDS: Record<string, readonly string[]> = {
  virtualmachines: ['lastOperation', 'powerState', 'externalId', 'addresses'],
  k8sclusters: ['lastOperation', 'externalId', 'apiServer', 'kubeconfigSecret', 'version', 'controlPlane', 'nodePools'],
};

const SERVICE_OF: Record<string, ExternalService> = { virtualmachines: 'VirtualMachine', k8sclusters: 'K8sCluster' };

/** The ServiceAccount name VirtFlow gives an ExternalController's identity. */
export function externalControllerServiceAccount(controller: string): string {
  return `externalcontroller-${controller}`;
}

/** "external-controller" access: which ExternalController a user speaks for, if any. */
export type ControllerIdentity = { controller: string } | { shared: true };

export class ExternalControllerScope {
  constructor(private readonly cache: WatchCache) {}

  identityOf(user: UserInfo): ControllerIdentity | undefined {
    if (user.groups.includes('system:masters')) return undefined;
    if (user.groups.includes(STATUS_WRITERS_GROUP)) return { shared: true };
    const prefix = `system:serviceaccount:${IDENTITY_NAMESPACE}:`;
    if (!user.username.startsWith(prefix)) return undefined;
    const name = user.username.slice(prefix.length);
    const sa = this.cache.get(SERVICE_ACCOUNT_RESOURCE, `${SERVICE_ACCOUNT_RESOURCE}/${IDENTITY_NAMESPACE}/${name}`);
    const controller = sa?.object.metadata.annotations?.[EXTERNAL_CONTROLLER_ANNOTATION];
    return controller ? { controller } : undefined;
  }

  /** Is the object routed to this ExternalController (same service, a region it is chosen for)? */
  routedTo(controller: string, resource: string, obj: KubeObject): boolean {
    const service = SERVICE_OF[resource];
    if (!service) return false;
    // A VM stays with the ExternalController recorded before its first create, even when
    // routing would choose another now (one registered later for its region): the holder
    // must still report on it, and the other must not see it.
    const holder = resource === 'virtualmachines' ? (obj as VirtualMachine).status?.externalController : undefined;
    if (holder) return holder === controller;
    const controllers = this.cache.list(EXTERNAL_CONTROLLERS).map((e) => e.object as unknown as ExternalController);
    const region = resource === 'virtualmachines' ? ((obj as VirtualMachine).status?.placement?.region ?? '') : '';
    const route = routeExternalController(controllers, service, region);
    return route.found && route.controller.metadata.name === controller;
  }

  /**
   * For a request RBAC allowed: undefined to let it through, a reason to refuse it, or a
   * filter a list or watch must apply. Only VirtFlow kinds are narrowed.
   */
  narrow(
    identity: ControllerIdentity,
    request: { group: string; resource: string; namespace: string; name: string; verb: string },
  ): { deny: string } | { filter: (obj: KubeObject) => boolean } | undefined {
    if (!('controller' in identity) || request.group !== 'virtflow.io' || !SERVICE_OF[request.resource]) return undefined;
    const { controller } = identity;
    if (request.verb === 'list' || request.verb === 'watch') {
      return { filter: (obj) => this.routedTo(controller, request.resource, obj) };
    }
    if (!request.name) return undefined;
    const entry = this.cache.get(`virtflow.io/${request.resource}`, `virtflow.io/${request.resource}/${request.namespace}/${request.name}`);
    if (!entry || this.routedTo(controller, request.resource, entry.object)) return undefined;
    return { deny: `it is not routed to ExternalController "${controller}"` };
  }

  /** Admission: a status write by an external controller changes only the protocol's fields. */
  admitter(): Admitter {
    return {
      admit: ({ operation, info, object, oldObject, user }) => {
        if (operation !== 'UPDATE' || info.group !== 'virtflow.io') return;
        const allowed = PROTOCOL_STATUS_FIELDS[info.plural];
        const identity = this.identityOf(user);
        if (!identity) return;
        if (!allowed) {
          throw refusal(info.plural, object, `external controllers may not write ${info.plural}`);
        }
        const before = isPlainObject(oldObject?.status) ? oldObject!.status : {};
        const after = isPlainObject(object.status) ? object.status : {};
        const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
          (k) => canonicalJson(before[k] ?? null) !== canonicalJson(after[k] ?? null),
        );
        const forbiddenFields = changed.filter((k) => !allowed.includes(k)).sort();
        if (canonicalJson(oldObject?.spec ?? null) !== canonicalJson(object.spec ?? null)) forbiddenFields.unshift('spec');
        if (forbiddenFields.length === 0) return;
        throw refusal(
          info.plural,
          object,
          `an external controller may write only status.${allowed.join(', status.')}; refused: ${forbiddenFields.map((f) => (f === 'spec' ? f : `status.${f}`)).join(', ')}`,
          forbiddenFields,
        );
      },
    };
  }
}

function refusal(resource: string, object: KubeObject, why: string, fields: string[] = []): ApiError {
  return new ApiError(403, 'Forbidden', `${resource}.virtflow.io "${object.metadata.name}" is forbidden: ${why}`, {
    name: object.metadata.name,
    group: 'virtflow.io',
    kind: resource,
    causes: fields.map((f) => ({ type: 'FieldValueForbidden', field: f === 'spec' ? 'spec' : `status.${f}`, message: 'Forbidden: not a field of the external-controller protocol' })),
  });
}

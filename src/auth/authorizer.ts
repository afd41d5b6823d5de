// Decides every request the way kube-apiserver's RBAC authorizer does: members of
// system:masters may do anything; everyone else needs a rule bound to them, and is denied by
// default. An external controller's identity is narrowed further to what is routed to it.
import type { UserInfo } from '../api/object-service.js';
import type { RequestAttributes } from '../api/resource-handler.js';
import type { KubeObject } from '../machinery/object.js';
import type { WatchCache } from '../store/watch-cache.js';
import { ExternalControllerScope } from './external-controller-scope.js';
import { RbacIndex } from './rbac-index.js';
import { forbidden, MASTERS_GROUP, type Attributes } from './rbac-rules.js';

export interface Decision {
  allowed: boolean;
  /** Why it is denied, beyond "no rule allows it". */
  reason?: string;
  /** A list or watch shows only the objects this accepts. */
  filter?: (obj: KubeObject) => boolean;
}

export class Authorizer {
  readonly rbac: RbacIndex;
  readonly scope: ExternalControllerScope;

  constructor(cache: WatchCache) {
    this.rbac = new RbacIndex(cache);
    this.scope = new ExternalControllerScope(cache);
  }

  decide(attrs: Attributes): Decision {
    if (attrs.user.groups.includes(MASTERS_GROUP)) return { allowed: true };
    if (!this.rbac.allows(attrs)) return { allowed: false };
    if (!attrs.resourceRequest) return { allowed: true };
    const identity = this.scope.identityOf(attrs.user);
    if (!identity) return { allowed: true };
    const narrowed = this.scope.narrow(identity, {
      group: attrs.apiGroup,
      resource: attrs.resource,
      namespace: attrs.namespace,
      name: attrs.name,
      verb: attrs.verb,
    });
    if (!narrowed) return { allowed: true };
    if ('deny' in narrowed) return { allowed: false, reason: narrowed.deny };
    return { allowed: true, filter: narrowed.filter };
  }

  /** Refuses with kube-apiserver's 403, or answers what a list or watch must filter. */
  authorize(attrs: Attributes): Decision {
    const decision = this.decide(attrs);
    if (!decision.allowed) throw forbidden(attrs, decision.reason);
    return decision;
  }
}

/** The authorizer's view of a resource request, as kube-apiserver's RequestInfo makes it. */
export function resourceAttributes(user: UserInfo, req: RequestAttributes, query: URLSearchParams, path: string): Attributes {
  const r = req.request;
  let name = r?.name ?? '';
  // A list or watch of one name (fieldSelector=metadata.name=x) is authorized as that name,
  // so resourceNames rules can grant it.
  if (!name && (req.verb === 'list' || req.verb === 'watch')) name = singleNameOf(query.get('fieldSelector')) ?? '';
  // A Namespace is in itself, as RequestInfo has it: a RoleBinding there may grant it.
  const ownNamespace = r?.group === '' && r.resource === 'namespaces' && r.name ? r.name : undefined;
  return {
    user,
    verb: req.verb,
    resourceRequest: true,
    apiGroup: r?.group ?? '',
    resource: r?.resource ?? '',
    subresource: r?.subresource ?? '',
    namespace: r?.namespace ?? ownNamespace ?? '',
    name,
    path,
  };
}

export function nonResourceAttributes(user: UserInfo, method: string, path: string): Attributes {
  const verb = { GET: 'get', HEAD: 'get', POST: 'post', PUT: 'put', PATCH: 'patch', DELETE: 'delete' }[method] ?? method.toLowerCase();
  return { user, verb, resourceRequest: false, apiGroup: '', resource: '', subresource: '', namespace: '', name: '', path };
}

function singleNameOf(selector: string | null): string | undefined {
  if (!selector) return undefined;
  const terms = selector.split(',').map((t) => t.trim()).filter(Boolean);
  if (terms.length !== 1) return undefined;
  const match = /^metadata\.name(==?)(.+)$/.exec(terms[0]!);
  return match ? match[2] : undefined;
}

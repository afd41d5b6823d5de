// The RBAC objects in memory, indexed by the subjects they bind, and fed by the store's
// cache: deciding a request reads no database, and a binding written through any replica
// counts on every replica as soon as its change arrives.
import type { UserInfo } from '../api/object-service.js';
import type { KubeObject } from '../machinery/object.js';
import type { CacheEvent, WatchCache } from '../store/watch-cache.js';
import {
  RBAC_GROUP,
  ruleAllows,
  subjectKey,
  userKeys,
  type Attributes,
  type PolicyRule,
  type RoleRef,
  type Subject,
} from './rbac-rules.js';

export const RBAC_RESOURCES = {
  roles: `${RBAC_GROUP}/roles`,
  clusterRoles: `${RBAC_GROUP}/clusterroles`,
  roleBindings: `${RBAC_GROUP}/rolebindings`,
  clusterRoleBindings: `${RBAC_GROUP}/clusterrolebindings`,
} as const;

interface Binding {
  /** '' for a ClusterRoleBinding. */
  namespace: string;
  name: string;
  roleRef: RoleRef;
}

type RoleObject = KubeObject & { rules?: PolicyRule[] };
type BindingObject = KubeObject & { roleRef?: RoleRef; subjects?: Subject[] };

/** One rule and where it comes from, for SelfSubjectRulesReview and explanations. */
export interface SourcedRule {
  rule: PolicyRule;
  binding: string;
}

export class RbacIndex {
  /** "namespace/name" of Roles ('' namespace for ClusterRoles, kept apart). */
  private readonly roles = new Map<string, PolicyRule[]>();
  private readonly clusterRoles = new Map<string, PolicyRule[]>();
  /** subject key -> bindings naming it, by binding key. */
  private readonly bySubject = new Map<string, Map<string, Binding>>();
  /** binding key -> the subject keys it was indexed under (to unindex on change). */
  private readonly subjectsOf = new Map<string, string[]>();

  constructor(cache?: WatchCache) {
    if (cache) this.follow(cache);
  }

  follow(cache: WatchCache): void {
    for (const resource of Object.values(RBAC_RESOURCES)) {
      for (const entry of cache.list(resource)) this.set(resource, entry.object);
    }
    cache.onEvent((event: CacheEvent) => {
      if (!event.resource.startsWith(RBAC_GROUP)) return;
      if (event.type === 'DELETED') this.remove(event.resource, event.object);
      else this.set(event.resource, event.object);
    });
  }

  set(resource: string, obj: KubeObject): void {
    const namespace = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    switch (resource) {
      case RBAC_RESOURCES.roles:
        this.roles.set(`${namespace}/${name}`, rulesOf(obj));
        break;
      case RBAC_RESOURCES.clusterRoles:
        this.clusterRoles.set(name, rulesOf(obj));
        break;
      case RBAC_RESOURCES.roleBindings:
      case RBAC_RESOURCES.clusterRoleBindings:
        this.setBinding(resource === RBAC_RESOURCES.roleBindings ? namespace : '', name, obj as BindingObject);
        break;
      default:
        break;
    }
  }

  remove(resource: string, obj: KubeObject): void {
    const namespace = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    switch (resource) {
      case RBAC_RESOURCES.roles:
        this.roles.delete(`${namespace}/${name}`);
        break;
      case RBAC_RESOURCES.clusterRoles:
        this.clusterRoles.delete(name);
        break;
      case RBAC_RESOURCES.roleBindings:
        this.unindex(bindingKey(namespace, name));
        break;
      case RBAC_RESOURCES.clusterRoleBindings:
        this.unindex(bindingKey('', name));
        break;
      default:
        break;
    }
  }

  private setBinding(namespace: string, name: string, obj: BindingObject): void {
    const key = bindingKey(namespace, name);
    this.unindex(key);
    const roleRef = obj.roleRef;
    if (!roleRef || typeof roleRef.name !== 'string') return;
    const binding: Binding = { namespace, name, roleRef };
    const keys: string[] = [];
    for (const subject of Array.isArray(obj.subjects) ? obj.subjects : []) {
      const k = subject && typeof subject.name === 'string' ? subjectKey(subject, namespace) : undefined;
      if (!k || keys.includes(k)) continue;
      keys.push(k);
      let bindings = this.bySubject.get(k);
      if (!bindings) this.bySubject.set(k, (bindings = new Map()));
      bindings.set(key, binding);
    }
    this.subjectsOf.set(key, keys);
  }

  private unindex(key: string): void {
    for (const k of this.subjectsOf.get(key) ?? []) {
      const bindings = this.bySubject.get(k);
      bindings?.delete(key);
      if (bindings && bindings.size === 0) this.bySubject.delete(k);
    }
    this.subjectsOf.delete(key);
  }

  /** The bindings that apply to this user (cluster-wide, and in `namespace` when given). */
  private bindingsFor(user: UserInfo, namespace: string | undefined): Binding[] {
    const found = new Map<string, Binding>();
    for (const k of userKeys(user)) {
      for (const [key, binding] of this.bySubject.get(k) ?? []) {
        if (binding.namespace === '' || binding.namespace === namespace) found.set(key, binding);
      }
    }
    return [...found.values()];
  }

  private rulesOfBinding(binding: Binding): PolicyRule[] {
    const ref = binding.roleRef;
    if (ref.kind === 'ClusterRole') return this.clusterRoles.get(ref.name) ?? [];
    // A ClusterRoleBinding can only name a ClusterRole.
    if (ref.kind === 'Role' && binding.namespace) return this.roles.get(`${binding.namespace}/${ref.name}`) ?? [];
    return [];
  }

  /** Is the request allowed by some rule bound to its user? Deny by default. */
  allows(attrs: Attributes): boolean {
    for (const binding of this.bindingsFor(attrs.user, attrs.namespace || undefined)) {
      for (const rule of this.rulesOfBinding(binding)) if (ruleAllows(rule, attrs)) return true;
    }
    return false;
  }

  /** Every rule that applies to the user in `namespace` (cluster-wide ones included). */
  rulesFor(user: UserInfo, namespace: string | undefined): SourcedRule[] {
    const out: SourcedRule[] = [];
    for (const binding of this.bindingsFor(user, namespace)) {
      const source = binding.namespace ? `RoleBinding ${binding.namespace}/${binding.name}` : `ClusterRoleBinding ${binding.name}`;
      for (const rule of this.rulesOfBinding(binding)) out.push({ rule, binding: source });
    }
    return out;
  }

  /** The rules of a role a binding refers to (for the escalation check). */
  roleRules(ref: RoleRef, namespace: string): PolicyRule[] | undefined {
    if (ref.kind === 'ClusterRole') return this.clusterRoles.get(ref.name);
    return this.roles.get(`${namespace}/${ref.name}`);
  }
}

function bindingKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function rulesOf(obj: KubeObject): PolicyRule[] {
  const rules = (obj as RoleObject).rules;
  return Array.isArray(rules) ? rules.filter((r) => r && Array.isArray(r.verbs)) : [];
}

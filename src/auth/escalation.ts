// RBAC's own guard against privilege escalation, as kube-apiserver's registry enforces it:
// writing a Role or ClusterRole needs the `escalate` verb on it or every permission it
// grants; writing a binding needs the `bind` verb on the role it names or every permission
// of that role. A binding's roleRef cannot change.
import type { Admitter, UserInfo } from '../api/object-service.js';
import { ApiError, errors } from '../machinery/errors.js';
import type { Authorizer } from './authorizer.js';
import { MASTERS_GROUP, RBAC_GROUP, rulesCover, type PolicyRule, type RoleRef } from './rbac-rules.js';

/** `sync` brings the cache up to the store's newest change (a role written just before its binding). */
export function escalationAdmitter(authorizer: Authorizer, sync: () => Promise<unknown>): Admitter {
  return {
    admit({ operation, info, object, oldObject, user }) {
      if (info.group !== RBAC_GROUP || operation === 'DELETE') return;
      const masters = user.groups.includes(MASTERS_GROUP);
      const namespace = object.metadata.namespace ?? '';
      const name = object.metadata.name ?? '';
      if (info.plural === 'roles' || info.plural === 'clusterroles') {
        if (masters || allowedVerb(authorizer, user, 'escalate', info.plural, namespace, name)) return;
        const rules = ((object as { rules?: PolicyRule[] }).rules ?? []) as PolicyRule[];
        const missing = rulesCover(heldRules(authorizer, user, namespace), rules);
        if (missing.length > 0) throw escalation(info.plural, name, user, missing);
        return;
      }
      if (info.plural !== 'rolebindings' && info.plural !== 'clusterrolebindings') return;
      const roleRef = (object as { roleRef?: RoleRef }).roleRef;
      if (!roleRef) return;
      const before = (oldObject as { roleRef?: RoleRef } | undefined)?.roleRef;
      if (before && (before.apiGroup !== roleRef.apiGroup || before.kind !== roleRef.kind || before.name !== roleRef.name)) {
        throw errors.invalid(info.kind, RBAC_GROUP, name, [{ type: 'FieldValueInvalid', field: 'roleRef', message: 'Invalid value: cannot change roleRef' }]);
      }
      if (info.plural === 'clusterrolebindings' && roleRef.kind !== 'ClusterRole') {
        throw errors.invalid(info.kind, RBAC_GROUP, name, [{ type: 'FieldValueNotSupported', field: 'roleRef.kind', message: `Unsupported value: "${roleRef.kind}": supported values: "ClusterRole"` }]);
      }
      if (masters) return;
      const roleResource = roleRef.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
      if (allowedVerb(authorizer, user, 'bind', roleResource, roleRef.kind === 'Role' ? namespace : '', roleRef.name)) return;
      const check = (rules: PolicyRule[] | undefined): void => {
        if (!rules) {
          throw new ApiError(403, 'Forbidden', `${info.plural}.${RBAC_GROUP} "${name}" is forbidden: ${roleRef.kind.toLowerCase()}s.${RBAC_GROUP} "${roleRef.name}" not found, and user "${user.username}" may not bind it`, { name, group: RBAC_GROUP, kind: info.plural });
        }
        const missing = rulesCover(heldRules(authorizer, user, namespace), rules);
        if (missing.length > 0) throw escalation(info.plural, name, user, missing);
      };
      const rules = authorizer.rbac.roleRules(roleRef, namespace);
      if (rules) return check(rules);
      // Perhaps written a moment ago through this or another replica: catch up once.
      return sync().then(() => check(authorizer.rbac.roleRules(roleRef, namespace)));
    },
  };
}

function allowedVerb(authorizer: Authorizer, user: UserInfo, verb: string, resource: string, namespace: string, name: string): boolean {
  return authorizer.decide({ user, verb, resourceRequest: true, apiGroup: RBAC_GROUP, resource, subresource: '', namespace, name, path: '' }).allowed;
}

function heldRules(authorizer: Authorizer, user: UserInfo, namespace: string): PolicyRule[] {
  return authorizer.rbac.rulesFor(user, namespace || undefined).map((s) => s.rule);
}

function escalation(resource: string, name: string, user: UserInfo, missing: PolicyRule[]): ApiError {
  const shown = missing.slice(0, 10).map((r) => JSON.stringify(r)).join(', ');
  return new ApiError(
    403,
    'Forbidden',
    `${resource}.${RBAC_GROUP} "${name}" is forbidden: user "${user.username}" (groups=${JSON.stringify(user.groups)}) is attempting to grant RBAC permissions not currently held: ${shown}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`,
    { name, group: RBAC_GROUP, kind: resource },
  );
}

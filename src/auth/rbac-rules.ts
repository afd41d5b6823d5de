// The rules of Kubernetes RBAC as pure functions: what a PolicyRule allows, whom a subject
// names, and how kube-apiserver words a denial (k8s.io/kubernetes plugin/pkg/auth/authorizer/
// rbac and apiserver/pkg/endpoints/handlers/responsewriters/errors.go).
import { ApiError } from '../machinery/errors.js';
import type { UserInfo } from '../api/object-service.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
export const MASTERS_GROUP = 'system:masters';
export const AUTHENTICATED_GROUP = 'system:authenticated';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: 'Role' | 'ClusterRole';
  name: string;
}

/** What one request asks to do, as authorizer.Attributes carries it. */
export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** The URL path, for non-resource requests. */
  path: string;
}

function matchesWord(list: readonly string[] | undefined, value: string): boolean {
  return (list ?? []).some((item) => item === '*' || item === value);
}

/** resources: "*", "plural", "plural/sub", "*\/sub". A bare plural never covers a subresource. */
export function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some(
    (r) => r === '*' || r === combined || (subresource !== '' && r === `*/${subresource}`),
  );
}

/** nonResourceURLs: exact, "*", or a prefix ending in "*". */
export function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some(
    (u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))),
  );
}

export function ruleAllows(rule: PolicyRule, attrs: Attributes): boolean {
  if (!matchesWord(rule.verbs, attrs.verb)) return false;
  if (!attrs.resourceRequest) return nonResourceUrlMatches(rule, attrs.path);
  if (!matchesWord(rule.apiGroups, attrs.apiGroup)) return false;
  if (!resourceMatches(rule, attrs.resource, attrs.subresource)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(attrs.name);
}

export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** The key a subject is indexed under: the user name it stands for, or the group. */
export function subjectKey(subject: Subject, bindingNamespace: string): string | undefined {
  switch (subject.kind) {
    case 'User':
      return `u:${subject.name}`;
    case 'Group':
      return `g:${subject.name}`;
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace;
      return namespace ? `u:${serviceAccountUsername(namespace, subject.name)}` : undefined;
    }
    default:
      return undefined;
  }
}

/** The keys a user matches: its name and each of its groups. */
export function userKeys(user: UserInfo): string[] {
  return [`u:${user.username}`, ...user.groups.map((g) => `g:${g}`)];
}

/** The 403 Status kube-apiserver answers, word for word. */
export function forbidden(attrs: Attributes, reason = ''): ApiError {
  const suffix = reason ? `: ${reason}` : '';
  const user = attrs.user.username;
  if (!attrs.resourceRequest) {
    return new ApiError(403, 'Forbidden', `forbidden: User "${user}" cannot ${attrs.verb} path "${attrs.path}"${suffix}`, {});
  }
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const scope = attrs.namespace ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope';
  const why = `User "${user}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" ${scope}${suffix}`;
  const qualified = attrs.apiGroup ? `${attrs.resource}.${attrs.apiGroup}` : attrs.resource;
  const message = attrs.name ? `${qualified} "${attrs.name}" is forbidden: ${why}` : `${qualified} is forbidden: ${why}`;
  return new ApiError(403, 'Forbidden', message, { name: attrs.name || undefined, group: attrs.apiGroup, kind: attrs.resource });
}

/**
 * Does `owned` cover every permission of `wanted` (the escalation check of
 * rbac/validation.go's ConfirmNoEscalation)? Each rule is split into single-verb,
 * single-resource atoms; an atom with "*" is covered only by a rule with "*" there.
 */
export function rulesCover(owned: readonly PolicyRule[], wanted: readonly PolicyRule[]): PolicyRule[] {
  const uncovered: PolicyRule[] = [];
  for (const rule of wanted) {
    for (const atom of atoms(rule)) {
      if (!owned.some((o) => atomCovered(o, atom))) uncovered.push(atom);
    }
  }
  return uncovered;
}

function atoms(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const verb of rule.verbs ?? []) {
    if ((rule.nonResourceURLs ?? []).length > 0) {
      for (const url of rule.nonResourceURLs!) out.push({ verbs: [verb], nonResourceURLs: [url] });
    }
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const names = rule.resourceNames ?? [];
        if (names.length === 0) out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        for (const name of names) out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] });
      }
    }
  }
  return out;
}

function atomCovered(owner: PolicyRule, atom: PolicyRule): boolean {
  if (!matchesWord(owner.verbs, atom.verbs[0]!)) return false;
  if (atom.nonResourceURLs) {
    const url = atom.nonResourceURLs[0]!;
    return (owner.nonResourceURLs ?? []).some((u) => u === '*' || u === url || (u.endsWith('*') && url.startsWith(u.slice(0, -1))));
  }
  if (!matchesWord(owner.apiGroups, atom.apiGroups![0]!)) return false;
  const resource = atom.resources![0]!;
  const slash = resource.indexOf('/');
  const covered = (owner.resources ?? []).some(
    (r) => r === '*' || r === resource || (slash > 0 && r === `*${resource.slice(slash)}`),
  );
  if (!covered) return false;
  const ownerNames = owner.resourceNames ?? [];
  if (ownerNames.length === 0) return true;
  const name = atom.resourceNames?.[0];
  return name !== undefined && ownerNames.includes(name);
}

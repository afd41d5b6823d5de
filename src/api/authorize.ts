// Authorization: the seam is here; today it knows two kinds of callers. Members of
// system:masters may do anything. A status writer (the token an external controller reports
// back with) may read VirtualMachines and write only their status subresource.
import { ApiError } from '../machinery/errors.js';
import type { UserInfo } from './object-service.js';
import type { RequestAttributes } from './resource-handler.js';

export const STATUS_WRITERS_GROUP = 'virtflow:status-writers';

const READ_VERBS = new Set(['get', 'list', 'watch']);

export function authorize(user: UserInfo, attrs: RequestAttributes): void {
  if (!user.groups.includes(STATUS_WRITERS_GROUP) || user.groups.includes('system:masters')) return;
  const r = attrs.request;
  const resource = r ? `${r.resource}${r.subresource ? `/${r.subresource}` : ''}` : '';
  const allowed =
    r?.group === 'virtflow.io' &&
    r.resource === 'virtualmachines' &&
    ((READ_VERBS.has(attrs.verb) && !r.subresource) || ((attrs.verb === 'patch' || attrs.verb === 'update' || attrs.verb === 'get') && r.subresource === 'status'));
  if (allowed) return;
  throw new ApiError(
    403,
    'Forbidden',
    `${resource}${r?.group ? `.${r.group}` : ''} "${r?.name ?? ''}" is forbidden: User "${user.username}" cannot ${attrs.verb} resource "${resource}" in API group "${r?.group ?? ''}"${r?.namespace ? ` in the namespace "${r.namespace}"` : ''}: status writers may only read virtualmachines and write their status`,
    { name: r?.name, group: r?.group, kind: r?.resource },
  );
}

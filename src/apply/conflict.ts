// The 409 an apply gets when it would change fields other managers own, worded exactly as
// the apiserver's fieldmanager/internal/conflict.go words it, so kubectl's hints still fit.

import { ApiError, type StatusCause } from '../machinery/errors.js';
import { formatPath, type Path } from './fieldset.js';
import type { ManagerSet } from './managed-fields.js';

export interface Conflict {
  manager: ManagerSet;
  path: Path;
}

/** `"mgr"`, `"mgr" with subresource "status"`, and ` using v1` for Update managers. */
export function describeManager(m: Pick<ManagerSet, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  let text = JSON.stringify(m.manager);
  if (m.subresource) text += ` with subresource ${JSON.stringify(m.subresource)}`;
  // The identifier the message is built from never carries a time, so no " at <time>".
  if (m.operation === 'Update') text += ` using ${m.apiVersion}`;
  return text;
}

export function conflictError(conflicts: Conflict[]): ApiError {
  const causes: StatusCause[] = conflicts.map((c) => ({
    type: 'FieldManagerConflict',
    message: `conflict with ${describeManager(c.manager)}`,
    field: formatPath(c.path),
  }));
  return new ApiError(409, 'Conflict', conflictMessage(conflicts), { causes });
}

function conflictMessage(conflicts: Conflict[]): string {
  if (conflicts.length === 1) {
    const [only] = conflicts;
    return `Apply failed with 1 conflict: conflict with ${describeManager(only!.manager)}: ${formatPath(only!.path)}`;
  }
  const byManager = new Map<string, Conflict[]>();
  for (const c of conflicts) {
    const key = describeManager(c.manager);
    byManager.set(key, [...(byManager.get(key) ?? []), c]);
  }
  const lines: string[] = [];
  for (const key of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${key}:`);
    for (const c of byManager.get(key)!) lines.push(`- ${formatPath(c.path)}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

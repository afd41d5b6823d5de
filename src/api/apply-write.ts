// Server-side apply as a write: the applied configuration is merged into the live object by
// field ownership (or becomes a new object), then stored through the usual path.
import { ApiError, errors } from '../machinery/errors.js';
import { clone, isPlainObject, type KubeObject } from '../machinery/object.js';
import type { ResourceInfo } from '../machinery/resource.js';
import type { WriteOptions } from './object-service.js';
import { checkEnvelope } from './object-rules.js';
import type { HandlerDeps } from './resource-handler.js';

export async function applyWrite(
  deps: HandlerDeps,
  info: ResourceInfo,
  namespace: string | undefined,
  name: string,
  patch: unknown,
  opts: WriteOptions & { force: boolean },
): Promise<{ object: KubeObject; warnings: string[]; created: boolean }> {
  const { service } = deps;
  const applyPatch = deps.applyPatch!;
  if (!isPlainObject(patch)) throw errors.badRequest('an apply patch must be a YAML or JSON object');
  if (patch.apiVersion === undefined || patch.kind === undefined) {
    throw errors.badRequest('an apply patch must set apiVersion and kind');
  }
  const applied = checkEnvelope(clone(patch), info, { namespace, name });
  const writeOpts: WriteOptions = { ...opts, applied: true };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const result = await service.patch(info, namespace, name, (current, _info, _opts, now) => applyPatch(current, applied, info, opts, now), writeOpts);
      return { ...result, created: false };
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404 && err.details?.name === name && err.details?.kind === info.plural)) throw err;
    }
    try {
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const created = applyPatch(undefined, applied, info, opts, now);
      const result = await service.create(info, namespace, created, writeOpts);
      return { ...result, created: true };
    } catch (err) {
      // Someone created it in between: apply to theirs.
      if (!(err instanceof ApiError && err.code === 409 && err.reason === 'AlreadyExists')) throw err;
    }
  }
  throw errors.conflict({ group: info.group, resource: info.plural }, name, 'the object is being created and deleted concurrently; please try again');
}

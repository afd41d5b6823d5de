// What a fresh store needs before anyone uses it: the standard namespaces and the CRDs shipped
// in crds/. Safe to run on every start and on every replica.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { ApiError } from '../machinery/errors.js';
import { clone, type KubeObject } from '../machinery/object.js';
import type { ObjectService, WriteOptions } from '../api/object-service.js';
import { defaultRbacObjects } from '../auth/default-roles.js';

const system: WriteOptions = {
  dryRun: false,
  fieldValidation: 'Strict',
  fieldManager: 'virtflow-bootstrap',
  user: { username: 'system:virtflow-bootstrap', groups: ['system:masters'] },
  userAgent: 'virtflow-bootstrap',
};

export const standardNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'virtflow-system'];

async function ensure(service: ObjectService, group: string, version: string, plural: string, obj: KubeObject): Promise<void> {
  const info = service.registry.lookup(group, version, plural)!;
  try {
    await service.create(info, obj.metadata.namespace, clone(obj), system);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 409)) throw err;
    // A newer VirtFlow may ship a changed CRD or default role: bring the stored one up to date.
    const shipped = plural === 'customresourcedefinitions' ? { spec: obj.spec } : plural.endsWith('roles') ? { rules: obj.rules } : undefined;
    if (!shipped) return;
    await service.patch(info, obj.metadata.namespace, obj.metadata.name!, (current) => ({ ...current, ...shipped }), system);
  }
}

export async function readCrdFiles(dir: string): Promise<KubeObject[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
  } catch {
    return [];
  }
  const crds: KubeObject[] = [];
  for (const file of files) {
    const docs = YAML.parseAllDocuments(await readFile(path.join(dir, file), 'utf8'));
    for (const doc of docs) {
      const obj = doc.toJS() as KubeObject | null;
      if (obj && obj.kind === 'CustomResourceDefinition') crds.push(obj);
    }
  }
  return crds;
}

export async function bootstrap(service: ObjectService, crdDir?: string): Promise<void> {
  for (const name of standardNamespaces) {
    await ensure(service, '', 'v1', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  // The default roles, the controllers' ServiceAccount and bindings (docs/security.md).
  for (const { plural, object } of defaultRbacObjects()) {
    await ensure(service, plural === 'serviceaccounts' ? '' : 'rbac.authorization.k8s.io', 'v1', plural, object);
  }
  if (crdDir) {
    for (const crd of await readCrdFiles(crdDir)) {
      await ensure(service, 'apiextensions.k8s.io', 'v1', 'customresourcedefinitions', crd);
    }
  }
  await service.store.syncCache();
}

// The in-cluster manifests build with kustomize and hold what a cluster needs.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { controllersNamespaceRules, defaultClusterRoles, ROLES } from '../../src/auth/default-roles.js';
import { allKinds } from '../../src/kinds/index.js';

const run = promisify(execFile);

describe('manifests/', () => {
  it('builds with kustomize into the CRDs, RBAC and the controller Deployment', async () => {
    const { stdout } = await run('kubectl', ['kustomize', 'manifests/']);
    const docs = YAML.parseAllDocuments(stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    const crds = docs.filter((d) => d.kind === 'CustomResourceDefinition').map((d) => d.metadata.name);
    expect(crds.sort()).toEqual(allKinds.map((k) => `${k.plural}.virtflow.io`).sort());
    const kinds = new Set(docs.map((d) => d.kind));
    for (const kind of ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment', 'Service']) {
      expect(kinds.has(kind), kind).toBe(true);
    }
    const deployment = docs.find((d) => d.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: { command: string[] }[] } } };
    };
    expect(deployment.spec.template.spec.containers[0]!.command).toContain('controller');
  });

  it('ships the roles VirtFlow defines, the same rules as the code, and runs the controllers as their ServiceAccount', async () => {
    const { stdout } = await run('kubectl', ['kustomize', 'manifests/']);
    const docs = YAML.parseAllDocuments(stdout).map((d) => d.toJS() as any);
    const rulesOf = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name)?.rules;
    for (const name of [ROLES.platformAdmin, ROLES.operator, ROLES.tenantAdmin, ROLES.tenantViewer, ROLES.externalController, ROLES.controllers]) {
      expect(rulesOf('ClusterRole', name), name).toEqual(defaultClusterRoles[name]);
    }
    expect(rulesOf('Role', ROLES.controllers)).toEqual(controllersNamespaceRules);
    const deployment = docs.find((d) => d.kind === 'Deployment');
    const account = deployment.spec.template.spec.serviceAccountName;
    const bound = docs.find((d) => d.kind === 'ClusterRoleBinding' && d.roleRef.name === ROLES.controllers);
    expect(bound.subjects).toEqual([{ kind: 'ServiceAccount', name: account, namespace: 'virtflow-system', apiGroup: '' }]);
  });
});

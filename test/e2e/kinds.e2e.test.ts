// Every VirtFlow kind through the real kubectl: its CRD applies to `virtflow up` as it would
// to a cluster, `kubectl explain` teaches each kind and its spec, and `kubectl get virtflow`
// reaches every kind through the category.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVirtflow, type VirtflowProcess } from '../support/kubectl.js';
import { expectOk, virtflowCrds } from './support.js';

let vf: VirtflowProcess;

beforeAll(async () => {
  vf = await startVirtflow();
});

afterAll(async () => {
  await vf?.stop();
});

describe('the VirtFlow kinds with kubectl', () => {
  it('kubectl apply -f crds/ succeeds against virtflow up (which loaded them already)', async () => {
    const out = expectOk(await vf.kubectl(['apply', '-f', 'crds/'])).stdout;
    for (const crd of virtflowCrds()) expect(out).toContain(`customresourcedefinition.apiextensions.k8s.io/${crd.plural}.${crd.group}`);
  });

  it('kubectl explain describes every kind and its spec fields', async () => {
    for (const crd of virtflowCrds()) {
      const kind = expectOk(await vf.kubectl(['explain', crd.plural])).stdout;
      expect(kind, crd.kind).toMatch(new RegExp(`KIND:\\s+${crd.kind}`));
      expect(kind, crd.kind).toMatch(/DESCRIPTION:\s+\S/);
      const spec = expectOk(await vf.kubectl(['explain', `${crd.plural}.spec`])).stdout;
      expect(spec, `${crd.kind}.spec`).toMatch(/FIELDS:/);
    }
  });

  it('kubectl get virtflow lists the whole category, here the simulator virtflow up registered', async () => {
    const out = expectOk(await vf.kubectl(['get', 'virtflow', '-A'])).stdout;
    expect(out).toMatch(/^externalcontroller\.virtflow\.io\/virtflow-simulator\s+VirtualMachine/m);
  });
});

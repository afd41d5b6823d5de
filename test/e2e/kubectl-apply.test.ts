// The real kubectl against the real `virtflow up`: server-side apply with field managers,
// conflicts and their forced takeover, the client-side to server-side upgrade, `kubectl diff`,
// `kubectl apply --prune`, owner-reference garbage collection, and the shipped examples.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startVirtflow, yamlDocuments, type VirtflowProcess } from '../support/kubectl.js';
import {
  expectFailure,
  expectOk,
  kubectlName,
  lines,
  manifestsUnder,
  parseDocuments,
  startVirtflowWithWidgets,
  widget,
} from './support.js';

let vf: VirtflowProcess;

beforeAll(async () => {
  vf = await startVirtflowWithWidgets();
});

afterAll(async () => {
  await vf?.stop();
});

async function getJson(args: string[]): Promise<any> {
  return JSON.parse(expectOk(await vf.kubectl(['get', ...args, '-o', 'json', '--show-managed-fields'])).stdout);
}

/** The managedFields entries of an object, by manager name. */
function managers(obj: any): Record<string, { operation: string; fieldsV1: any; subresource?: string }> {
  return Object.fromEntries((obj.metadata.managedFields ?? []).map((m: any) => [m.manager, m]));
}

const conflictHelp = 'Please review the fields above--they currently have other managers.';

describe('server-side apply', () => {
  it('two field managers on one field: conflict, then --force-conflicts takes it over', async () => {
    const alice = expectOk(
      await vf.kubectl(['apply', '--server-side', '--field-manager=alice', '-f', '-'], {
        input: widget('w-ssa', { size: 1, color: 'blue' }),
      }),
    );
    expect(alice.stdout).toBe('widget.example.com/w-ssa serverside-applied\n');

    const bob = expectFailure(
      await vf.kubectl(['apply', '--server-side', '--field-manager=bob', '-f', '-'], { input: widget('w-ssa', { size: 2 }) }),
    );
    expect(bob.stdout).toBe('');
    expect(bob.stderr).toContain('error: Apply failed with 1 conflict: conflict with "alice": .spec.size\n');
    expect(bob.stderr).toContain(conflictHelp);
    expect(bob.stderr).toContain('--force-conflicts');
    let obj = await getJson(['wd', 'w-ssa']);
    expect(obj.spec).toEqual({ size: 1, color: 'blue' });

    const forced = expectOk(
      await vf.kubectl(['apply', '--server-side', '--field-manager=bob', '--force-conflicts', '-f', '-'], {
        input: widget('w-ssa', { size: 2 }),
      }),
    );
    expect(forced.stdout).toBe('widget.example.com/w-ssa serverside-applied\n');
    obj = await getJson(['wd', 'w-ssa']);
    expect(obj.spec).toEqual({ size: 2, color: 'blue' });
    expect(obj.metadata.generation).toBe(2);
    const owners = managers(obj);
    expect(owners.bob).toMatchObject({ operation: 'Apply', fieldsV1: { 'f:spec': { 'f:size': {} } } });
    expect(owners.alice).toMatchObject({ operation: 'Apply', fieldsV1: { 'f:spec': { 'f:color': {} } } });
    expect(owners.alice!.fieldsV1['f:spec']['f:size']).toBeUndefined();

    // Now alice's own file conflicts with bob.
    const back = expectFailure(
      await vf.kubectl(['apply', '--server-side', '--field-manager=alice', '-f', '-'], {
        input: widget('w-ssa', { size: 1, color: 'blue' }),
      }),
    );
    expect(back.stderr).toContain('error: Apply failed with 1 conflict: conflict with "bob": .spec.size\n');
  });

  it('applying the same value co-owns the field; dropping a field from the file removes it', async () => {
    expectOk(
      await vf.kubectl(['apply', '--server-side', '--field-manager=alice', '-f', '-'], {
        input: widget('w-share', { size: 3, color: 'red' }),
      }),
    );
    expectOk(
      await vf.kubectl(['apply', '--server-side', '--field-manager=bob', '-f', '-'], { input: widget('w-share', { size: 3 }) }),
    );
    let owners = managers(await getJson(['wd', 'w-share']));
    expect(owners.alice!.fieldsV1['f:spec']).toEqual({ 'f:size': {}, 'f:color': {} });
    expect(owners.bob!.fieldsV1['f:spec']).toEqual({ 'f:size': {} });

    // alice stops applying both fields: color (hers alone) goes, size (shared with bob) stays.
    expectOk(
      await vf.kubectl(['apply', '--server-side', '--field-manager=alice', '-f', '-'], { input: widget('w-share', {}) }),
    );
    const obj = await getJson(['wd', 'w-share']);
    expect(obj.spec).toEqual({ size: 3 });
    owners = managers(obj);
    expect(owners.bob!.fieldsV1['f:spec']).toEqual({ 'f:size': {} });
  });

  it('a client-side applied field conflicts for another manager; plain --server-side upgrades it', async () => {
    expectOk(await vf.kubectl(['apply', '-f', '-'], { input: widget('w-upgrade', { size: 1 }) }));
    const other = expectFailure(
      await vf.kubectl(['apply', '--server-side', '--field-manager=gitops', '-f', '-'], {
        input: widget('w-upgrade', { size: 5 }),
      }),
    );
    expect(other.stderr).toContain(
      'error: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using example.com/v1: .spec.size\n',
    );

    // kubectl's own manager migrates the client-side ownership first, so there is no conflict.
    const upgraded = expectOk(
      await vf.kubectl(['apply', '--server-side', '-f', '-'], { input: widget('w-upgrade', { size: 5 }) }),
    );
    expect(upgraded.stdout).toBe('widget.example.com/w-upgrade serverside-applied\n');
    const obj = await getJson(['wd', 'w-upgrade']);
    expect(obj.spec).toEqual({ size: 5 });
    const owners = managers(obj);
    expect(owners.kubectl).toMatchObject({ operation: 'Apply', fieldsV1: { 'f:spec': { 'f:size': {} } } });
    expect(owners['kubectl-client-side-apply']?.fieldsV1?.['f:spec']?.['f:size']).toBeUndefined();
  });
});

describe('kubectl diff', () => {
  it('exits 0 when nothing would change and 1 with the change shown when something would', async () => {
    expectOk(await vf.kubectl(['apply', '-f', '-'], { input: widget('w-diff', { size: 1, color: 'green' }) }));

    const same = await vf.kubectl(['diff', '-f', '-'], { input: widget('w-diff', { size: 1, color: 'green' }) });
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toBe('');

    const changed = await vf.kubectl(['diff', '-f', '-'], { input: widget('w-diff', { size: 7, color: 'green' }) });
    expect(changed.code, changed.stderr).toBe(1);
    expect(changed.stderr).toBe('');
    expect(changed.stdout).toMatch(/^--- \S+\/LIVE-\d+\/example\.com\.v1\.Widget\.default\.w-diff\t/m);
    expect(changed.stdout).toMatch(/^\+\+\+ \S+\/MERGED-\d+\/example\.com\.v1\.Widget\.default\.w-diff\t/m);
    expect(changed.stdout).toMatch(/^- {2}size: 1$/m);
    expect(changed.stdout).toMatch(/^\+ {2}size: 7$/m);
    expect(changed.stdout).toMatch(/^- {2}generation: 1$/m);
    expect(changed.stdout).toMatch(/^\+ {2}generation: 2$/m);
    expect(changed.stdout).not.toMatch(/^[-+] {2}color:/m);

    // A new object shows up whole; the diff was a dry run, so nothing was written.
    const created = await vf.kubectl(['diff', '-f', '-'], { input: widget('w-diff-new', { size: 2 }) });
    expect(created.code, created.stderr).toBe(1);
    expect(created.stdout).toMatch(/^\+ {2}name: w-diff-new$/m);
    expect(created.stdout).toMatch(/^\+ {2}size: 2$/m);
    expect((await getJson(['wd', 'w-diff'])).spec.size).toBe(1);
    expectFailure(await vf.kubectl(['get', 'wd', 'w-diff-new']));
  });

  it('exits 0 for an unchanged object created by server-side apply (client-side and --server-side diff)', async () => {
    const file = widget('w-diff-ssa', { size: 4 });
    expectOk(await vf.kubectl(['apply', '--server-side', '--field-manager=gitops', '-f', '-'], { input: file }));

    const serverSide = await vf.kubectl(['diff', '--server-side', '--field-manager=gitops', '-f', '-'], { input: file });
    expect(serverSide.code, serverSide.stdout + serverSide.stderr).toBe(0);
    expect(serverSide.stdout).toBe('');

    const clientSide = await vf.kubectl(['diff', '-f', '-'], { input: file });
    expect(clientSide.stdout).toBe('');
    expect(clientSide.code, clientSide.stderr).toBe(0);
  });
});

describe('kubectl apply --prune', () => {
  const fileSet = (names: string[], label: string) =>
    yamlDocuments(
      names.map((name) => ({
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name, labels: { app: label } },
        spec: { size: 1 },
      })),
    );

  it('removes an object dropped from the file set (with --prune-allowlist)', async () => {
    const first = expectOk(
      await vf.kubectl(['apply', '--prune', '-l', 'app=listed', '--prune-allowlist=example.com/v1/Widget', '-f', '-'], {
        input: fileSet(['p-keep', 'p-drop'], 'listed'),
      }),
    );
    expect(lines(first.stdout)).toEqual(['widget.example.com/p-keep created', 'widget.example.com/p-drop created']);
    const second = expectOk(
      await vf.kubectl(['apply', '--prune', '-l', 'app=listed', '--prune-allowlist=example.com/v1/Widget', '-f', '-'], {
        input: fileSet(['p-keep'], 'listed'),
      }),
    );
    expect(lines(second.stdout)).toEqual(['widget.example.com/p-keep unchanged', 'widget.example.com/p-drop pruned']);
    expect(lines(expectOk(await vf.kubectl(['get', 'wd', '-l', 'app=listed', '-o', 'name'])).stdout)).toEqual([
      'widget.example.com/p-keep',
    ]);
  });

  it('kubectl apply --prune -l app=x removes an object dropped from the file set (default allowlist)', async () => {
    // Without --prune-allowlist kubectl prunes its built-in default kinds (ConfigMap among
    // them) and needs every one of them in discovery. Objects without the label are kept.
    const configMaps = (names: string[]) =>
      yamlDocuments(
        names.map((name) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { app: 'x' } }, data: { n: name } })),
      );
    expectOk(await vf.kubectl(['create', '-f', '-'], { input: yamlDocuments([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x-unlabeled' } }]) }));
    const first = expectOk(await vf.kubectl(['apply', '--prune', '-l', 'app=x', '-f', '-'], { input: configMaps(['x-keep', 'x-drop']) }));
    expect(lines(first.stdout)).toEqual(['configmap/x-keep created', 'configmap/x-drop created']);
    const second = expectOk(await vf.kubectl(['apply', '--prune', '-l', 'app=x', '-f', '-'], { input: configMaps(['x-keep']) }));
    expect(lines(second.stdout)).toEqual(['configmap/x-keep unchanged', 'configmap/x-drop pruned']);
    expectFailure(await vf.kubectl(['get', 'configmap', 'x-drop']));
    expectOk(await vf.kubectl(['get', 'configmap', 'x-keep', 'x-unlabeled']));
  });
});

describe('garbage collection through ownerReferences', () => {
  /** Creates an owner widget and, owned by it, a widget and a ConfigMap. */
  async function ownerWithDependents(owner: string, blockOwnerDeletion = false): Promise<string> {
    expectOk(await vf.kubectl(['apply', '-f', '-'], { input: widget(owner, { size: 1 }) }));
    const uid = (await getJson(['wd', owner])).metadata.uid as string;
    const ref = { apiVersion: 'example.com/v1', kind: 'Widget', name: owner, uid, ...(blockOwnerDeletion ? { blockOwnerDeletion } : {}) };
    expectOk(
      await vf.kubectl(['apply', '-f', '-'], {
        input: yamlDocuments([
          {
            apiVersion: 'example.com/v1',
            kind: 'Widget',
            metadata: { name: `${owner}-child`, ownerReferences: [ref] },
            spec: { size: 1 },
          },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${owner}-config`, ownerReferences: [ref] }, data: { a: '1' } },
        ]),
      }),
    );
    return uid;
  }

  it('kubectl delete of an owner removes its dependents (background propagation)', async () => {
    await ownerWithDependents('gc-owner');
    const del = expectOk(await vf.kubectl(['delete', 'widget', 'gc-owner', '--timeout=30s']));
    expect(del.stdout).toBe('widget.example.com "gc-owner" deleted\n');
    const waited = await vf.kubectl(['wait', '--for=delete', 'widget/gc-owner-child', 'configmap/gc-owner-config', '--timeout=10s']);
    expect(waited.code, `dependents were not collected:\n${waited.stderr}`).toBe(0);
    expectFailure(await vf.kubectl(['get', 'widget', 'gc-owner-child']));
    expectFailure(await vf.kubectl(['get', 'configmap', 'gc-owner-config']));
  });

  it('kubectl delete --cascade=foreground returns once the blocking dependents and then the owner are gone', async () => {
    await ownerWithDependents('fg-owner', true);
    const del = await vf.kubectl(['delete', 'widget', 'fg-owner', '--cascade=foreground', '--timeout=20s']);
    expect(del.code, `owner was not deleted:\n${del.stderr}`).toBe(0);
    expect(del.stdout).toBe('widget.example.com "fg-owner" deleted\n');
    // The owner goes last, so by now its blocking dependents are gone too.
    expectFailure(await vf.kubectl(['get', 'widget', 'fg-owner']));
    expectFailure(await vf.kubectl(['get', 'widget', 'fg-owner-child']));
    expectFailure(await vf.kubectl(['get', 'configmap', 'fg-owner-config']));
  });

  it('kubectl delete --cascade=orphan keeps the dependents and drops their ownerReferences', async () => {
    await ownerWithDependents('orphan-owner');
    const del = await vf.kubectl(['delete', 'widget', 'orphan-owner', '--cascade=orphan', '--timeout=10s']);
    expect(del.code, `owner was not deleted:\n${del.stderr}`).toBe(0);
    expectFailure(await vf.kubectl(['get', 'widget', 'orphan-owner']));
    const child = await getJson(['widget', 'orphan-owner-child']);
    expect(child.metadata.ownerReferences ?? []).toEqual([]);
    const config = await getJson(['configmap', 'orphan-owner-config']);
    expect(config.metadata.ownerReferences ?? []).toEqual([]);
  });
});

/** Each object's generation, by kind/namespace/name, as `kubectl get virtflow -A` lists them. */
async function virtflowGenerations(on: VirtflowProcess): Promise<Record<string, number>> {
  return Object.fromEntries(
    JSON.parse(expectOk(await on.kubectl(['get', 'virtflow', '-A', '-o', 'json'])).stdout).items.map((o: any) => [
      `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`,
      o.metadata.generation,
    ]),
  );
}

describe('the shipped examples', () => {
  it('kubectl apply -R -f examples/lab/ creates every document and kubectl get virtflow lists them', async () => {
    const docs = manifestsUnder(path.join(repoRoot, 'examples/lab'));
    expect(docs.length).toBeGreaterThan(20);
    const res = expectOk(await vf.kubectl(['apply', '-R', '-f', 'examples/lab/']));
    expect(lines(res.stdout).sort()).toEqual(docs.map((d) => `${kubectlName(d)} created`).sort());

    // `virtflow` is the category of every VirtFlow kind; -A includes the namespaced ones.
    // (VirtFlow may hold objects of its own too, such as its simulator's ExternalController.)
    const listed = lines(expectOk(await vf.kubectl(['get', 'virtflow', '-A', '-o', 'name'])).stdout);
    const expected = docs.filter((d) => d.apiVersion.startsWith('virtflow.io/')).map(kubectlName);
    expect(listed).toEqual(expect.arrayContaining(expected));
    expect(new Set(listed).size).toBe(listed.length);

    // The default Table output: one block per cluster-scoped kind in the lab.
    const table = expectOk(await vf.kubectl(['get', 'virtflow'])).stdout;
    const kinds = new Set(docs.filter((d) => d.apiVersion.startsWith('virtflow.io/') && !d.metadata.namespace).map((d) => d.kind));
    expect(kinds.size).toBeGreaterThan(8);
    for (const kind of kinds) expect(table).toMatch(new RegExp(`^${kind.toLowerCase()}\\.virtflow\\.io/\\S+\\s`, 'm'));
  });

  // The estate and the lab are two worlds sharing names (tw-hsinchu-1, acme, vm-service-tw):
  // the estate is applied to a VirtFlow of its own, as its files say on top.
  describe('examples/estate/, on a VirtFlow of its own', () => {
    let estate: VirtflowProcess;
    beforeAll(async () => {
      estate = await startVirtflow();
    });
    afterAll(async () => {
      await estate?.stop();
    });

    it('kubectl apply -k examples/estate/ applies the whole estate', async () => {
      const rendered = parseDocuments(expectOk(await estate.kubectl(['kustomize', 'examples/estate/'])).stdout);
      expect(rendered.length).toBeGreaterThan(100);
      const res = expectOk(await estate.kubectl(['apply', '-k', 'examples/estate/'], { timeoutMs: 120_000 }));
      const applied = lines(res.stdout);
      for (const line of applied) expect(line).toMatch(/^\S+ (created|configured|unchanged)$/);
      expect(applied.map((l) => l.split(' ')[0]).sort()).toEqual(rendered.map(kubectlName).sort());
      const found = lines(expectOk(await estate.kubectl(['get', '-k', 'examples/estate/', '-o', 'name'])).stdout);
      expect(found.sort()).toEqual(rendered.map(kubectlName).sort());
    });

    it('applying the estate again changes no object, and kubectl diff -k exits 0', async () => {
      // kubectl may still print `configured` where the server defaults a field inside a list
      // (a merge patch replaces lists whole); the server must then see that nothing changed.
      const before = await virtflowGenerations(estate);
      const again = expectOk(await estate.kubectl(['apply', '-k', 'examples/estate/'], { timeoutMs: 120_000 }));
      for (const line of lines(again.stdout)) expect(line).toMatch(/ (unchanged|configured)$/);
      expect(await virtflowGenerations(estate)).toEqual(before);
      const diff = await estate.kubectl(['diff', '-k', 'examples/estate/']);
      expect(diff.stderr).toBe('');
      expect(diff.stdout).toBe('');
      expect(diff.code).toBe(0);
    });

    it('converges: every VM of the estate becomes Ready on the simulator', { timeout: 180_000 }, async () => {
      // Its VM services name `virtflow up`'s simulator on its default port; this one listens
      // on a free port (several servers may run at once).
      const simulator = expectOk(await estate.kubectl(['get', 'externalcontroller', 'virtflow-simulator', '-o', 'jsonpath={.spec.endpoint}'])).stdout;
      for (const xc of ['vm-service-tw', 'vm-service-jp']) {
        expectOk(await estate.kubectl(['patch', 'externalcontroller', xc, '--type=merge', '-p', JSON.stringify({ spec: { endpoint: simulator } })]));
      }
      const waited = await estate.kubectl(['wait', '--for=condition=Ready', 'vm', '--all', '-A', '--timeout=150s'], { timeoutMs: 160_000 });
      expect(waited.code, `${waited.stderr}\n${estate.output().slice(-3000)}`).toBe(0);
      // Its 12 VMs and the 8 nodes of its cluster prod-tw (3 control plane, 4 general, 1 GPU).
      expect(lines(waited.stdout).length).toBe(20);
    });
  });
});

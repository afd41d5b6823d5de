// The real kubectl against the real `virtflow up`: discovery, client-side apply, explain,
// output formats, watch, patches, labels, wait, finalizers, chunked lists, edit, replace
// conflicts and namespace deletion, on a test kind applied through kubectl.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, yamlDocuments, type VirtflowProcess } from '../support/kubectl.js';
import { expectFailure, expectOk, lines, squash, startVirtflowWithWidgets, virtflowCrds, widget } from './support.js';

let vf: VirtflowProcess;

beforeAll(async () => {
  vf = await startVirtflowWithWidgets();
});

afterAll(async () => {
  await vf?.stop();
});

/** The object as JSON, through kubectl. */
async function getJson(args: string[]): Promise<any> {
  return JSON.parse(expectOk(await vf.kubectl(['get', ...args, '-o', 'json'])).stdout);
}

describe('discovery and documentation', () => {
  it('kubectl api-resources lists the test kind and every VirtFlow kind', async () => {
    const all = expectOk(await vf.kubectl(['api-resources'])).stdout;
    expect(all).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/m);
    expect(all).toMatch(/^widgets\s+wd\s+example\.com\/v1\s+true\s+Widget$/m);
    const crds = virtflowCrds();
    expect(crds.length).toBeGreaterThanOrEqual(10);
    for (const crd of crds) {
      const short = crd.shortNames.join(',');
      const row = new RegExp(
        `^${crd.plural}\\s+${short ? `${short}\\s+` : ''}${crd.group}/${crd.version}\\s+${crd.namespaced}\\s+${crd.kind}$`,
        'm',
      );
      expect(all, `api-resources row for ${crd.kind}`).toMatch(row);
    }
    // The category and the group narrow the list the way kubectl asks for them.
    const gadgets = lines(expectOk(await vf.kubectl(['api-resources', '--categories=gadgets', '-o', 'name'])).stdout);
    expect(gadgets).toEqual(['widgets.example.com']);
    const virtflow = lines(expectOk(await vf.kubectl(['api-resources', '--api-group=virtflow.io', '-o', 'name'])).stdout);
    expect(virtflow.sort()).toEqual(crds.map((c) => `${c.plural}.${c.group}`).sort());
  });

  it('kubectl explain prints field descriptions of the test kind and of VirtualMachine', async () => {
    const size = expectOk(await vf.kubectl(['explain', 'widget.spec.size'])).stdout;
    expect(size).toMatch(/^GROUP:\s+example\.com$/m);
    expect(size).toMatch(/^KIND:\s+Widget$/m);
    expect(size).toMatch(/^FIELD:\s+size <integer>$/m);
    expect(squash(size)).toContain('Size of the widget in units; zero means the smallest widget.');

    const vm = virtflowCrds().find((c) => c.kind === 'VirtualMachine')!;
    const described = vm.doc.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.runStrategy;
    expect(described.description).toBeTruthy();
    const run = expectOk(await vf.kubectl(['explain', 'virtualmachine.spec.runStrategy'])).stdout;
    expect(run).toMatch(/^GROUP:\s+virtflow\.io$/m);
    expect(run).toMatch(/^KIND:\s+VirtualMachine$/m);
    expect(run).toMatch(/^FIELD:\s+runStrategy <string>$/m);
    expect(squash(run)).toContain(squash(described.description));
    for (const value of described.enum as string[]) expect(run).toMatch(new RegExp(`^\\s+${value}$`, 'm'));
  });
});

describe('client-side apply and reading objects back', () => {
  it('kubectl apply -f creates, then leaves unchanged, then configures', async () => {
    const first = expectOk(await vf.kubectl(['apply', '-f', '-'], { input: widget('w-apply', { size: 3, color: 'blue' }) }));
    expect(first.stdout).toBe('widget.example.com/w-apply created\n');
    const again = expectOk(await vf.kubectl(['apply', '-f', '-'], { input: widget('w-apply', { size: 3, color: 'blue' }) }));
    expect(again.stdout).toBe('widget.example.com/w-apply unchanged\n');
    const changed = expectOk(await vf.kubectl(['apply', '-f', '-'], { input: widget('w-apply', { size: 4, color: 'blue' }) }));
    expect(changed.stdout).toBe('widget.example.com/w-apply configured\n');

    const obj = await getJson(['widget', 'w-apply']);
    expect(obj.spec).toEqual({ size: 4, color: 'blue' });
    expect(obj.metadata.generation).toBe(2);
    const lastApplied = JSON.parse(obj.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    expect(lastApplied.spec).toEqual({ size: 4, color: 'blue' });
  });

  it('the server validates what kubectl applies (Strict field validation, schema minimum)', async () => {
    const unknown = expectFailure(
      await vf.kubectl(['apply', '-f', '-'], { input: widget('w-invalid', { size: 1, shape: 'round' }) }),
    );
    expect(unknown.stderr).toContain('unknown field "spec.shape"');
    const negative = expectFailure(await vf.kubectl(['apply', '-f', '-'], { input: widget('w-invalid', { size: -1 }) }));
    expect(negative.stderr).toContain('The Widget "w-invalid" is invalid');
    expect(negative.stderr).toContain('spec.size: Invalid value: -1: spec.size in body should be greater than or equal to 0');
    expectFailure(await vf.kubectl(['get', 'widget', 'w-invalid']));
  });

  it('kubectl apply -f of a kind: List creates every item', async () => {
    const list = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: ['w-list-a', 'w-list-b'].map((name) => ({
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name },
        spec: { size: 1 },
      })),
    });
    const res = expectOk(await vf.kubectl(['apply', '-f', '-'], { input: list }));
    expect(res.stdout).toBe('widget.example.com/w-list-a created\nwidget.example.com/w-list-b created\n');
  });

  it('kubectl get prints the Table (plain, -o wide), YAML and JSON', async () => {
    expectOk(await vf.kubectl(['apply', '-f', '-'], { input: widget('w-get', { size: 7, color: 'green' }) }));
    expectOk(
      await vf.kubectl(['patch', 'widget', 'w-get', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Ready"}}']),
    );

    const plain = lines(expectOk(await vf.kubectl(['get', 'widgets', 'w-get'])).stdout);
    expect(plain).toHaveLength(2);
    expect(plain[0]).toMatch(/^NAME\s+SIZE\s+PHASE\s+AGE$/);
    expect(plain[1]).toMatch(/^w-get\s+7\s+Ready\s+\d+s$/);

    const wide = lines(expectOk(await vf.kubectl(['get', 'wd', 'w-get', '-o', 'wide'])).stdout);
    expect(wide[0]).toMatch(/^NAME\s+SIZE\s+PHASE\s+COLOR\s+AGE$/);
    expect(wide[1]).toMatch(/^w-get\s+7\s+Ready\s+green\s+\d+s$/);

    // The category and the short name reach the same kind.
    const byCategory = expectOk(await vf.kubectl(['get', 'gadgets'])).stdout;
    expect(byCategory).toMatch(/^w-get\s+7\s+Ready\s+\d+s$/m);

    const yaml = expectOk(await vf.kubectl(['get', 'wd', 'w-get', '-o', 'yaml'])).stdout;
    expect(yaml).toMatch(/^apiVersion: example\.com\/v1\nkind: Widget\n/);
    expect(yaml).toMatch(/^ {2}name: w-get$/m);
    expect(yaml).toMatch(/^ {2}namespace: default$/m);
    expect(yaml).toMatch(/^ {2}resourceVersion: "\d+"$/m);
    expect(yaml).toMatch(/^spec:\n {2}color: green\n {2}size: 7\nstatus:\n {2}phase: Ready\n$/m);
    // kubectl hides managedFields unless asked.
    expect(yaml).not.toContain('managedFields');

    const json = await getJson(['wd', 'w-get']);
    expect(json).toMatchObject({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w-get', namespace: 'default', generation: 1 },
      spec: { size: 7, color: 'green' },
      status: { phase: 'Ready' },
    });
    expect(json.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(json.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const list = await getJson(['wd']);
    expect(list.kind).toBe('List');
    expect(list.items.map((i: any) => i.metadata.name)).toContain('w-get');
  });

  it('kubectl get -w prints a line for a change made while it watches', async () => {
    expectOk(await vf.kubectl(['apply', '-f', '-'], { input: widget('w-watch', { size: 1 }) }));
    const watch = vf.kubectlBackground(['get', 'widgets', 'w-watch', '-w']);
    try {
      await watch.waitFor(/^w-watch\s+1\s+/m);
      expectOk(await vf.kubectl(['patch', 'widget', 'w-watch', '--type=merge', '-p', '{"spec":{"size":42}}']));
      const out = await watch.waitFor(/^w-watch\s+42\s+/m);
      expect(lines(out)[0]).toMatch(/^NAME\s+SIZE\s+PHASE\s+AGE$/);
      expect(watch.exitCode).toBeUndefined();
    } finally {
      await watch.kill();
    }
  });

  it('kubectl get -w --output-watch-events reports ADDED, MODIFIED and DELETED', async () => {
    const watch = vf.kubectlBackground(['get', 'widgets', '-w', '--output-watch-events', '-l', 'watch=events']);
    try {
      expectOk(await vf.kubectl(['apply', '-f', '-'], { input: widget('w-events', { size: 1 }, { labels: { watch: 'events' } }) }));
      const added = await watch.waitFor(/^ADDED\s+w-events\s+1\s/m);
      expect(lines(added)[0]).toMatch(/^EVENT\s+NAME\s+SIZE\s+PHASE\s+AGE$/);
      expectOk(await vf.kubectl(['patch', 'widget', 'w-events', '--type=merge', '-p', '{"spec":{"size":2}}']));
      await watch.waitFor(/^MODIFIED\s+w-events\s+2\s/m);
      expectOk(await vf.kubectl(['delete', 'widget', 'w-events']));
      await watch.waitFor(/^DELETED\s+w-events\s+2\s/m);
    } finally {
      await watch.kill();
    }
  });
});

describe('changing objects', () => {
  it('kubectl patch --type merge and --type json change the spec and bump the generation', async () => {
    expectOk(await vf.kubectl(['apply', '-f', '-'], { input: widget('w-patch', { size: 1, color: 'red', tags: ['a'] }) }));
    const merge = expectOk(await vf.kubectl(['patch', 'wd', 'w-patch', '--type', 'merge', '-p', '{"spec":{"size":2,"color":null}}']));
    expect(merge.stdout).toBe('widget.example.com/w-patch patched\n');
    let obj = await getJson(['wd', 'w-patch']);
    expect(obj.spec).toEqual({ size: 2, tags: ['a'] });
    expect(obj.metadata.generation).toBe(2);

    const json = expectOk(
      await vf.kubectl([
        'patch',
        'wd',
        'w-patch',
        '--type',
        'json',
        '-p',
        '[{"op":"test","path":"/spec/size","value":2},{"op":"replace","path":"/spec/size","value":3},{"op":"add","path":"/spec/tags/-","value":"b"}]',
      ]),
    );
    expect(json.stdout).toBe('widget.example.com/w-patch patched\n');
    obj = await getJson(['wd', 'w-patch']);
    expect(obj.spec).toEqual({ size: 3, tags: ['a', 'b'] });
    expect(obj.metadata.generation).toBe(3);

    const same = expectOk(await vf.kubectl(['patch', 'wd', 'w-patch', '--type', 'merge', '-p', '{"spec":{"size":3}}']));
    expect(same.stdout).toBe('widget.example.com/w-patch patched (no change)\n');

    const failedTest = expectFailure(
      await vf.kubectl(['patch', 'wd', 'w-patch', '--type', 'json', '-p', '[{"op":"test","path":"/spec/size","value":99}]']),
    );
    expect(failedTest.stderr).toContain('test failed');
    expect((await getJson(['wd', 'w-patch'])).metadata.generation).toBe(3);

    // kubectl's default (strategic merge) is refused for a custom kind, exactly as Kubernetes does.
    const strategic = expectFailure(await vf.kubectl(['patch', 'wd', 'w-patch', '-p', '{"spec":{"size":4}}']));
    expect(strategic.stderr).toContain(
      'application/strategic-merge-patch+json is not supported by example.com/v1, Kind=Widget',
    );
  });

  it('kubectl patch --subresource=status changes only status; a spec patch never changes status', async () => {
    expectOk(await vf.kubectl(['apply', '-f', '-'], { input: widget('w-status', { size: 1 }) }));
    const res = expectOk(
      await vf.kubectl([
        'patch',
        'wd',
        'w-status',
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"phase":"Provisioning"},"spec":{"size":100}}',
      ]),
    );
    expect(res.stdout).toBe('widget.example.com/w-status patched\n');
    let obj = await getJson(['wd', 'w-status']);
    expect(obj.status).toEqual({ phase: 'Provisioning' });
    expect(obj.spec.size).toBe(1);
    expect(obj.metadata.generation).toBe(1);

    expectOk(
      await vf.kubectl(['patch', 'wd', 'w-status', '--type=merge', '-p', '{"status":{"phase":"Hacked"},"spec":{"size":2}}']),
    );
    obj = await getJson(['wd', 'w-status']);
    expect(obj.status).toEqual({ phase: 'Provisioning' });
    expect(obj.spec.size).toBe(2);
    expect(obj.metadata.generation).toBe(2);

    const sub = await getJson(['wd', 'w-status', '--subresource=status']);
    expect(sub.status).toEqual({ phase: 'Provisioning' });
  });

  it('kubectl label and kubectl annotate add, overwrite and remove metadata', async () => {
    expectOk(await vf.kubectl(['apply', '-f', '-'], { input: widget('w-meta', { size: 1 }, { labels: { tier: 'bronze' } }) }));
    expect(expectOk(await vf.kubectl(['label', 'wd', 'w-meta', 'team=blue'])).stdout).toBe('widget.example.com/w-meta labeled\n');
    const taken = expectFailure(await vf.kubectl(['label', 'wd', 'w-meta', 'tier=gold']));
    expect(taken.stderr).toContain("'tier' already has a value (bronze), and --overwrite is false");
    expectOk(await vf.kubectl(['label', 'wd', 'w-meta', 'tier=gold', '--overwrite']));
    expect(expectOk(await vf.kubectl(['annotate', 'wd', 'w-meta', 'example.com/note=hello world'])).stdout).toBe(
      'widget.example.com/w-meta annotated\n',
    );
    let obj = await getJson(['wd', 'w-meta']);
    expect(obj.metadata.labels).toEqual({ tier: 'gold', team: 'blue' });
    expect(obj.metadata.annotations['example.com/note']).toBe('hello world');
    expect(obj.metadata.generation).toBe(1);

    // Selecting by the new label finds it; removing the label and annotation works too.
    const selected = lines(expectOk(await vf.kubectl(['get', 'wd', '-l', 'team=blue,tier in (gold)', '-o', 'name'])).stdout);
    expect(selected).toEqual(['widget.example.com/w-meta']);
    expect(expectOk(await vf.kubectl(['label', 'wd', 'w-meta', 'team-'])).stdout).toBe('widget.example.com/w-meta unlabeled\n');
    expectOk(await vf.kubectl(['annotate', 'wd', 'w-meta', 'example.com/note-']));
    obj = await getJson(['wd', 'w-meta']);
    expect(obj.metadata.labels).toEqual({ tier: 'gold' });
    expect(obj.metadata.annotations?.['example.com/note']).toBeUndefined();
  });

  it('kubectl wait --for=jsonpath returns once a status patch makes the phase Ready', async () => {
    expectOk(await vf.kubectl(['apply', '-f', '-'], { input: widget('w-wait', { size: 1 }) }));
    const wait = vf.kubectlBackground(['wait', 'widget/w-wait', '--for=jsonpath={.status.phase}=Ready', '--timeout=30s']);
    expectOk(
      await vf.kubectl(['patch', 'wd', 'w-wait', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Starting"}}']),
    );
    expect(wait.exitCode).toBeUndefined();
    expectOk(
      await vf.kubectl(['patch', 'wd', 'w-wait', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Ready"}}']),
    );
    const res = await wait.done;
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe('widget.example.com/w-wait condition met\n');
  });

  it('kubectl delete --wait returns only after a finalizer is removed', async () => {
    expectOk(
      await vf.kubectl(['apply', '-f', '-'], { input: widget('w-final', { size: 1 }, { finalizers: ['example.com/hold'] }) }),
    );
    const del = vf.kubectlBackground(['delete', 'widget', 'w-final', '--wait', '--timeout=30s']);
    try {
      // The DELETE has been answered: kubectl says so, then waits for the object to go.
      await del.waitFor(/^widget\.example\.com "w-final" deleted$/m);
      const held = await getJson(['wd', 'w-final']);
      expect(held.metadata.deletionTimestamp).toMatch(/^\d{4}-/);
      expect(held.metadata.finalizers).toEqual(['example.com/hold']);
      expect(del.exitCode).toBeUndefined();

      // Writes other than removing the finalizer do not end the wait; no new finalizer may be added.
      expectOk(await vf.kubectl(['label', 'wd', 'w-final', 'still=here']));
      const added = expectFailure(
        await vf.kubectl(['patch', 'wd', 'w-final', '--type=json', '-p', '[{"op":"add","path":"/metadata/finalizers/-","value":"example.com/more"}]']),
      );
      expect(added.stderr).toContain('no new finalizers can be added if the object is being deleted');
      expect(del.exitCode).toBeUndefined();

      expectOk(await vf.kubectl(['patch', 'wd', 'w-final', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']));
      const res = await del.done;
      expect(res.code, res.stderr).toBe(0);
      const gone = expectFailure(await vf.kubectl(['get', 'wd', 'w-final']));
      expect(gone.stderr).toBe('Error from server (NotFound): widgets.example.com "w-final" not found\n');
    } finally {
      await del.kill();
    }
  });

  it('kubectl edit with a scripted EDITOR changes a field', async () => {
    expectOk(await vf.kubectl(['apply', '-f', '-'], { input: widget('w-edit', { size: 5, color: 'red' }) }));
    // The editor rewrites spec.size in the file kubectl hands it and keeps a copy of what it saw.
    const editor = path.join(vf.home, 'editor.mjs');
    const seen = path.join(vf.home, 'editor-saw.yaml');
    await writeFile(
      editor,
      [
        `#!${process.execPath}`,
        "import { readFileSync, writeFileSync } from 'node:fs';",
        'const file = process.argv[2];',
        "const text = readFileSync(file, 'utf8');",
        `writeFileSync(${JSON.stringify(seen)}, text);`,
        "writeFileSync(file, text.replace(/^(\\s+size:) 5$/m, '$1 55'));",
        '',
      ].join('\n'),
    );
    await chmod(editor, 0o755);
    const res = expectOk(await vf.kubectl(['edit', 'widget', 'w-edit'], { env: { EDITOR: editor } }));
    expect(res.stdout).toBe('widget.example.com/w-edit edited\n');
    const shown = await readFile(seen, 'utf8');
    expect(shown).toContain('# Please edit the object below.');
    expect(shown).toMatch(/^ {2}name: w-edit$/m);
    expect(shown).toMatch(/^ {2}size: 5$/m);
    const obj = await getJson(['wd', 'w-edit']);
    expect(obj.spec).toEqual({ size: 55, color: 'red' });
    expect(obj.metadata.generation).toBe(2);
  });

  it('kubectl replace with a stale resourceVersion is refused with a conflict', async () => {
    expectOk(await vf.kubectl(['apply', '-f', '-'], { input: widget('w-stale', { size: 1 }) }));
    const stale = expectOk(await vf.kubectl(['get', 'wd', 'w-stale', '-o', 'json'])).stdout;
    expectOk(await vf.kubectl(['patch', 'wd', 'w-stale', '--type=merge', '-p', '{"spec":{"size":2}}']));

    const edited = JSON.parse(stale);
    edited.spec.size = 3;
    const res = expectFailure(await vf.kubectl(['replace', '-f', '-'], { input: JSON.stringify(edited) }));
    expect(res.stderr).toBe(
      'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on widgets.example.com "w-stale": ' +
        'the object has been modified; please apply your changes to the latest version and try again\n',
    );
    expect((await getJson(['wd', 'w-stale'])).spec.size).toBe(2);

    // With the current resourceVersion the same replace goes through.
    const fresh = await getJson(['wd', 'w-stale']);
    fresh.spec.size = 3;
    expect(expectOk(await vf.kubectl(['replace', '-f', '-'], { input: JSON.stringify(fresh) })).stdout).toBe(
      'widget.example.com/w-stale replaced\n',
    );
    expect((await getJson(['wd', 'w-stale'])).spec.size).toBe(3);
  });
});

describe('many objects', () => {
  it('kubectl get --chunk-size=50 pages through 500 objects', async () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bulk' } };
    const names = Array.from({ length: 500 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
    const widgets = names.map((name, i) => ({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name, namespace: 'bulk', labels: { batch: 'one' } },
      spec: { size: i },
    }));
    const created = expectOk(await vf.kubectl(['create', '-f', '-'], { input: yamlDocuments([ns, ...widgets]), timeoutMs: 120_000 }));
    expect(lines(created.stdout)).toHaveLength(501);
    expect(lines(created.stdout)[500]).toBe('widget.example.com/bulk-499 created');

    const paged = expectOk(await vf.kubectl(['get', 'widgets', '-n', 'bulk', '--chunk-size=50', '-o', 'name', '-v=6']));
    expect(lines(paged.stdout)).toEqual(names.map((n) => `widget.example.com/${n}`));
    // kubectl really paged: ten list requests of 50, nine of them continuing the previous one.
    const requests = paged.stderr.split('\n').filter((l) => /GET https:\S+\/namespaces\/bulk\/widgets\?\S*limit=50/.test(l));
    expect(requests).toHaveLength(10);
    expect(requests.filter((l) => /[?&]continue=/.test(l))).toHaveLength(9);

    // The Table output over chunks: one header, 500 rows, in name order.
    const table = lines(expectOk(await vf.kubectl(['get', 'widgets', '-n', 'bulk', '--chunk-size=50'])).stdout);
    expect(table).toHaveLength(501);
    expect(table[0]).toMatch(/^NAME\s+SIZE\s+PHASE\s+AGE$/);
    expect(table[1]).toMatch(/^bulk-000\s+0\s+/);
    expect(table[500]).toMatch(/^bulk-499\s+499\s+/);

    // A label selector over the pages, and a field selector.
    const count = lines(expectOk(await vf.kubectl(['get', 'wd', '-n', 'bulk', '-l', 'batch=one', '--chunk-size=50', '-o', 'name'])).stdout);
    expect(count).toHaveLength(500);
    const one = lines(
      expectOk(await vf.kubectl(['get', 'wd', '-n', 'bulk', '--field-selector', 'metadata.name=bulk-123', '-o', 'name'])).stdout,
    );
    expect(one).toEqual(['widget.example.com/bulk-123']);
  });
});

describe('namespaces', () => {
  it('kubectl create namespace and kubectl create configmap work (typed clients send protobuf)', async () => {
    const ns = await vf.kubectl(['create', 'namespace', 'typed']);
    expect(ns.stderr).toBe('');
    expect(ns.stdout).toBe('namespace/typed created\n');
    const cm = await vf.kubectl(['create', 'configmap', 'settings', '-n', 'typed', '--from-literal=mode=fast']);
    expect(cm.stderr).toBe('');
    expect(cm.stdout).toBe('configmap/settings created\n');
    expect((await getJson(['configmap', 'settings', '-n', 'typed'])).data).toEqual({ mode: 'fast' });
  });

  it('kubectl delete namespace removes what it held; the namespace shows Terminating until then', async () => {
    const docs = yamlDocuments([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'doomed' }, data: { a: '1' } },
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'plain', namespace: 'doomed' }, spec: { size: 1 } },
      {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: 'held', namespace: 'doomed', finalizers: ['example.com/hold'] },
        spec: { size: 1 },
      },
    ]);
    expectOk(await vf.kubectl(['apply', '-f', '-'], { input: docs }));

    const del = expectOk(await vf.kubectl(['delete', 'namespace', 'doomed', '--wait=false']));
    expect(del.stdout).toBe('namespace "doomed" deleted\n');

    // The finalizer on `held` keeps the namespace Terminating.
    const shown = lines(expectOk(await vf.kubectl(['get', 'namespace', 'doomed'])).stdout);
    expect(shown[0]).toMatch(/^NAME\s+STATUS\s+AGE$/);
    expect(shown[1]).toMatch(/^doomed\s+Terminating\s+\d+s$/);

    // Nothing new may be created in it.
    const late = expectFailure(
      await vf.kubectl(['create', '-f', '-'], {
        input: yamlDocuments([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'late', namespace: 'doomed' }, spec: { size: 1 } }]),
      }),
    );
    expect(late.stderr).toBe(
      'Error from server (Forbidden): error when creating "STDIN": widgets.example.com "late" is forbidden: ' +
        'unable to create new content in namespace doomed because it is being terminated\n',
    );

    // The ConfigMap and the plain widget go; the held widget waits for its finalizer.
    const remaining = await eventually('the namespace content to be deleted', async () => {
      const out = lines(expectOk(await vf.kubectl(['get', 'widgets,configmaps', '-n', 'doomed', '-o', 'name'])).stdout);
      return out.length === 1 ? out : undefined;
    });
    expect(remaining).toEqual(['widget.example.com/held']);
    expect((await getJson(['wd', 'held', '-n', 'doomed'])).metadata.deletionTimestamp).toBeTruthy();
    expect((await getJson(['namespace', 'doomed'])).status.phase).toBe('Terminating');

    expectOk(
      await vf.kubectl(['patch', 'wd', 'held', '-n', 'doomed', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']),
    );
    expectOk(await vf.kubectl(['wait', '--for=delete', 'namespace/doomed', '--timeout=30s']));
    const gone = expectFailure(await vf.kubectl(['get', 'namespace', 'doomed']));
    expect(gone.stderr).toBe('Error from server (NotFound): namespaces "doomed" not found\n');
    const empty = expectOk(await vf.kubectl(['get', 'widgets,configmaps', '-n', 'doomed']));
    expect(empty.stderr).toBe('No resources found in doomed namespace.\n');
  });
});

describe('the virtflow up process', () => {
  it('stops cleanly on SIGTERM with exit code 0', async () => {
    const info = await vf.stop();
    expect(info).toEqual({ code: 0, signal: null });
    expect(vf.output()).toContain('SIGTERM: stopping VirtFlow...');
    expect(vf.output()).toMatch(/stopped\.\n$/);
    expect(vf.output()).not.toContain('error while stopping');
  });
});

// What an operator reads with kubectl, through real HTTP with the controllers running: who
// maintains what, both ways (status, labels, the assignment's columns); hosts by free capacity
// (labels in power-of-two buckets) with overcommitted capacity told apart from free hardware;
// and a VM whose external controller cannot be reached shown as not Ready in `get vm`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait.js';
import { GROUP, NS, condition, ok, startWorld, type World } from './lifecycle-harness.js';

let w: World;

beforeAll(async () => {
  w = await startWorld({ relay: true });
});

afterAll(async () => {
  await w?.stop();
});

const api = 'virtflow.io/v1alpha1';
const MERGE = { 'content-type': 'application/merge-patch+json' };
const TABLE = { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' };
const running = (vm: any) => vm.status?.phase === 'Running' && condition(vm, 'Ready')?.status === 'True';

async function waitFor(path: string, what: string, check: (obj: any) => boolean): Promise<any> {
  let last: any;
  await waitUntil(async () => {
    const res = await w.vf.call('GET', path);
    last = res.status === 200 ? res.body : undefined;
    return check(last);
  }, what).catch((err) => {
    throw new Error(`${(err as Error).message}\nlast: ${JSON.stringify({ labels: last?.metadata?.labels, status: last?.status }, null, 1)}`);
  });
  return last;
}

/** The cells of a server-side Table, by column name, per row name. */
async function table(path: string): Promise<Record<string, Record<string, unknown>>> {
  const t = ok(await w.vf.call('GET', path, undefined, TABLE), 200);
  const names = t.columnDefinitions.map((c: any) => c.name as string);
  return Object.fromEntries(t.rows.map((r: any) => [r.cells[0], Object.fromEntries(names.map((n: string, i: number) => [n, r.cells[i]]))]));
}

const names = (list: any) => (list.items as any[]).map((i) => i.metadata.name).sort();

describe('ownership both ways', () => {
  it('shows an object its maintainers (direct and through groups) and a maintainer what it looks after', async () => {
    for (const m of ['alice', 'bob']) ok(await w.vf.call('POST', `${GROUP}/maintainers`, { apiVersion: api, kind: 'Maintainer', metadata: { name: m }, spec: { account: m } }));
    ok(await w.vf.call('POST', `${GROUP}/maintainergroups`, { apiVersion: api, kind: 'MaintainerGroup', metadata: { name: 'sre' }, spec: { manager: 'bob', members: ['alice'] } }));
    await w.createVm('owned');
    const assign = (name: string, resource: Record<string, string>, spec: Record<string, unknown>) =>
      w.vf.call('POST', `${GROUP}/maintainerassignments`, { apiVersion: api, kind: 'MaintainerAssignment', metadata: { name }, spec: { resource, ...spec } });
    ok(await assign('h1-owner', { kind: 'Baremetal', name: 'h1' }, { maintainers: ['alice'] }));
    ok(await assign('vm-oncall', { kind: 'VirtualMachine', namespace: NS, name: 'owned' }, { groups: ['sre'], role: 'OnCall' }));

    const host = await waitFor(`${GROUP}/baremetals/h1`, 'h1 maintained by alice', (h) => h?.status?.maintainers?.length === 1);
    expect(host.status.maintainers).toEqual(['alice']);
    expect(host.metadata.labels['maintainer.virtflow.io/alice']).toBe('direct');
    const vm = await waitFor(`${GROUP}/namespaces/${NS}/virtualmachines/owned`, 'the VM maintained by sre', (v) => v?.status?.maintainers?.length === 2);
    expect(vm.status.maintainers).toEqual(['alice', 'bob']);
    expect(vm.metadata.labels).toMatchObject({ 'maintainer.virtflow.io/alice': 'group', 'maintainer.virtflow.io/bob': 'group' });

    // "What does alice look after": one label selector, any maintained kind.
    const selector = `?labelSelector=${encodeURIComponent('maintainer.virtflow.io/alice')}`;
    expect(names(ok(await w.vf.call('GET', `${GROUP}/baremetals${selector}`), 200))).toEqual(['h1']);
    expect(names(ok(await w.vf.call('GET', `${GROUP}/virtualmachines${selector}`), 200))).toEqual(['owned']);
    const alice = await waitFor(`${GROUP}/maintainers/alice`, 'alice maintains two objects', (m) => m?.status?.assignments === 2);
    expect(alice.status.maintains).toEqual([
      { kind: 'Baremetal', name: 'h1', role: 'Owner' },
      { kind: 'VirtualMachine', namespace: NS, name: 'owned', role: 'OnCall', via: 'sre' },
    ]);
    // kubectl get mta shows who.
    await waitFor(`${GROUP}/maintainerassignments/vm-oncall`, 'the assignment resolved', (a) => a?.status?.maintainers?.length === 2);
    expect((await table(`${GROUP}/maintainerassignments`))['vm-oncall']!.Maintainers).toBe('[alice bob]');

    // Leaving the group takes the VM off alice's list, label and all.
    ok(await w.vf.call('PATCH', `${GROUP}/maintainergroups/sre`, { spec: { members: [] } }, MERGE), 200);
    const after = await waitFor(`${GROUP}/namespaces/${NS}/virtualmachines/owned`, 'alice gone from the VM', (v) => v?.status?.maintainers?.length === 1);
    expect(after.status.maintainers).toEqual(['bob']);
    expect(after.metadata.labels['maintainer.virtflow.io/alice']).toBeUndefined();
    await waitFor(`${GROUP}/maintainers/alice`, 'alice maintains one object', (m) => m?.status?.assignments === 1);
  });
});

describe('free capacity', () => {
  it('labels hosts with free cores and memory in power-of-two buckets, and tells overcommitted capacity from free hardware', async () => {
    // h1 and h2 have 32 cores; the VM "owned" (2 cores) is on one of them.
    const vm = await w.waitVm('owned', 'Running', running);
    const busy = vm.status.placement.baremetal as string;
    const idle = busy === 'h1' ? 'h2' : 'h1';
    const hostBusy = await waitFor(`${GROUP}/baremetals/${busy}`, 'the free labels', (h) => h?.metadata.labels?.['free.virtflow.io/cpu'] === '16' && h?.status?.free?.cpu === 30);
    expect(hostBusy.metadata.labels['free.virtflow.io/memory-gi']).toBe('64');
    expect(hostBusy.status.physicalFree).toMatchObject({ cpu: 30, memory: '124Gi' });
    await waitFor(`${GROUP}/baremetals/${idle}`, 'the idle host labelled 32', (h) => h?.metadata.labels?.['free.virtflow.io/cpu'] === '32');
    const atLeast = async (n: number) => names(ok(await w.vf.call('GET', `${GROUP}/baremetals?labelSelector=${encodeURIComponent(`free.virtflow.io/cpu>${n - 1}`)}`), 200));
    expect(await atLeast(16)).toEqual(['h1', 'h2']);
    expect(await atLeast(32)).toEqual([idle]);

    // Overcommit doubles what can be placed, not the hardware.
    ok(await w.vf.call('PATCH', `${GROUP}/baremetalgroups/general`, { spec: { overcommit: { cpu: 2 } } }, MERGE), 200);
    const over = await waitFor(`${GROUP}/baremetals/${busy}`, 'free after overcommit', (h) => h?.status?.free?.cpu === 62);
    expect(over.status.physicalFree.cpu).toBe(30);
    await waitFor(`${GROUP}/baremetals/${busy}`, 'the label after overcommit', (h) => h?.metadata.labels?.['free.virtflow.io/cpu'] === '32');
    const row = (await table(`${GROUP}/baremetals`))[busy]!;
    expect([row['Free CPU'], row['Physical Free CPU']]).toEqual([62, 30]);
  });
});

describe('kubectl get vm', () => {
  it('shows Ready Unknown, with the reason, for a running VM whose external controller cannot be reached', async () => {
    expect((await table(`${GROUP}/namespaces/${NS}/virtualmachines`)).owned!.Ready).toBe('True');
    await w.relay!.close();
    await w.waitVm('owned', 'Ready Unknown', (v) => condition(v, 'Ready')?.status === 'Unknown');
    const row = (await table(`${GROUP}/namespaces/${NS}/virtualmachines?includeObject=None`)).owned!;
    expect(row).toMatchObject({ Phase: 'Running', Ready: 'Unknown', Reason: 'ProviderUnreachable' });
    await w.relay!.open();
    await w.waitVm('owned', 'Ready again', running);
  });
});

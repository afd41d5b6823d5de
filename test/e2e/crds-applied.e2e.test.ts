// crds/ as kubectl reads it (YAML 1.1): applied with `kubectl apply -f crds/` over the CRDs a
// running VirtFlow loaded itself, the definitions must mean the same, so the lab still
// converges. An unquoted enum value such as On once became the boolean true here, after which
// every VM's status write was refused and no VM became Ready. On that lab, the queries an
// operator runs with kubectl: what a maintainer looks after, hosts by free cores; and a host
// drained with `virtflow drain`, followed in `kubectl get bm -o wide`.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, repoRoot, startVirtflow, type VirtflowProcess } from '../support/kubectl.js';
import { expectOk, lines } from './support.js';

let vf: VirtflowProcess;

beforeAll(async () => {
  vf = await startVirtflow();
});

afterEach((context) => {
  if (context.task.result?.state === 'fail') process.stderr.write(`virtflow up output (last 4 KB):\n${vf?.output().slice(-4000)}\n`);
});

afterAll(async () => {
  await vf?.stop();
});

const get = async (args: string[], path: string) => expectOk(await vf.kubectl(['get', ...args, '-o', `jsonpath=${path}`])).stdout;

describe('kubectl apply -f crds/ on a running VirtFlow', () => {
  it('keeps every enum a list of strings, and the lab converges on the applied CRDs', async () => {
    expectOk(await vf.kubectl(['apply', '-f', 'crds/']));
    expect(await get(['crd', 'virtualmachines.virtflow.io'], '{.spec.versions[0].schema.openAPIV3Schema.properties.status.properties.powerState.enum}')).toBe('["On","Off"]');

    expectOk(await vf.kubectl(['apply', '-R', '-f', 'examples/lab/']));
    const simulator = await get(['externalcontroller', 'virtflow-simulator'], '{.spec.endpoint}');
    expectOk(await vf.kubectl(['patch', 'externalcontroller', 'vm-service-tw', '--type=merge', '-p', JSON.stringify({ spec: { endpoint: simulator } })]));
    const waited = await vf.kubectl(['wait', '--for=condition=Ready', 'vm', '--all', '-A', '--timeout=90s'], { timeoutMs: 100_000 });
    expect(waited.code, waited.stderr).toBe(0);
    expect(lines(await get(['vm', '-A'], '{range .items[*]}{.status.powerState}{"\\n"}{end}'))).toEqual(['On', 'On', 'On']);
  });

  it('answers "what does bob look after" with one kubectl query, and hosts by free cores with another', async () => {
    // bob is named on acme-web-1 and is a member of platform-team, which owns bm-tw-001.
    const bob = async () => lines(expectOk(await vf.kubectl(['get', 'bm,vm', '-A', '-l', 'maintainer.virtflow.io/bob', '-o', 'name'])).stdout).sort();
    const want = ['baremetal.virtflow.io/bm-tw-001', 'virtualmachine.virtflow.io/acme-web-1'];
    await eventually('bob\'s objects labelled', async () => ((await bob()).join() === want.join() ? true : undefined), 30_000, 200);
    await eventually('bob\'s assignments counted', async () => ((await get(['mt', 'bob'], '{.status.assignments}')) === '2' ? true : undefined), 30_000, 200);
    // The lab's hosts have 64 cores x 4 (tw-general's overcommit) or 96 (tw-gpu), minus what runs.
    const roomy = lines(expectOk(await vf.kubectl(['get', 'bm', '-l', 'free.virtflow.io/cpu>127', '-o', 'name'])).stdout);
    expect(roomy.length).toBeGreaterThan(0);
    expect(roomy).not.toContain('baremetal.virtflow.io/bm-tw-005');
  });

  it('drains a host with `virtflow drain`: its VM moves by live migration within its spread, and kubectl shows the drain', async () => {
    // The acme-web VM in rack r01 (the other runs in r02): r01's other host is where it may go.
    const webIn = async (rack: string) =>
      lines(await get(['vm', '-n', 'acme'], '{range .items[*]}{.metadata.name} {.status.placement.rack} {.status.placement.baremetal}{"\\n"}{end}'))
        .map((l) => l.split(' '))
        .find(([name, r]) => name!.startsWith('acme-web') && r === rack)!;
    const [vm, , from] = await webIn('tw-hsinchu-1-r01');
    const to = from === 'bm-tw-001' ? 'bm-tw-002' : 'bm-tw-001';
    const drain = await promisify(execFile)(process.execPath, ['bin/virtflow.js', 'drain', from!, '--kubeconfig', vf.kubeconfig, '--wait', '--timeout', '90'], { cwd: repoRoot }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e) => ({ code: e.code as number, out: `${e.stdout}${e.stderr}` }),
    );
    // globex-db-1 is pinned to bm-tw-001: that host stays Blocked by it, any other is Drained.
    if (from === 'bm-tw-001') {
      expect(drain, drain.out).toMatchObject({ code: 1, out: expect.stringContaining('globex/globex-db-1: PinnedToHost') });
    } else {
      expect(drain, drain.out).toMatchObject({ code: 0, out: expect.stringContaining(`Drained: No VM is left on ${from}; 1 moved.`) });
    }
    expect(await get(['vm', vm!, '-n', 'acme'], '{.status.placement.baremetal} {.status.migration.method} {.status.migration.state}')).toBe(`${to} Migrate Succeeded`);
    await eventually(`${vm} Ready again`, async () => ((await get(['vm', vm!, '-n', 'acme'], '{.status.conditions[?(@.type=="Ready")].status}')) === 'True' ? true : undefined), 30_000, 200);
    const wide = lines(expectOk(await vf.kubectl(['get', 'bm', from!, '-o', 'wide'])).stdout);
    expect(wide[0]).toMatch(/\bDRAIN\s+LEFT\b/);
    expect(wide[1]).toMatch(from === 'bm-tw-001' ? /\bBlocked\s+1\b/ : /\bDrained\s+0\b/);

    await promisify(execFile)(process.execPath, ['bin/virtflow.js', 'uncordon', from!, '--kubeconfig', vf.kubeconfig], { cwd: repoRoot });
    await eventually(`${from} drain status cleared`, async () => ((await get(['bm', from!], '{.status.drain}')) === '' ? true : undefined), 30_000, 200);
  });
});

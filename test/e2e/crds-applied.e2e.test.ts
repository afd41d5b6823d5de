// crds/ as kubectl reads it (YAML 1.1): applied with `kubectl apply -f crds/` over the CRDs a
// running VirtFlow loaded itself, the definitions must mean the same, so the lab still
// converges. An unquoted enum value such as On once became the boolean true here, after which
// every VM's status write was refused and no VM became Ready. On that lab, the queries an
// operator runs with kubectl: what a maintainer looks after, hosts by free cores.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startVirtflow, type VirtflowProcess } from '../support/kubectl.js';
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
});

// `virtflow up` logs at warn by default: what it prints there must be worth an operator's
// attention. Ordinary deletions (a VM, a tenant with everything it owns) and 404s for objects
// already gone print nothing at WARN, and no stack trace.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startVirtflow, type VirtflowProcess } from '../support/kubectl.js';
import { expectOk } from './support.js';

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

/** pino's JSON lines at warn (40) or above. */
const loud = (output: string) => output.split('\n').filter((l) => /"level":\s*(40|50|60)/.test(l) || /\n\s+at /.test(l));

describe('the logs of ordinary deletions', () => {
  it('hold nothing at WARN and no stack trace while the lab is applied, converges and is deleted again', { timeout: 240_000 }, async () => {
    expectOk(await vf.kubectl(['apply', '-R', '-f', 'examples/lab/']));
    const simulator = expectOk(await vf.kubectl(['get', 'externalcontroller', 'virtflow-simulator', '-o', 'jsonpath={.spec.endpoint}'])).stdout;
    expectOk(await vf.kubectl(['patch', 'externalcontroller', 'vm-service-tw', '--type=merge', '-p', JSON.stringify({ spec: { endpoint: simulator } })]));
    const waited = await vf.kubectl(['wait', '--for=condition=Ready', 'vm', '--all', '-A', '--timeout=90s'], { timeoutMs: 100_000 });
    expect(waited.code, waited.stderr).toBe(0);
    const before = vf.output().length;

    expectOk(await vf.kubectl(['delete', 'vm', '--all', '-n', 'acme', '--timeout=60s'], { timeoutMs: 70_000 }));
    expectOk(await vf.kubectl(['delete', 'vm', '--all', '-n', 'globex', '--timeout=60s'], { timeoutMs: 70_000 }));
    expectOk(await vf.kubectl(['delete', 'k8scluster', '--all', '-n', 'acme', '--timeout=60s'], { timeoutMs: 70_000 }));
    expectOk(await vf.kubectl(['delete', 'tenant', 'acme', '--timeout=60s'], { timeoutMs: 70_000 }));
    expectOk(await vf.kubectl(['wait', '--for=delete', 'namespace/acme', '--timeout=60s'], { timeoutMs: 70_000 }));
    // A 404 for an object already gone.
    expect((await vf.kubectl(['delete', 'vm', 'acme-web-1', '-n', 'acme'])).code).toBe(1);
    expectOk(await vf.kubectl(['delete', 'vmspec', 'c4m16-g2', '--timeout=60s'], { timeoutMs: 70_000 }));
    // Give the controllers a moment to act on the deletions (their logs are what is checked).
    expectOk(await vf.kubectl(['wait', '--for=delete', 'tenantquota/acme-tw-general', '--timeout=30s'], { timeoutMs: 40_000 }));

    expect(loud(vf.output().slice(before))).toEqual([]);
  });
});

// A Kubernetes cluster end to end with the real kubectl against `virtflow up` (its
// controllers and its simulator playing the VM service and the K8s Cluster Service): apply
// the lab and examples/clusters/, wait for the cluster to be Ready, scale its node pool while
// `kubectl get np -w` watches, and read the printer columns; the built cluster is a real
// (simulated) workload cluster that kubectl reaches with its kubeconfig Secret, a Node per VM.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runKubectl, startVirtflow, type VirtflowProcess } from '../support/kubectl.js';
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

const ns = ['-n', 'acme'];
const clusterKubeconfig = () => path.join(vf.home, 'acme-prod.kubeconfig');
/** The Node names of the built cluster, read by kubectl with the kubeconfig VirtFlow keeps for it. */
async function clusterNodes(): Promise<string[]> {
  const env = { ...process.env, KUBECONFIG: clusterKubeconfig(), KUBECACHEDIR: path.join(vf.home, 'acme-prod-kube-cache') };
  const out = expectOk(await runKubectl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}'], { env })).stdout;
  return lines(out).sort();
}

describe('a K8sCluster with kubectl', () => {
  it('kubectl apply examples/clusters/ on the lab, then kubectl wait --for=condition=Ready k8s/acme-prod', async () => {
    expectOk(await vf.kubectl(['apply', '-R', '-f', 'examples/lab/']));
    // The lab's VM service expects the simulator on 7480; this one listens on a free port.
    const simulator = expectOk(await vf.kubectl(['get', 'externalcontroller', 'virtflow-simulator', '-o', 'jsonpath={.spec.endpoint}'])).stdout;
    expectOk(await vf.kubectl(['patch', 'externalcontroller', 'vm-service-tw', '--type=merge', '-p', JSON.stringify({ spec: { endpoint: simulator } })]));
    const k8sService = expectOk(await vf.kubectl(['get', 'xc', 'virtflow-simulator-k8s', '-o', 'jsonpath={.spec.service}={.spec.endpoint}'])).stdout;
    expect(k8sService).toBe(`K8sCluster=${simulator}`);

    const applied = expectOk(await vf.kubectl(['apply', '-f', 'examples/clusters/']));
    expect(lines(applied.stdout).sort()).toEqual(['k8scluster.virtflow.io/acme-prod created', 'k8snodepool.virtflow.io/acme-prod-general created']);
    const waited = await vf.kubectl(['wait', '--for=condition=Ready', 'k8s/acme-prod', ...ns, '--timeout=120s'], { timeoutMs: 130_000 });
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stdout).toBe('k8scluster.virtflow.io/acme-prod condition met\n');

    const table = expectOk(await vf.kubectl(['get', 'k8s', 'acme-prod', ...ns])).stdout;
    expect(lines(table)[0]).toMatch(/^NAME\s+VERSION\s+PHASE\s+CONTROL PLANE\s+NODES\s+AGE$/);
    expect(lines(table)[1]).toMatch(/^acme-prod\s+v1\.30\.2\s+Active\s+3\/3\s+2\/2\s+/);
    const vms = expectOk(await vf.kubectl(['get', 'vm', ...ns, '-l', 'virtflow.io/cluster=acme-prod', '-o', 'jsonpath={range .items[*]}{.spec.role}{"\\n"}{end}'])).stdout;
    expect(lines(vms).sort()).toEqual(['ControlPlane', 'ControlPlane', 'ControlPlane', 'Worker', 'Worker']);
    const states = expectOk(
      await vf.kubectl(['get', 'k8s', 'acme-prod', ...ns, '-o', 'jsonpath={.status.serviceMeshes[0].mesh}/{.status.serviceMeshes[0].state} {.status.plugins[0].name}/{.status.plugins[0].state} {.status.network.cni}/{.status.network.state}']),
    ).stdout;
    expect(states).toBe('mesh-tw/active metrics-server/active cilium/active');
    const secret = expectOk(await vf.kubectl(['get', 'secret', 'acme-prod-kubeconfig', ...ns, '-o', 'jsonpath={.data.value}'])).stdout;
    expect(Buffer.from(secret, 'base64').toString()).toContain('kind: Config');
    // The kubeconfig is the built cluster's own: kubectl reaches it, a Node per VM.
    await writeFile(clusterKubeconfig(), Buffer.from(secret, 'base64'), { mode: 0o600 });
    const vmNames = lines(expectOk(await vf.kubectl(['get', 'vm', ...ns, '-l', 'virtflow.io/cluster=acme-prod', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}'])).stdout).sort();
    expect(await clusterNodes()).toEqual(vmNames);
  }, 240_000);

  it('kubectl scale np changes the pool while kubectl get np -w shows it', async () => {
    const watch = vf.kubectlBackground(['get', 'np', 'acme-prod-general', ...ns, '-w']);
    try {
      const first = await watch.waitFor(/^acme-prod-general\s+acme-prod\s+2\s+2\s+2\s+v1\.30\.2\s+/m);
      expect(lines(first)[0]).toMatch(/^NAME\s+CLUSTER\s+REPLICAS\s+READY\s+UP-TO-DATE\s+VERSION\s+AGE$/);
      const scaled = expectOk(await vf.kubectl(['scale', 'np/acme-prod-general', ...ns, '--replicas=3']));
      expect(scaled.stdout).toBe('k8snodepool.virtflow.io/acme-prod-general scaled\n');
      await watch.waitFor(/^acme-prod-general\s+acme-prod\s+3\s+3\s+3\s+v1\.30\.2\s+/m, 90_000);
      // The built cluster itself has the node more (3 control plane + 3 workers).
      await eventually('six Nodes in the built cluster', async () => ((await clusterNodes()).length === 6 ? true : undefined), 60_000, 200);
      expectOk(await vf.kubectl(['scale', 'np/acme-prod-general', ...ns, '--replicas=1']));
      await watch.waitFor(/^acme-prod-general\s+acme-prod\s+1\s+1\s+1\s+v1\.30\.2\s+/m, 90_000);
    } finally {
      await watch.kill();
    }
    // The pool counts the nodes that stay; the drained ones' VMs go right after.
    await eventually('one worker VM left', async () => {
      const workers = expectOk(await vf.kubectl(['get', 'vm', ...ns, '-l', 'virtflow.io/node-pool=acme-prod-general', '-o', 'name'])).stdout;
      return lines(workers).length === 1 ? true : undefined;
    }, 60_000, 200);
    const wait = await vf.kubectl(['wait', '--for=condition=Ready', 'k8s/acme-prod', ...ns, '--timeout=60s'], { timeoutMs: 70_000 });
    expect(wait.code, wait.stderr).toBe(0);
    await eventually('four Nodes in the built cluster', async () => ((await clusterNodes()).length === 4 ? true : undefined), 60_000, 200);
  }, 240_000);
});

import { describe, expect, it } from 'vitest';
import type { Baremetal } from '../../kinds/baremetal.js';
import type { K8sCluster } from '../../kinds/k8scluster.js';
import type { K8sNodePool } from '../../kinds/k8snodepool.js';
import type { VirtualMachine } from '../../kinds/virtualmachine.js';
import { controlPlaneSpread, nodeVm } from './nodes.js';
import { desiredCluster } from './reconciler.js';

const cluster = (spec: Partial<K8sCluster['spec']> = {}): K8sCluster =>
  ({ metadata: { name: 'prod', namespace: 'acme', uid: 'u-c' }, spec: { version: 'v1.30.2', ...spec } }) as K8sCluster;
const pool = (name: string, spec: Partial<K8sNodePool['spec']> = {}): K8sNodePool =>
  ({ metadata: { name, namespace: 'acme', uid: `u-${name}` }, spec: { cluster: 'prod', specification: 'small', ...spec } }) as K8sNodePool;
const host = (name: string, rack: string): Baremetal => ({ metadata: { name }, spec: { rack, group: 'general' } }) as Baremetal;
const build = { version: 'v1.30.2', specification: 'small', image: 'ubuntu', vmGroup: 'general' };

describe('nodeVm', () => {
  it('gives control-plane nodes one spread key per cluster and version, only when asked to spread', () => {
    const spread = nodeVm({ cluster: cluster(), group: { kind: 'ControlPlane' }, ...build, spreadAcross: 'Rack' });
    expect(spread.spec.placement).toEqual({ spreadAcross: 'Rack', spreadKey: 'acme/prod/control-plane/v1.30.2' });
    expect(spread.spec.role).toBe('ControlPlane');
    expect(spread.metadata.generateName).toBe('prod-cp-');
    expect(nodeVm({ cluster: cluster(), group: { kind: 'ControlPlane' }, ...build, spreadAcross: undefined }).spec.placement).toBeUndefined();
  });

  it.each([
    { mode: 'Binpack' as const, want: { strategy: 'Binpack' } },
    { mode: 'Spread' as const, want: { strategy: 'Spread' } },
    { mode: 'Manual' as const, want: undefined },
    { mode: undefined, want: undefined },
  ])('schedulingMode $mode sets the placement strategy of every node', ({ mode, want }) => {
    const vm = nodeVm({ cluster: cluster({ schedulingMode: mode }), group: { kind: 'Worker', pool: pool('web') }, ...build, spreadAcross: undefined });
    expect(vm.spec.placement).toEqual(want);
  });

  it('names a worker after its pool, not twice after its cluster, and has the pool own it', () => {
    const web = nodeVm({ cluster: cluster(), group: { kind: 'Worker', pool: pool('web') }, ...build, spreadAcross: undefined });
    expect(web.metadata.generateName).toBe('prod-web-');
    expect(web.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'K8sNodePool', name: 'web', uid: 'u-web', controller: true })]);
    expect(nodeVm({ cluster: cluster(), group: { kind: 'Worker', pool: pool('prod-gpu') }, ...build, spreadAcross: undefined }).metadata.generateName).toBe('prod-gpu-');
  });
});

describe('controlPlaneSpread', () => {
  it('keeps the nodes on distinct racks while the group has a rack for each, else on distinct hosts while it has a host for each', () => {
    const hosts = [host('h1', 'r1'), host('h2', 'r2'), host('h3', 'r2'), host('h4', 'r3')];
    expect(controlPlaneSpread(hosts, 3)).toBe('Rack');
    expect(controlPlaneSpread(hosts, 4)).toBe('Host');
    expect(controlPlaneSpread(hosts, 5)).toBeUndefined();
    // One node spreads too: the nodes a later scale-up adds are kept apart from it.
    expect(controlPlaneSpread(hosts, 1)).toBe('Rack');
    expect(controlPlaneSpread([], 3)).toBeUndefined();
  });

  it('puts a Host spread on the control-plane VM', () => {
    expect(nodeVm({ cluster: cluster(), group: { kind: 'ControlPlane' }, ...build, spreadAcross: 'Host' }).spec.placement).toEqual({ spreadAcross: 'Host', spreadKey: 'acme/prod/control-plane/v1.30.2' });
  });
});

describe('desiredCluster', () => {
  const vm = (name: string, role: 'ControlPlane' | 'Worker', poolName?: string): VirtualMachine =>
    ({
      metadata: { name, namespace: 'acme', creationTimestamp: '2026-01-01T00:00:00Z', labels: { 'virtflow.io/k8s-version': 'v1.30.2', ...(poolName ? { 'virtflow.io/node-pool': poolName } : {}) } },
      spec: { role },
      status: { phase: 'Running', addresses: [{ type: 'InternalIP', address: `10.0.0.${name.length}` }] },
    }) as unknown as VirtualMachine;

  it('hands each worker its pool\'s node labels and taints, and changes the revision when they change', () => {
    const gpu = pool('gpu', { labels: { accelerator: 'a100' }, taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] });
    const vms = [vm('w-1', 'Worker', 'gpu'), vm('cp-1', 'ControlPlane'), vm('w-2', 'Worker', 'web')];
    const request = desiredCluster(cluster(), vms, 'v1.30.2', [gpu, pool('web')]);
    expect(request.nodes.map((n) => n.name)).toEqual(['cp-1', 'w-1', 'w-2']);
    expect(request.nodes[1]).toMatchObject({ pool: 'gpu', labels: { accelerator: 'a100' }, taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] });
    expect(request.nodes[2]).not.toHaveProperty('labels');
    expect(request.nodes[2]).not.toHaveProperty('taints');
    const relabelled = desiredCluster(cluster(), vms, 'v1.30.2', [pool('gpu', { labels: { accelerator: 'h100' } }), pool('web')]);
    expect(relabelled.revision).not.toBe(request.revision);
  });
});

import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../runtime/testing.js';
import type { ClusterRequest } from '../cluster-protocol.js';
import { ClusterSimulation } from './cluster-service.js';
import { seededRandom } from './random.js';

const request = (nodes: ClusterRequest['nodes'], revision = nodes.map((n) => n.name).join(',')): ClusterRequest => ({
  namespace: 'acme',
  name: 'prod',
  revision,
  version: 'v1.30.2',
  network: { cni: 'cilium' },
  plugins: [{ name: 'metrics-server', enabled: true }, { name: 'old', enabled: false }],
  serviceMeshes: [{ mesh: 'mesh-tw', role: 'primary' }],
  nodes,
});
const cp = (name: string, version = 'v1.30.2') => ({ name, role: 'ControlPlane' as const, version, address: `10.0.0.${name.length}` });
const worker = (name: string, version = 'v1.30.2') => ({ name, role: 'Worker' as const, version });

function world(failureRate = 0) {
  const clock = new FakeClock();
  const sim = new ClusterSimulation({ clock, random: seededRandom(1), failureRate, latencyMs: { bootstrap: 100, join: 50, drain: 30, teardown: 20 } });
  return { clock, sim, states: () => Object.fromEntries(sim.observe('u1').nodes.map((n) => [n.name, n.state])) };
}

describe('the simulated K8s Cluster Service', () => {
  it('knows nothing of a uid it was never given', () => {
    expect(world().sim.observe('nope')).toEqual({ uid: 'nope', exists: false, nodes: [], plugins: [], serviceMeshes: [] });
  });

  it('bootstraps on the first control-plane node, joins the rest, then reports the cluster Running', () => {
    const { clock, sim, states } = world();
    sim.apply('u1', request([cp('cp-1'), worker('w-1')]));
    expect(sim.observe('u1')).toMatchObject({ exists: true, phase: 'Bootstrapping', apiServer: 'https://10.0.0.4:6443' });
    expect(states()).toEqual({ 'cp-1': 'Joining', 'w-1': 'Joining' });
    clock.advance(50);
    expect(states()).toEqual({ 'cp-1': 'Joining', 'w-1': 'Ready' });
    clock.advance(50);
    const obs = sim.observe('u1');
    expect(states()).toEqual({ 'cp-1': 'Ready', 'w-1': 'Ready' });
    expect(obs).toMatchObject({ phase: 'Running', version: 'v1.30.2', reachable: true, cni: { name: 'cilium', state: 'active' } });
    expect(obs.plugins).toEqual([{ name: 'metrics-server', state: 'active' }, { name: 'old', state: 'inactive' }]);
    expect(obs.serviceMeshes).toEqual([{ mesh: 'mesh-tw', role: 'primary', state: 'active' }]);
    expect(obs.kubeconfig).toContain('server: https://10.0.0.4:6443');
  });

  it('drains a node no longer listed, then forgets it; a repeated revision changes nothing', () => {
    const { clock, sim, states } = world();
    sim.apply('u1', request([cp('cp-1'), worker('w-1')]));
    clock.advance(100);
    sim.apply('u1', request([cp('cp-1')]));
    sim.apply('u1', request([cp('cp-1')]));
    expect(states()).toEqual({ 'cp-1': 'Ready', 'w-1': 'Draining' });
    expect(sim.counts).toMatchObject({ applies: 2, drains: 1 });
    clock.advance(30);
    expect(states()).toEqual({ 'cp-1': 'Ready' });
  });

  it('never makes a node of a failing version Ready', () => {
    const { clock, sim, states } = world();
    sim.failVersions.add('v1.31.0');
    sim.apply('u1', request([cp('cp-1'), cp('cp-2', 'v1.31.0')]));
    clock.advance(100);
    expect(states()).toEqual({ 'cp-1': 'Ready', 'cp-2': 'Failed' });
    expect(sim.observe('u1').nodes.find((n) => n.name === 'cp-2')?.message).toBe('simulated failure: the kubelet v1.31.0 does not start');
  });

  it('fails joins at the injected rate', () => {
    const { clock, sim } = world(1);
    sim.apply('u1', request([cp('cp-1')]));
    clock.advance(100);
    expect(sim.observe('u1').nodes[0]).toMatchObject({ state: 'Failed', message: 'simulated failure (rate 1): the node could not join' });
  });

  it('tears a cluster down after its latency', () => {
    const { clock, sim } = world();
    sim.apply('u1', request([cp('cp-1')]));
    expect(sim.teardown('u1')).toBe(true);
    expect(sim.observe('u1').phase).toBe('TearingDown');
    clock.advance(20);
    expect(sim.observe('u1').exists).toBe(false);
    expect(sim.teardown('u1')).toBe(false);
  });

  it('takes its clusters back after a restart: ready nodes stay, a join or drain in flight starts over, a teardown finishes', () => {
    const before = world();
    before.sim.apply('u1', request([cp('cp-1'), worker('w-1')]));
    before.clock.advance(100);
    before.sim.apply('u1', request([cp('cp-1'), worker('w-2')]));
    before.sim.apply('u2', request([cp('cp-1')]));
    before.sim.teardown('u2');
    // Saved as the file holds it: JSON, no timers.
    const saved = JSON.parse(JSON.stringify(before.sim.exportState()));
    before.sim.stop();

    const after = world();
    after.sim.importState(saved);
    expect(after.states()).toEqual({ 'cp-1': 'Ready', 'w-1': 'Draining', 'w-2': 'Joining' });
    expect(after.sim.observe('u1')).toMatchObject({ phase: 'Running', revision: 'cp-1,w-2' });
    expect(after.sim.observe('u2').phase).toBe('TearingDown');
    after.clock.advance(50);
    expect(after.states()).toEqual({ 'cp-1': 'Ready', 'w-2': 'Ready' });
    expect(after.sim.observe('u2').exists).toBe(false);
    // A repeated request of the same revision is still nothing new.
    after.sim.apply('u1', request([cp('cp-1'), worker('w-2')]));
    expect(after.sim.counts.applies).toBe(0);
  });
});

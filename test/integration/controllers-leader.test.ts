// Two controller processes with Lease leader election against one server: only the leader
// reconciles (the follower's caches are warm but its controllers never run, and every Event
// names the leader as its reporting instance), and when the leader dies without handing the
// Lease over, the follower takes over once the Lease expires and places what comes next.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeaderElectionConfig } from '../../src/runtime/manager.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  baremetal,
  create,
  createAll,
  datacenter,
  flavor,
  get,
  group,
  image,
  inParallel,
  list,
  namespace,
  overbookings,
  placedOn,
  quota,
  rack,
  readWorld,
  reconcileCount,
  runControllers,
  tenant,
  vm,
  waitUntil,
} from './placement-support.js';

const leaseName = 'virtflow-controller';
const leaseNamespace = 'virtflow-system';
// Short timings so a takeover fits in a test; the ratios are client-go's (15 s / 10 s / 2 s).
const timings = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 400 };

let vf: TestServer;
const running: ReturnType<typeof runControllers>[] = [];

beforeAll(async () => {
  vf = await startTestServer();
  await createAll(vf, [
    datacenter('dc-1', 'north'),
    rack('rack-1', 'dc-1'),
    group('general', { strategy: 'Spread' }),
    ...[1, 2, 3, 4].map((i) => baremetal(`bm-${i}`, 'rack-1', 'general', { cpu: 32, memory: '128Gi', storage: '2Ti' })),
    flavor('small', 1, '2Gi', '10Gi'),
    image('ubuntu'),
    tenant('acme'),
    namespace('acme'),
    quota('acme-general', 'acme', 'general', { cpu: 100 }),
  ]);
});

afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
  await vf?.stop();
});

function candidate(identity: string, election: Partial<LeaderElectionConfig> = {}) {
  const r = runControllers(vf, { leaderElection: { namespace: leaseNamespace, name: leaseName, identity, ...timings, ...election } });
  running.push(r);
  return r;
}

const lease = () => get(vf, 'leases', leaseName, leaseNamespace);
const vmsNamed = async (prefix: string) => (await list(vf, 'virtualmachines', 'acme')).filter((v) => v.metadata.name.startsWith(prefix));
const controllersThatReconciled = async (registry: Parameters<typeof reconcileCount>[0]) => {
  const names = ['virtualmachine', 'baremetal', 'baremetalgroup', 'tenant', 'tenantquota', 'datacenter', 'rack'];
  const counts = await Promise.all(names.map(async (n) => [n, await reconcileCount(registry, n)] as const));
  return counts.filter(([, n]) => n > 0).map(([n]) => n);
};

describe('two controller processes with leader election', () => {
  it('only the leader reconciles, and the other takes over when the leader dies', async () => {
    // No handing over on the way out: stopping this one is a death, as far as the Lease knows.
    const first = candidate('controller-a', { releaseOnCancel: false });
    await waitUntil(async () => (await lease().catch(() => undefined))?.spec?.holderIdentity === 'controller-a', 'controller-a to hold the Lease');
    const second = candidate('controller-b');

    await inParallel([1, 2, 3, 4, 5, 6, 7, 8], 8, (i) => create(vf, vm('acme', `before-${i}`, { specification: 'small', group: 'general' })));
    await waitUntil(async () => (await vmsNamed('before-')).every((v) => placedOn(v)), 'the first VMs to be placed by the leader');
    // Both processes have synced caches by now: the follower just does not reconcile.
    await waitUntil(async () => (await controllersThatReconciled(first.registry)).includes('virtualmachine'), 'the leader to count its reconciles');
    expect(await controllersThatReconciled(second.registry)).toEqual([]);
    expect((await lease()).spec.holderIdentity).toBe('controller-a');
    const scheduledBy = async (prefix: string) => {
      const events = (await list(vf, 'events', 'acme')).filter((e) => e.reason === 'Scheduled' && e.involvedObject.name.startsWith(prefix));
      return { vms: new Set(events.map((e) => e.involvedObject.name)).size, instances: [...new Set(events.map((e) => e.reportingInstance))] };
    };
    await waitUntil(async () => (await scheduledBy('before-')).vms === 8, 'a Scheduled Event for each of the first VMs');
    expect(await scheduledBy('before-')).toEqual({ vms: 8, instances: ['controller-a'] });

    // The leader dies. Its Lease is not released, so the follower must wait it out.
    const transitionsBefore = (await lease()).spec.leaseTransitions ?? 0;
    const diedAt = Date.now();
    await first.stop();
    await inParallel([1, 2, 3, 4, 5, 6, 7, 8], 8, (i) => create(vf, vm('acme', `after-${i}`, { specification: 'small', group: 'general' })));
    await waitUntil(async () => (await vmsNamed('after-')).every((v) => placedOn(v)), 'the VMs created after the leader died to be placed', 30_000);
    const takeover = await lease();
    expect(takeover.spec.holderIdentity).toBe('controller-b');
    expect(takeover.spec.leaseTransitions).toBe(transitionsBefore + 1);
    // Not before the dead leader's Lease ran out.
    expect(Date.now() - diedAt).toBeGreaterThanOrEqual(timings.leaseDurationMs);
    expect(await controllersThatReconciled(second.registry)).toContain('virtualmachine');
    await waitUntil(async () => (await scheduledBy('after-')).vms === 8, 'a Scheduled Event for each of the later VMs');
    expect(await scheduledBy('after-')).toEqual({ vms: 8, instances: ['controller-b'] });

    const world = await readWorld(vf);
    expect(world.vms.filter((v) => placedOn(v))).toHaveLength(16);
    expect(overbookings(world, { 'acme/general': { cpu: 100 } })).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { Plugin } from './framework.js';
import { schedule, type ScheduleResult } from './schedule.js';
import { group, host, quota, snapshot, vm } from './testing/builders.js';
import type { Snapshot } from './types.js';

/** What a case checks: the chosen host, or the exact diagnosis message. */
function outcome(result: ScheduleResult): string {
  return result.ok ? `placed on ${result.host}` : result.diagnosis.message;
}

const general = () => group('general');
const openQuota = () => quota('acme', 'general');

describe('schedule', () => {
  const cases: { name: string; snap: Snapshot; req: ReturnType<typeof vm>; want: string }[] = [
    {
      name: 'Binpack picks the most allocated host that still fits.',
      snap: snapshot()
        .hosts(host('bm-1').allocated({ cpu: 8 }), host('bm-2').allocated({ cpu: 40 }), host('bm-3').allocated({ cpu: 63 }))
        .groups(general().strategy('Binpack'))
        .quotas(openQuota())
        .build(),
      req: vm('acme/web').cpu(2),
      want: 'placed on bm-2',
    },
    {
      name: 'Spread picks the least allocated host.',
      snap: snapshot()
        .hosts(host('bm-1').allocated({ cpu: 8 }), host('bm-2').allocated({ cpu: 40 }), host('bm-3').allocated({ cpu: 4 }))
        .groups(group('general').strategy('Spread'))
        .quotas(openQuota())
        .build(),
      req: vm('acme/web').cpu(2),
      want: 'placed on bm-3',
    },
    {
      name: 'The VM strategy overrides the group strategy.',
      snap: snapshot()
        .hosts(host('bm-1').allocated({ cpu: 8 }), host('bm-2').allocated({ cpu: 40 }))
        .groups(group('general').strategy('Binpack'))
        .quotas(openQuota())
        .build(),
      req: vm('acme/web').strategy('Spread'),
      want: 'placed on bm-1',
    },
    {
      name: 'Equal scores go to the host with the lowest name, whatever the snapshot order.',
      snap: snapshot().hosts(host('bm-c'), host('bm-a'), host('bm-b')).groups(general()).quotas(openQuota()).build(),
      req: vm('acme/web'),
      want: 'placed on bm-a',
    },
    {
      name: 'A pinned VM goes to its host even when Binpack would prefer another.',
      snap: snapshot()
        .hosts(host('bm-1'), host('bm-2').allocated({ cpu: 60 }))
        .groups(general())
        .quotas(openQuota())
        .build(),
      req: vm('acme/web').pin('bm-1'),
      want: 'placed on bm-1',
    },
    {
      name: 'A pinned VM without a group is charged to its host group quota.',
      snap: snapshot().hosts(host('bm-1').group('gpu'), host('bm-2')).quotas(quota('acme', 'gpu')).build(),
      req: vm('acme/web').group(undefined).pin('bm-1'),
      want: 'placed on bm-1',
    },
    {
      name: 'A pinned host that fails a filter is refused with that filter reason.',
      snap: snapshot().hosts(host('bm-1').phase('Maintenance'), host('bm-2')).groups(general()).quotas(openQuota()).build(),
      req: vm('acme/web').pin('bm-1'),
      want: '0/2 hosts fit: 1 host(s) in maintenance, 1 not the pinned host',
    },
    {
      name: 'A VM pinned to a host missing from the inventory fits nowhere.',
      snap: snapshot().hosts(host('bm-1'), host('bm-2')).groups(general()).quotas(openQuota()).build(),
      req: vm('acme/web').pin('bm-9'),
      want: '0/2 hosts fit: 2 not the pinned host',
    },
    {
      name: 'A host failing several filters counts only under the first one it failed.',
      snap: snapshot()
        .hosts(host('bm-1').phase('Maintenance').rack('rack-q').allocated({ cpu: 64 }), host('bm-2').rack('rack-q').allocated({ cpu: 64 }))
        .groups(general())
        .quotas(openQuota())
        .build(),
      req: vm('acme/web').racks('rack-1'),
      want: '0/2 hosts fit: 1 host(s) in maintenance, 1 host(s) outside requested racks',
    },
    {
      name: 'The diagnosis counts insufficient capacity, maintenance and quota across hosts.',
      snap: snapshot()
        .hosts(
          ...['c1', 'c2', 'c3', 'c4', 'c5'].map((n) => host(n).allocated({ cpu: 63 })),
          ...['m1', 'm2', 'm3', 'm4'].map((n) => host(n).phase('Maintenance')),
          ...['q1', 'q2', 'q3'].map((n) => host(n).rack('rack-q')),
        )
        .groups(general())
        .quotas(openQuota())
        .build(),
      req: vm('acme/web').cpu(2).racks('rack-1'),
      want: '0/12 hosts fit: 5 Insufficient cpu, 4 host(s) in maintenance, 3 host(s) outside requested racks',
    },
    {
      name: 'A tenant with no quota in the group is told so for every host of the group.',
      snap: snapshot().hosts(host('bm-1'), host('bm-2')).groups(general()).quotas(quota('acme', 'other')).build(),
      req: vm('acme/web'),
      want: '0/2 hosts fit: 2 no tenant quota in group',
    },
    {
      name: 'A tenant over quota is told so before the hosts are found full.',
      snap: snapshot()
        .hosts(host('bm-1').allocated({ cpu: 64 }), host('bm-2'))
        .groups(general())
        .quotas(quota('acme', 'general').limits({ cpu: 10 }).used({ cpu: 9 }))
        .build(),
      req: vm('acme/web').cpu(2),
      want: '0/2 hosts fit: 2 over tenant quota',
    },
    {
      name: 'A host short of several resources counts once under each of them.',
      snap: snapshot().hosts(host('bm-1').allocated({ cpu: 64, memory: '256Gi' })).groups(general()).quotas(openQuota()).build(),
      req: vm('acme/web'),
      want: '0/1 hosts fit: 1 Insufficient cpu, 1 Insufficient memory',
    },
    {
      name: 'Overcommit lets a VM onto a host whose raw capacity is used up.',
      snap: snapshot()
        .hosts(host('bm-1').allocated({ cpu: 64 }))
        .groups(group('general').overcommit({ cpu: 2 }))
        .quotas(openQuota())
        .build(),
      req: vm('acme/web').cpu(8),
      want: 'placed on bm-1',
    },
    {
      name: 'A rack reserved for other tenants is skipped for one that is open.',
      snap: snapshot()
        .hosts(host('bm-1').allocated({ cpu: 60 }).allowTenants('globex'), host('bm-2'))
        .groups(general())
        .quotas(openQuota())
        .build(),
      req: vm('acme/web'),
      want: 'placed on bm-2',
    },
    {
      name: 'A spread VM avoids the rack of its peers even when Binpack prefers it.',
      snap: snapshot()
        .hosts(host('bm-1').rack('r-1').allocated({ cpu: 60 }), host('bm-2').rack('r-2'))
        .groups(general())
        .quotas(openQuota())
        .spreadMembers('db', { racks: ['r-1'], datacenters: ['dc-1'] })
        .build(),
      req: vm('acme/db-2').spread('Rack', 'db'),
      want: 'placed on bm-2',
    },
    {
      name: 'A spread VM whose every rack is taken cannot be placed.',
      snap: snapshot()
        .hosts(host('bm-1').rack('r-1'), host('bm-2').rack('r-2'))
        .groups(general())
        .quotas(openQuota())
        .spreadMembers('db', { racks: ['r-1', 'r-2'] })
        .build(),
      req: vm('acme/db-3').spread('Rack', 'db'),
      want: '0/2 hosts fit: 2 host(s) would break spread',
    },
    {
      name: 'A gpu VM goes to the host with free gpus.',
      snap: snapshot().hosts(host('bm-1'), host('bm-2').gpu(2).allocated({ gpu: 1 }), host('bm-3').gpu(8)).groups(general()).quotas(openQuota()).build(),
      req: vm('acme/ml').gpu(1),
      want: 'placed on bm-2',
    },
    {
      name: 'A VM spread across datacenters avoids every rack of a datacenter its peers use.',
      snap: snapshot()
        .hosts(host('bm-1').datacenter('dc-1').rack('r-1'), host('bm-2').datacenter('dc-1').rack('r-2').allocated({ cpu: 60 }), host('bm-3').datacenter('dc-2').rack('r-3'))
        .groups(general())
        .quotas(openQuota())
        .spreadMembers('db', { racks: ['r-1'], datacenters: ['dc-1'] })
        .build(),
      req: vm('acme/db-2').spread('Datacenter', 'db'),
      want: 'placed on bm-3',
    },
    {
      name: 'Spread breaks ties by the lowest name too.',
      snap: snapshot().hosts(host('bm-b'), host('bm-c'), host('bm-a')).groups(group('general').strategy('Spread')).quotas(openQuota()).build(),
      req: vm('acme/web'),
      want: 'placed on bm-a',
    },
    {
      name: 'Hosts of other groups count as not in group beside the reasons of the group hosts.',
      snap: snapshot()
        .hosts(host('bm-1'), host('bm-2'), host('gpu-1').group('gpu'), host('gpu-2').group('gpu'), host('gpu-3').group('gpu'))
        .groups(general())
        .quotas(quota('acme', 'general').limits({ cpu: 4 }).used({ cpu: 4 }))
        .build(),
      req: vm('acme/web').cpu(2),
      want: '0/5 hosts fit: 3 host(s) not in group, 2 over tenant quota',
    },
    {
      name: 'A host in a rack reserved for other tenants is refused even when it is the only one with room.',
      snap: snapshot()
        .hosts(host('bm-1').allowTenants('globex'), host('bm-2').allocated({ cpu: 64 }))
        .groups(general())
        .quotas(openQuota())
        .build(),
      req: vm('acme/web'),
      want: '0/2 hosts fit: 1 Insufficient cpu, 1 host(s) not allowed for tenant',
    },
    {
      name: 'A Binpack VM in a Spread group packs, without changing how the other VMs spread.',
      snap: snapshot()
        .hosts(host('bm-1').allocated({ cpu: 8 }), host('bm-2').allocated({ cpu: 40 }))
        .groups(group('general').strategy('Spread'))
        .quotas(openQuota())
        .build(),
      req: vm('acme/web').strategy('Binpack'),
      want: 'placed on bm-2',
    },
    {
      name: 'An empty inventory places nothing.',
      snap: snapshot().groups(general()).quotas(openQuota()).build(),
      req: vm('acme/web'),
      want: '0/0 hosts fit',
    },
  ];

  it.each(cases)('$name', ({ snap, req, want }) => {
    expect(outcome(schedule(snap, req.build()))).toBe(want);
  });

  it('A placement explains its strategy, score and what was filtered, and returns the chosen score.', () => {
    const snap = snapshot()
      .hosts(host('bm-1').cpu(10).memory('10Gi').storage('10Gi'), host('bm-2').phase('Offline'))
      .groups(general())
      .quotas(openQuota())
      .build();
    const result = schedule(snap, vm('acme/web').cpu(1).memory('1Gi').storage('1Gi').build());
    expect(result).toEqual({
      ok: true,
      host: 'bm-1',
      score: expect.closeTo(10, 9),
      explanation: {
        strategy: 'Binpack',
        feasibleHosts: 1,
        totalHosts: 2,
        filtered: new Map([['host(s) offline', 1]]),
        message: 'bm-1 chosen by Binpack with score 10.0; 1/2 hosts fit; filtered: 1 host(s) offline',
      },
    });
  });

  it('The diagnosis is unresolvable when no host could ever take the VM, and resolvable when one could.', () => {
    const never = snapshot().hosts(host('bm-1').phase('Offline')).groups(general()).quotas(openQuota()).build();
    const later = snapshot().hosts(host('bm-1').allocated({ cpu: 64 })).groups(general()).quotas(openQuota()).build();
    const code = (s: Snapshot) => {
      const r = schedule(s, vm('acme/web').build());
      return r.ok ? 'placed' : r.diagnosis.code;
    };
    expect([code(never), code(later)]).toEqual(['UnschedulableAndUnresolvable', 'Unschedulable']);
  });

  it('A filter error fails the decision even when another host fits.', () => {
    const broken: Plugin = {
      name: 'Broken',
      filter: (_ctx, _req, h) => (h.name === 'bm-2' ? { code: 'Error', reasons: ['cannot read host'] } : null),
    };
    const snap = snapshot().hosts(host('bm-1'), host('bm-2')).build();
    const result = schedule(snap, vm('acme/web').build(), [broken]);
    expect(result).toEqual({
      ok: false,
      diagnosis: { code: 'Error', counts: new Map([['cannot read host', 1]]), message: '0/2 hosts fit: 1 cannot read host' },
    });
  });

  it('The scores of several scorers are averaged, so the chosen score stays within 0 to 100.', () => {
    const always100: Plugin = { name: 'Always100', score: () => 100 };
    const byName: Plugin = { name: 'ByName', score: (_ctx, _req, h) => (h.name === 'bm-2' ? 50 : 0) };
    const snap = snapshot().hosts(host('bm-1'), host('bm-2')).build();
    const result = schedule(snap, vm('acme/web').build(), [always100, byName]);
    expect(result.ok && { host: result.host, score: result.score }).toEqual({ host: 'bm-2', score: 75 });
  });

  it('Scheduling never changes the snapshot it is given.', () => {
    const snap = snapshot()
      .hosts(host('bm-1'), host('bm-2').allocated({ cpu: 30 }))
      .groups(general())
      .quotas(openQuota().limits({ cpu: 100 }))
      .spreadMembers('db', { racks: ['rack-9'] })
      .build();
    const before = structuredClone(snap);
    const result = schedule(snap, vm('acme/web').spread('Rack', 'db').build());
    expect(result.ok).toBe(true);
    expect(snap).toEqual(before);
  });
});

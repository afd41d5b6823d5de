// Filter reasons are fixed strings so the diagnosis can count identical ones across hosts
// ("0/12 hosts fit: 5 Insufficient cpu, ..."). Never put a name or a value in a reason:
// detail belongs in the explanation message.

export const Reason = {
  NotPinnedHost: 'not the pinned host',
  NotInGroup: 'host(s) not in group',
  InMaintenance: 'host(s) in maintenance',
  Offline: 'host(s) offline',
  NotReady: 'host(s) not ready',
  TenantNotAllowed: 'host(s) not allowed for tenant',
  OutsideRegions: 'host(s) outside requested regions',
  OutsideDatacenters: 'host(s) outside requested datacenters',
  OutsideRacks: 'host(s) outside requested racks',
  WouldBreakSpread: 'host(s) would break spread',
  InsufficientCpu: 'Insufficient cpu',
  InsufficientMemory: 'Insufficient memory',
  InsufficientStorage: 'Insufficient storage',
  InsufficientGpu: 'Insufficient gpu',
  NoTenantQuota: 'no tenant quota in group',
  OverTenantQuota: 'over tenant quota',
} as const;

export type ReasonText = (typeof Reason)[keyof typeof Reason];

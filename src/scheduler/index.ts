// Placement: a pure scheduler over a snapshot of hosts, groups, quotas and spread members.

export type {
  GroupInfo,
  HostInfo,
  HostPhase,
  OvercommitRatios,
  PlacementRequest,
  QuotaInfo,
  QuotaLimits,
  ResourceName,
  Resources,
  Snapshot,
  SpreadAcross,
  SpreadUsage,
  Strategy,
} from './types.js';
export { defaultOvercommit, defaultStrategy, resourceNames, zeroResources } from './types.js';
export type { ClusterView, FilterAll, FilterCode, FilterStatus, HostVectors, Plugin, ScoreAll, SpreadSets } from './framework.js';
export { maxScore } from './framework.js';
export { Reason, type ReasonText } from './reasons.js';
export { allocatable } from './resources.js';
export { formatReasons, unschedulableMessage } from './diagnosis.js';
export { schedule, scheduleMany, type Diagnosis, type Explanation, type ScheduleResult } from './schedule.js';
export { WorkingSnapshot, assume } from './working-snapshot.js';
export { lowerBoundHosts } from './lower-bound.js';
export { defaultPlugins } from './plugins/index.js';

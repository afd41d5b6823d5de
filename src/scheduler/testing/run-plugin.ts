// Runs one plugin against one host of a snapshot, as schedule() would.

import type { FilterStatus, Plugin } from '../framework.js';
import type { HostInfo, PlacementRequest, Snapshot } from '../types.js';
import { WorkingSnapshot } from '../working-snapshot.js';

export function filterHost(plugin: Plugin, snap: Snapshot, req: PlacementRequest, hostName?: string): FilterStatus | null {
  const view = new WorkingSnapshot(snap);
  const target = pick(view, hostName);
  return plugin.filter!(view, req, target);
}

export function scoreHost(plugin: Plugin, snap: Snapshot, req: PlacementRequest, hostName?: string): number {
  const view = new WorkingSnapshot(snap);
  return plugin.score!(view, req, pick(view, hostName));
}

function pick(view: WorkingSnapshot, hostName: string | undefined): HostInfo {
  const target = hostName === undefined ? view.hosts[0] : view.host(hostName);
  if (!target) throw new Error('test fixture has no such host');
  return target;
}

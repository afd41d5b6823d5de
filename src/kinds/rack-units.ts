// Where hosts sit in a rack: a host occupies units unit .. unit + heightUnits - 1, which must
// lie inside the rack (1 .. rack.heightUnits), and no two hosts of a rack share a unit. One
// reading of the rule for admission (which refuses it when the rack is known) and for the
// controllers (which report it as a condition when the rack arrives later).
import type { Baremetal } from './baremetal.js';
import type { Rack } from './rack.js';

export const DEFAULT_RACK_HEIGHT = 42;

export interface UnitRange {
  host: string;
  from: number;
  to: number;
}

/** The units a host occupies, or undefined when it has no unit. */
export function unitRange(host: Pick<Baremetal, 'metadata' | 'spec'>): UnitRange | undefined {
  const unit = host.spec?.unit;
  if (unit === undefined) return undefined;
  return { host: host.metadata.name ?? '', from: unit, to: unit + (host.spec.heightUnits ?? 1) - 1 };
}

export function rackHeight(rack: Pick<Rack, 'spec'>): number {
  return rack.spec?.heightUnits ?? DEFAULT_RACK_HEIGHT;
}

/** "bm-9 occupies units 60-60, beyond the 42 units of rack rk-1", when it does. */
export function beyondRack(range: UnitRange, rack: Pick<Rack, 'metadata' | 'spec'>): string | undefined {
  const height = rackHeight(rack);
  if (range.to <= height) return undefined;
  return `${range.host} occupies units ${range.from}-${range.to}, beyond the ${height} units of rack ${rack.metadata.name}`;
}

/** Hosts whose rack units overlap, as "bm-1 and bm-2 share unit 10". */
export function unitOverlaps(hosts: Pick<Baremetal, 'metadata' | 'spec'>[]): string[] {
  const uses = hosts
    .map(unitRange)
    .filter((u): u is UnitRange => u !== undefined)
    .sort((a, b) => a.from - b.from || a.host.localeCompare(b.host));
  const overlaps: string[] = [];
  for (let i = 0; i < uses.length; i++) {
    for (let j = i + 1; j < uses.length && uses[j]!.from <= uses[i]!.to; j++) {
      overlaps.push(`${uses[i]!.host} and ${uses[j]!.host} share unit ${uses[j]!.from}`);
    }
  }
  return overlaps;
}

/** What is wrong with one host's units in its rack, given the rack's other hosts. */
export function hostUnitProblems(
  host: Pick<Baremetal, 'metadata' | 'spec'>,
  rack: Pick<Rack, 'metadata' | 'spec'>,
  rackHosts: Pick<Baremetal, 'metadata' | 'spec'>[],
): string[] {
  const range = unitRange(host);
  if (!range) return [];
  const beyond = beyondRack(range, rack);
  const clashes = rackHosts
    .filter((h) => h.metadata.name !== range.host)
    .map(unitRange)
    .filter((u): u is UnitRange => u !== undefined && u.from <= range.to && range.from <= u.to)
    .map((u) => `${range.host} and ${u.host} share unit ${Math.max(u.from, range.from)}`);
  return [...(beyond ? [beyond] : []), ...clashes];
}

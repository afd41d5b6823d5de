// A host's units lie inside its rack and no two hosts of a rack share a unit. Refused here
// only when the rack is known: a host may arrive before its rack (DESIGN.md §4), and then the
// controllers report what does not fit as the UnitsConsistent condition once the rack is there.
import { errors, type StatusCause } from '../machinery/errors.js';
import type { Admitter } from '../api/object-service.js';
import type { Baremetal } from '../kinds/baremetal.js';
import type { Rack } from '../kinds/rack.js';
import { beyondRack, hostUnitProblems, unitRange } from '../kinds/rack-units.js';
import type { WatchCache } from '../store/watch-cache.js';
import { storageKey } from '../store/objects.js';

const HOSTS = 'virtflow.io/baremetals';
const RACKS = 'virtflow.io/racks';

const sameUnits = (a: Baremetal, b: Baremetal | undefined) =>
  b !== undefined && a.spec?.rack === b.spec?.rack && a.spec?.unit === b.spec?.unit && (a.spec?.heightUnits ?? 1) === (b.spec?.heightUnits ?? 1);

export function rackUnitsAdmitter(cache: WatchCache): Admitter {
  return {
    admit({ operation, info, object, oldObject, subresource }) {
      if (operation === 'DELETE' || subresource || info.group !== 'virtflow.io') return;
      if (info.plural === 'baremetals') admitHost(cache, object as unknown as Baremetal, oldObject as unknown as Baremetal | undefined);
      if (info.plural === 'racks' && operation === 'UPDATE') admitRack(cache, object as unknown as Rack);
    },
  };
}

function admitHost(cache: WatchCache, host: Baremetal, old: Baremetal | undefined): void {
  // A host that keeps its place is not judged again (the rack may have changed under it).
  if (unitRange(host) === undefined || sameUnits(host, old)) return;
  const rack = cache.get(RACKS, storageKey({ resource: RACKS, namespace: '', name: host.spec.rack }))?.object as unknown as Rack | undefined;
  if (!rack) return;
  const rackHosts = cache
    .list(HOSTS)
    .map((e) => e.object as unknown as Baremetal)
    .filter((h) => h.spec?.rack === host.spec.rack);
  const problems = hostUnitProblems(host, rack, rackHosts);
  if (problems.length === 0) return;
  const causes: StatusCause[] = problems.map((message) => ({ type: 'FieldValueInvalid', field: 'spec.unit', message: `Invalid value: ${host.spec.unit}: ${message}` }));
  throw errors.invalid('Baremetal', 'virtflow.io', host.metadata.name ?? '', causes);
}

/** A rack may not shrink below the hosts mounted in it. */
function admitRack(cache: WatchCache, rack: Rack): void {
  const beyond = cache
    .list(HOSTS)
    .map((e) => e.object as unknown as Baremetal)
    .filter((h) => h.spec?.rack === rack.metadata.name)
    .flatMap((h) => {
      const range = unitRange(h);
      const problem = range && beyondRack(range, rack);
      return problem ? [problem] : [];
    });
  if (beyond.length === 0) return;
  throw errors.invalid('Rack', 'virtflow.io', rack.metadata.name ?? '', [
    { type: 'FieldValueInvalid', field: 'spec.heightUnits', message: `Invalid value: ${rack.spec.heightUnits}: ${beyond.join('; ')}` },
  ]);
}

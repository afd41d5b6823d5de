// Resource arithmetic shared by the capacity filter, the scorers and the batch accounting.
// The per-host functions run for every host on every decision, so they are written out
// per resource instead of looping over names.

import { defaultOvercommit, type GroupInfo, type OvercommitRatios, type Resources } from './types.js';

/** capacity x overcommit ratio; gpus are never overcommitted. */
export function allocatable(capacity: Readonly<Resources>, group: GroupInfo | undefined): Resources {
  const ratio: Readonly<OvercommitRatios> = group?.overcommit ?? defaultOvercommit;
  return {
    cpu: capacity.cpu * ratio.cpu,
    memory: capacity.memory * ratio.memory,
    storage: capacity.storage * ratio.storage,
    gpu: capacity.gpu,
  };
}

/** Adds `more` to `into` in place (the snapshot's running totals; no allocation per decision). */
export function addInto(into: Resources, more: Readonly<Resources>): void {
  into.cpu += more.cpu;
  into.memory += more.memory;
  into.storage += more.storage;
  into.gpu += more.gpu;
}

/** Takes `less` from `from` in place. */
export function subtractFrom(from: Resources, less: Readonly<Resources>): void {
  from.cpu -= less.cpu;
  from.memory -= less.memory;
  from.storage -= less.storage;
  from.gpu -= less.gpu;
}

export function sumResources(items: Iterable<Readonly<Resources>>): Resources {
  const total: Resources = { cpu: 0, memory: 0, storage: 0, gpu: 0 };
  for (const item of items) addInto(total, item);
  return total;
}

function fraction(used: number, of: number): number {
  const f = used / of;
  return f < 0 ? 0 : f > 1 ? 1 : f;
}

/**
 * Mean fraction of allocatable cpu, memory and storage in use once the request is added,
 * clamped to 0..1. A resource with nothing allocatable is left out rather than divided by.
 */
export function usedFractionAfter(
  allocated: Readonly<Resources>,
  request: Readonly<Resources>,
  alloc: Readonly<Resources>,
): number {
  let sum = 0;
  let counted = 0;
  if (alloc.cpu > 0) {
    sum += fraction(allocated.cpu + request.cpu, alloc.cpu);
    counted++;
  }
  if (alloc.memory > 0) {
    sum += fraction(allocated.memory + request.memory, alloc.memory);
    counted++;
  }
  if (alloc.storage > 0) {
    sum += fraction(allocated.storage + request.storage, alloc.storage);
    counted++;
  }
  return counted === 0 ? 1 : sum / counted;
}

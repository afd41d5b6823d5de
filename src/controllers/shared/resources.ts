// Converting between the API's resource amounts (whole cores, quantity strings) and the plain
// numbers the scheduler and accounting add up (cores, bytes, devices).
import type { ResourceAmounts } from '../../kinds/fields.js';
import { formatQuantity, newQuantity, parsePercent, parseQuantity } from '../../machinery/quantity.js';
import type { Resources } from '../../scheduler/types.js';

export const zero = (): Resources => ({ cpu: 0, memory: 0, storage: 0, gpu: 0 });

function bytes(value: unknown): number {
  if (value === undefined || value === null || value === '') return 0;
  return parseQuantity(value as string | number).toBytes();
}

function whole(value: unknown): number {
  if (value === undefined || value === null || value === '') return 0;
  return typeof value === 'number' ? value : Number(parseQuantity(value as string).value());
}

/** Reads API amounts; throws on a malformed quantity (the schema refuses those first). */
export function fromAmounts(amounts: ResourceAmounts | Record<string, unknown> | undefined): Resources {
  const a = (amounts ?? {}) as Record<string, unknown>;
  return { cpu: whole(a.cpu), memory: bytes(a.memory), storage: bytes(a.storage), gpu: whole(a.gpu) };
}

const BINARY_UNITS: readonly [string, number][] = [['Ei', 2 ** 60], ['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];

/**
 * Byte counts as a binary quantity a person reads: the shortest exact one ("64Gi", "1536Mi")
 * when a unit divides the count, else rounded at the largest unit that keeps at least two
 * digits ("461Gi", not 494780232499: a percent of a group or an overcommit ratio).
 */
export function formatBytes(n: number): string {
  const count = Math.max(0, Math.floor(n));
  const exact = formatQuantity(newQuantity(count, 'BinarySI'));
  if (!/^\d+$/.test(exact)) return exact;
  for (const [suffix, size] of BINARY_UNITS) if (count / size >= 10) return `${Math.round(count / size)}${suffix}`;
  return exact;
}

export function toAmounts(r: Resources): { cpu: number; memory: string; storage: string; gpu: number } {
  return { cpu: Math.floor(r.cpu), memory: formatBytes(r.memory), storage: formatBytes(r.storage), gpu: Math.floor(r.gpu) };
}

export function addResources(a: Resources, b: Resources): Resources {
  return { cpu: a.cpu + b.cpu, memory: a.memory + b.memory, storage: a.storage + b.storage, gpu: a.gpu + b.gpu };
}

export function subtractFloor0(a: Resources, b: Resources): Resources {
  return {
    cpu: Math.max(0, a.cpu - b.cpu),
    memory: Math.max(0, a.memory - b.memory),
    storage: Math.max(0, a.storage - b.storage),
    gpu: Math.max(0, a.gpu - b.gpu),
  };
}

export interface Overcommit {
  cpu: number;
  memory: number;
  storage: number;
}

export function overcommitOf(spec: { overcommit?: Partial<Overcommit> } | undefined): Overcommit {
  return { cpu: spec?.overcommit?.cpu ?? 1, memory: spec?.overcommit?.memory ?? 1, storage: spec?.overcommit?.storage ?? 1 };
}

/** Capacity x overcommit, rounded down; gpus are never overcommitted. */
export function allocatableOf(capacity: Resources, overcommit: Overcommit): Resources {
  return {
    cpu: Math.floor(capacity.cpu * overcommit.cpu),
    memory: Math.floor(capacity.memory * overcommit.memory),
    storage: Math.floor(capacity.storage * overcommit.storage),
    gpu: capacity.gpu,
  };
}

/**
 * A quota limit: whole cores or a quantity, or "NN%" of the group's allocatable. Undefined
 * means not limited.
 */
export function resolveLimit(value: unknown, resource: keyof Resources, groupAllocatable: Resources): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const percent = parsePercent(value);
  if (percent !== undefined) return Math.floor((groupAllocatable[resource] * percent) / 100);
  return resource === 'cpu' || resource === 'gpu' ? whole(value) : bytes(value);
}

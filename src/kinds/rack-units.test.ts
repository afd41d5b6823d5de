import { describe, expect, it } from 'vitest';
import { hostUnitProblems, unitOverlaps } from './rack-units.js';

const host = (name: string, unit?: number, heightUnits?: number) => ({ metadata: { name }, spec: { unit, heightUnits } }) as never;
const rack = (heightUnits?: number) => ({ metadata: { name: 'rk' }, spec: { heightUnits } }) as never;

describe('rack units', () => {
  it.each([
    ['a host on the top unit fits', host('a', 42), [], []],
    ['a 2U host starting on the top unit does not fit', host('a', 42, 2), [], ['a occupies units 42-43, beyond the 42 units of rack rk']],
    ['a host sharing the upper unit of a 2U host overlaps it', host('b', 11), [host('a', 10, 2)], ['b and a share unit 11']],
    ['a host right above a 2U host does not overlap it', host('b', 12), [host('a', 10, 2)], []],
    ['a host without a unit is never judged', host('b'), [host('a', 1)], []],
    ['a host is not compared with itself', host('a', 5), [host('a', 5)], []],
  ])('%s', (_name, h, others, want) => {
    expect(hostUnitProblems(h, rack(), others)).toEqual(want);
  });

  it('lists every pair of overlapping hosts of a rack once', () => {
    expect(unitOverlaps([host('a', 1, 4), host('b', 2), host('c', 4), host('d', 5)])).toEqual(['a and b share unit 2', 'a and c share unit 4']);
  });
});

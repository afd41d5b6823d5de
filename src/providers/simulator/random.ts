// Randomness as a dependency: the simulator draws its failures from an injected source, so a
// test (or `virtflow agent simulate --seed`) can replay exactly the same failures.

/** A source of numbers in [0, 1), like Math.random. */
export type Random = () => number;

/** A small seeded generator (mulberry32): the same seed yields the same sequence. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

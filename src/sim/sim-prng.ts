/**
 * A small seeded pseudo-random generator for the simulated records system (DESIGN.md section 2, test controls).
 * Fault injection must be reproducible from one test run to the next, so nothing here touches `Math.random`.
 */

/** A seeded source of uniform numbers in [0, 1). */
export interface SimRandom {
  /** The next uniform number in [0, 1). */
  next(): number;
  /** A uniform integer in [0, max] (inclusive); 0 when `max` ≤ 0. */
  intUpTo(max: number): number;
}

/**
 * Mulberry32: 32 bits of state, fast and good enough for fault dice. Same seed → same sequence, which is what
 * makes a test that sets `errorRate: 0.5` reproducible.
 */
export function createSimRandom(seed: number): SimRandom {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    intUpTo(max: number): number {
      if (!(max > 0)) return 0;
      return Math.floor(next() * (Math.floor(max) + 1));
    },
  };
}

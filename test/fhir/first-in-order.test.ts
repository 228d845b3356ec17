/**
 * `firstInOrder` (fhir/search/search-sources.ts) pages tens of thousands of computed slots by keeping the best
 * `limit` as it goes: checked against sorting everything and slicing, over seeded random inputs with many ties in
 * the first key (as slots starting at the same time on several schedules have).
 */
import { describe, expect, it } from 'vitest';
import { firstInOrder } from '../../fhir/search/search-sources.js';
import { createSeededRandom } from '../../src/sim/seeded-random.js';

interface Row {
  key: number;
  id: string;
}

const byKeyThenId = (a: Row, b: Row) => a.key - b.key || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe('firstInOrder', () => {
  it.each([1, 2, 3, 4, 5])('gives what a full sort and slice gives (seed %i)', (seed) => {
    const random = createSeededRandom(seed);
    for (let round = 0; round < 50; round++) {
      const length = random.int(0, 400);
      const rows: Row[] = Array.from({ length }, (_, i) => ({ key: random.int(0, 30), id: `r${i}` }));
      const limit = random.int(0, 60);
      const expected = [...rows].sort(byKeyThenId).slice(0, limit);
      expect(firstInOrder([...rows], limit, byKeyThenId)).toEqual(expected);
      // Backwards, as a page before a position is taken.
      const reversed = (a: Row, b: Row) => byKeyThenId(b, a);
      expect(firstInOrder([...rows], limit, reversed)).toEqual([...rows].sort(reversed).slice(0, limit));
    }
  });

  it('takes the first rows of a long input in order, and nothing for a limit of 0', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ key: (i * 7919) % 1000, id: `r${i}` }));
    expect(firstInOrder([...rows], 3, byKeyThenId).map((r) => r.key)).toEqual([0, 1, 2]);
    expect(firstInOrder([...rows], 0, byKeyThenId)).toEqual([]);
  });
});

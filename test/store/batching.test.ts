import { describe, expect, it } from 'vitest';
import { VALUES_PER_IN_LIST, chunk, selectInChunks } from '../../src/store/batching.js';

describe('selectInChunks', () => {
  it('looks up the distinct values in slices of at most one in-list each, and gathers every slice’s rows in order', async () => {
    const values = Array.from({ length: VALUES_PER_IN_LIST + 5 }, (_, i) => i);
    const parts: number[][] = [];
    const rows = await selectInChunks([...values, 3, 4, VALUES_PER_IN_LIST + 1], async (part) => {
      parts.push(part);
      return part.filter((v) => v % 1000 === 0).map((v) => ({ v }));
    });
    expect(parts.map((p) => p.length)).toEqual([VALUES_PER_IN_LIST, 5]);
    expect(parts.flat()).toEqual(values);
    expect(rows.map((r) => r.v)).toEqual(values.filter((v) => v % 1000 === 0));
  });

  it('runs no query for no values', async () => {
    let calls = 0;
    expect(await selectInChunks([], async () => [++calls])).toEqual([]);
    expect(calls).toBe(0);
  });
});

describe('chunk', () => {
  it('cuts a list into consecutive slices and refuses a size that is not a positive integer', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(() => chunk([1], 0)).toThrow(RangeError);
  });
});

/** The memory behind kept reads (`src/store/kept-answers.ts`): bounded in number and in size. */
import { describe, expect, it } from 'vitest';
import { keptAnswers } from '../../src/store/kept-answers.js';

const page = (chars: number) => [{ resource: 'x'.repeat(chars), n: 1 }];

describe('kept answers', () => {
  it('answers only for the stamp the rows were read at, frozen', () => {
    const kept = keptAnswers();
    const rows = kept.set('k', 's1', [{ a: 1 }]);
    expect(Object.isFrozen(rows) && Object.isFrozen(rows[0])).toBe(true);
    expect(kept.get('k', 's1')).toBe(rows);
    expect(kept.get('k', 's2')).toBeUndefined();
  });

  it('forgets the least recently stored answer beyond the count', () => {
    const kept = keptAnswers({ maxAnswers: 2 });
    kept.set('a', 's', [1]);
    kept.set('b', 's', [2]);
    kept.set('a', 's', [1]);
    kept.set('c', 's', [3]);
    expect(['a', 'b', 'c'].map((key) => kept.get(key, 's') !== undefined)).toEqual([true, false, true]);
  });

  it('keeps the strings it holds within its weight, and does not keep an answer heavier than a sixteenth of it', () => {
    const kept = keptAnswers({ maxWeight: 16_000 });
    for (let i = 0; i < 20; i++) kept.set(`p${i}`, 's', page(990));
    const held = Array.from({ length: 20 }, (_, i) => kept.get(`p${i}`, 's') !== undefined);
    // 998 each (990 characters and one number): 16 fit, the 4 stored first are gone.
    expect(held.filter(Boolean)).toHaveLength(16);
    expect(held.slice(0, 4)).toEqual([false, false, false, false]);
    const heavy = kept.set('heavy', 's', page(1_001));
    expect(heavy).toHaveLength(1);
    expect(kept.get('heavy', 's')).toBeUndefined();
    expect(kept.get('p19', 's')).toBeDefined();
  });
});

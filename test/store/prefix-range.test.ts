import type { Patient } from '@medplum/fhirtypes';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { prefixUpperBound } from '../../src/store/condition-sql.js';
import { writeChanges } from '../../src/store/resource-writes.js';
import { searchTokensFor } from '../../src/store/search-parameters/index-rows.js';
import { matchingIds } from '../../src/store/search-query.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

/** Family names whose folded tokens sit at the edges of a prefix range, multi-byte ones included. */
const FAMILIES = [
  'Smith',
  'Smithson',
  'Smit',
  'Smiu',
  'Smi',
  'Sm',
  'Ｓｍｉｔｈ',
  '李',
  '李四',
  '李\u{ffff}',
  '\u{d7ff}x',
  '\u{e000}x',
  '𝔊auss',
  '𝔊',
  'Zz',
  "O'Brien",
  'Núñez-García',
];

const patient = (i: number, family: string): Patient & { id: string } => ({
  resourceType: 'Patient',
  id: `p${i}`,
  name: [{ family, given: ['A'] }],
});

describe('prefixUpperBound', () => {
  it('is above every string with the prefix and not above the prefix, in code point order', () => {
    const byCodePoint = (a: string, b: string) => {
      const x = [...a].map((c) => c.codePointAt(0) as number);
      const y = [...b].map((c) => c.codePointAt(0) as number);
      for (let i = 0; i < Math.min(x.length, y.length); i++)
        if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
      return x.length - y.length;
    };
    for (const prefix of ['a', 'smith', '李', '\u{d7ff}', '𝔊', 'a\u{10ffff}', '\u{ffff}']) {
      const upper = prefixUpperBound(prefix) as string;
      expect(byCodePoint(upper, prefix)).toBeGreaterThan(0);
      for (const tail of ['', 'a', '\u{ffff}', '\u{10ffff}', '\u{10ffff}\u{10ffff}'])
        expect(byCodePoint(prefix + tail, upper), JSON.stringify([prefix, tail])).toBeLessThan(0);
    }
    expect(prefixUpperBound('a\u{10ffff}')).toBe('b');
    expect(prefixUpperBound('\u{10ffff}')).toBeUndefined();
    expect(prefixUpperBound('\u{d7ff}')).toBe('\u{e000}');
  });
});

describe.each(testStoreFactories)('name prefix as an indexed range ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it('matches exactly the tokens that start with the prefix, for every prefix of every token', async () => {
    const { store } = testStore();
    const patients = FAMILIES.map((family, i) => patient(i, family));
    await writeChanges(
      store,
      't',
      patients.map((resource) => ({ op: 'upsert' as const, resource })),
    );
    const tokens = new Map(
      patients.map((p) => [p.id as string, searchTokensFor(p).filter((t) => t.param === 'family')]),
    );
    const prefixes = new Set<string>(['', 'zzz', '\u{10ffff}']);
    for (const list of tokens.values())
      for (const { value } of list) {
        const points = [...value];
        for (let n = 1; n <= points.length; n++) prefixes.add(points.slice(0, n).join(''));
      }
    const wrong: string[] = [];
    for (const prefix of prefixes) {
      const expected = [...tokens]
        .filter(([, list]) => list.some((t) => t.value.startsWith(prefix)))
        .map(([id]) => id)
        .sort();
      const found = await matchingIds(
        store,
        { tenantId: 't', resourceType: 'Patient' },
        {
          op: 'token',
          param: 'family',
          where: { op: 'starts-with', field: 'value', value: prefix },
        },
      );
      if (JSON.stringify([...found].sort()) !== JSON.stringify(expected))
        wrong.push(`${JSON.stringify(prefix)}: ${JSON.stringify(found)} ≠ ${JSON.stringify(expected)}`);
    }
    expect(wrong).toEqual([]);
    expect(prefixes.size).toBeGreaterThan(40);
  });
});

describe.each(testStoreFactories)('planner statistics ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it('keeps per-index statistics after ANALYZE but no SQLite STAT4 samples, and answers the same searches', async () => {
    const { store } = testStore();
    await writeChanges(
      store,
      't',
      FAMILIES.map((family, i) => ({ op: 'upsert' as const, resource: patient(i, family) })),
    );
    const search = () =>
      matchingIds(
        store,
        { tenantId: 't', resourceType: 'Patient' },
        { op: 'token', param: 'family', where: { op: 'starts-with', field: 'value', value: 'smi' } },
      );
    const before = await search();
    await store.analyze();
    expect(await search()).toEqual(before);
    if (store.dialect === 'sqlite') {
      const count = async (table: string) =>
        Number(
          (await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(store.db)).rows[0]
            ?.n,
        );
      expect(await count('sqlite_stat1')).toBeGreaterThan(0);
      expect(await count('sqlite_stat4')).toBe(0);
    }
  });
});

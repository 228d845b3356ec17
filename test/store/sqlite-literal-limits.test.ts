import { describe, expect, it } from 'vitest';
import { searchPageRows } from '../../src/store/search-query.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

// SQLite re-prepares a statement with a bound LIMIT on every execution (issue 16), so limits go into the SQL.
describe.each(testStoreFactories)('row limits ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it('writes a query builder limit and offset into SQLite statements as literals', () => {
    const { store } = testStore();
    const compiled = store.db.selectFrom('resources').select('id').limit(7).offset(3).compile();
    if (store.dialect === 'sqlite') {
      expect(compiled.sql).toMatch(/limit 7 offset 3$/);
      expect(compiled.parameters).toEqual([]);
    } else {
      expect(compiled.parameters).toEqual([7, 3]);
    }
  });

  it('still limits rows, and refuses a limit that is not a row count', async () => {
    const { store } = testStore();
    await store.db
      .insertInto('journal_counters')
      .values([1, 2, 3].map((n) => ({ tenant_id: `t${n}`, last_seq: n })))
      .execute();
    const rows = await store.db
      .selectFrom('journal_counters')
      .select('tenant_id')
      .orderBy('tenant_id')
      .limit(2)
      .offset(1)
      .execute();
    expect(rows.map((r) => r.tenant_id)).toEqual(['t2', 't3']);
    const page = (limit: number) =>
      searchPageRows(store, {
        tenantId: 'none',
        resourceType: 'Patient',
        condition: { op: 'true' },
        sort: [],
        idDescending: false,
        position: undefined,
        limit,
      });
    await expect(page(1)).resolves.toEqual([]);
    await expect(page(1.5)).rejects.toThrow(RangeError);
  });
});

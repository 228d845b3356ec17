import type { Patient } from '@medplum/fhirtypes';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/database.js';
import { writeChanges } from '../../src/store/resource-writes.js';
import { testStoreFactories } from '../support/test-stores.js';

const postgres = testStoreFactories.filter((f) => f.name === 'postgres');

async function writePatients(store: Store): Promise<void> {
  const changes = Array.from({ length: 50 }, (_, i) => {
    const resource: Patient & { id: string } = {
      resourceType: 'Patient',
      id: `p${i}`,
      name: [{ family: `F${i}` }],
    };
    return { op: 'upsert' as const, resource };
  });
  await writeChanges(store, 'demo', changes);
}

/** Rows of planner statistics PostgreSQL holds for a table of a schema. */
async function statisticsRows(store: Store, schema: string, table: string): Promise<number> {
  const result = await sql<{ n: string }>`
    select count(*) as n from pg_statistic s join pg_class c on c.oid = s.starelid
    join pg_namespace n on n.oid = c.relnamespace where n.nspname = ${schema} and c.relname = ${table}`.execute(
    store.db,
  );
  return Number(result.rows[0]?.n);
}

// A pass refreshes statistics mid-way (sync/apply-records.ts), in a database other stores' schemas may share.
describe.each(postgres)('store.analyze() on PostgreSQL ($name)', (factory) => {
  it("refreshes the store's own schema's statistics and leaves other schemas' alone", async () => {
    const mine = await factory.create();
    const other = await factory.create();
    try {
      await writePatients(mine.store);
      await writePatients(other.store);
      await mine.store.analyze();
      expect(await statisticsRows(mine.store, mine.schema as string, 'resources')).toBeGreaterThan(0);
      expect(await statisticsRows(mine.store, other.schema as string, 'resources')).toBe(0);
      // Vacuumed too (what sets the visibility map, once no older transaction can still see the rows' absence;
      // the other tests' transactions may hold that back here, so the vacuum itself is what is checked).
      const vacuums = await sql<{ schema: string; n: number }>`
        select schemaname as schema, vacuum_count as n from pg_stat_all_tables
        where schemaname in (${mine.schema as string}, ${other.schema as string}) and relname = 'resources'`.execute(
        mine.store.db,
      );
      const counts = Object.fromEntries(vacuums.rows.map((row) => [row.schema, Number(row.n)]));
      expect(counts).toEqual({ [mine.schema as string]: 1, [other.schema as string]: 0 });
    } finally {
      await mine.dispose();
      await other.dispose();
    }
  });
});

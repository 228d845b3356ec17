import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/database.js';
import { MIGRATION_TABLE, migrateToLatest } from '../../src/store/migrate.js';
import { staticMigrationProvider } from '../../src/store/migrations/migration-provider.js';
import { testStoreFactories } from '../support/test-stores.js';

const ALL_MIGRATIONS = Object.keys(await staticMigrationProvider.getMigrations()).sort();

const TABLES = [
  'audit_counters',
  'audit_events',
  'availability_versions',
  'booking_appointment_claims',
  'booking_claims',
  'booking_sagas',
  'change_journal',
  'idempotency_records',
  'journal_counters',
  'outbox',
  'resource_history',
  'resources',
  'search_tokens',
  'secret_key_checks',
  'subscriptions',
  'sync_state',
  'upstream_ids',
];

/** Dialect-neutral: selecting from a missing table fails on both. */
async function tableExists(store: Store, table: string): Promise<boolean> {
  try {
    await sql`select 1 from ${sql.table(table)} limit 1`.execute(store.db);
    return true;
  } catch {
    return false;
  }
}

describe.each(testStoreFactories)('migrateToLatest ($name)', (factory) => {
  it('creates every store table on a fresh database', async () => {
    const handle = await factory.create({ migrate: false });
    try {
      await expect(tableExists(handle.store, 'resources')).resolves.toBe(false);
      expect(await migrateToLatest(handle.store)).toEqual({ applied: ALL_MIGRATIONS });
      for (const table of TABLES) await expect(tableExists(handle.store, table)).resolves.toBe(true);
    } finally {
      await handle.dispose();
    }
  });

  it('is a no-op when run a second time', async () => {
    const handle = await factory.create({ migrate: false });
    try {
      await migrateToLatest(handle.store);
      await handle.store.write((trx) =>
        trx.insertInto('journal_counters').values({ tenant_id: 'a', last_seq: 7 }).execute(),
      );
      expect(await migrateToLatest(handle.store)).toEqual({ applied: [] });
      const again = await handle.openAnother();
      expect(await migrateToLatest(again)).toEqual({ applied: [] });
      const row = await handle.store.db.selectFrom('journal_counters').selectAll().executeTakeFirst();
      expect(row).toEqual({ tenant_id: 'a', last_seq: 7 });
    } finally {
      await handle.dispose();
    }
  });

  it('applies the migrations once when two stores start on the same database at once', async () => {
    const handle = await factory.create({ migrate: false });
    try {
      const other = await handle.openAnother();
      const reports = await Promise.all([migrateToLatest(handle.store), migrateToLatest(other)]);
      expect(reports.map((r) => r.applied).flat()).toEqual(ALL_MIGRATIONS);
      const rows = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)}`.execute(
        handle.store.db,
      );
      expect(rows.rows.map((r) => r.name)).toEqual(ALL_MIGRATIONS);
    } finally {
      await handle.dispose();
    }
  });

  it('refuses to run against a store migrated by a newer version', async () => {
    const handle = await factory.create();
    try {
      await sql`insert into ${sql.table(MIGRATION_TABLE)} (name, applied_at) values ('9999-future', 'x')`.execute(
        handle.store.db,
      );
      await expect(migrateToLatest(handle.store)).rejects.toThrow(/newer version.*9999-future/);
    } finally {
      await handle.dispose();
    }
  });

  it('applies nothing when a migration fails', async () => {
    const handle = await factory.create({ migrate: false });
    try {
      // A table in the way makes 0001 fail part-way through (after its first statements ran).
      await handle.store.write((trx) =>
        trx.schema.createTable('sync_state').addColumn('x', 'integer').execute(),
      );
      await expect(migrateToLatest(handle.store)).rejects.toThrow(/migration 0001-initial failed/);
      await expect(tableExists(handle.store, 'resources')).resolves.toBe(false);
      await expect(tableExists(handle.store, MIGRATION_TABLE)).resolves.toBe(false);
    } finally {
      await handle.dispose();
    }
  });
});

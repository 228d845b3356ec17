/**
 * Bringing a store's schema up to date, at start-up and from `switchboard migrate` (DESIGN.md section 3).
 *
 * A small runner instead of kysely's `Migrator`: that one looks for its bookkeeping table through catalog
 * introspection of every schema in the database, which fails when another schema is dropped at the same moment
 * (PostgreSQL error 3F000 — seen with per-test schemas) and cannot see which schema is ours. Here the bookkeeping
 * table is addressed like any other table, and every pending migration runs in ONE write transaction under the
 * dialect's migration lock, so concurrent starts apply each migration exactly once and a failure leaves the
 * schema as it was.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Store } from './database.js';
import { staticMigrationProvider } from './migrations/migration-provider.js';

/** What {@link migrateToLatest} did. */
export interface MigrationReport {
  /** Names of the migrations applied by this call, in order; empty when the store was already current. */
  applied: string[];
}

/** The table recording applied migrations. */
export const MIGRATION_TABLE = 'store_migrations';

/**
 * Applies every pending migration of the frozen list, in name order, in one write transaction. Throws (and
 * applies nothing) when a migration fails, or when the database records a migration this build does not know —
 * a newer Switchboard has migrated it, and running older code against it would be unsafe.
 *
 * @see DESIGN.md section 3
 */
export async function migrateToLatest(store: Store): Promise<MigrationReport> {
  const migrations = await staticMigrationProvider.getMigrations();
  const names = Object.keys(migrations).sort();
  return store.write(async (trx) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against no schema type
    const db = trx as unknown as Kysely<any>;
    const lock = store.capabilities.migrationLockSql;
    if (lock !== undefined) await sql.raw(lock).execute(db);
    await db.schema
      .createTable(MIGRATION_TABLE)
      .ifNotExists()
      .addColumn('name', 'text', (c) => c.notNull().primaryKey())
      .addColumn('applied_at', 'text', (c) => c.notNull())
      .execute();
    const rows = (await db.selectFrom(MIGRATION_TABLE).select('name').execute()) as Array<{ name: string }>;
    const done = new Set(rows.map((row) => row.name));
    const unknown = [...done].filter((name) => !(name in migrations));
    if (unknown.length > 0) {
      throw new Error(
        `the store was migrated by a newer version (unknown migrations: ${unknown.join(', ')})`,
      );
    }
    const applied: string[] = [];
    for (const name of names) {
      if (done.has(name)) continue;
      try {
        await migrations[name]?.up(db);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`migration ${name} failed: ${reason}`, { cause: error });
      }
      await db.insertInto(MIGRATION_TABLE).values({ name, applied_at: store.now().toISOString() }).execute();
      applied.push(name);
    }
    return { applied };
  });
}
